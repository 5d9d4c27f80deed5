// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMockModel} from "../../src/MockInference.sol";
import {TensorCodec} from "../../src/TensorCodec.sol";

/// The fraud model's formula (examples/classifier/fraud.model.txt), for
/// MockInference: logits [ok, fraud] = [0, x0 + x1 + x2 + 2*x3 - 200],
/// clamped to int8. contracts/examples_test.go checks it against the real
/// model.
contract FraudModel is IMockModel {
    function run(bytes calldata input) external pure returns (bytes memory out) {
        int256 s = int256(TensorCodec.int8At(input, 0)) + TensorCodec.int8At(input, 1) + TensorCodec.int8At(input, 2)
            + 2 * int256(TensorCodec.int8At(input, 3)) - 200;
        out = new bytes(2);
        TensorCodec.setInt8(out, 1, TensorCodec.clampInt8(s));
    }
}
