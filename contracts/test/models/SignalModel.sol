// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMockModel} from "../../src/MockInference.sol";
import {TensorCodec} from "../../src/TensorCodec.sol";

/// The signal model's formula (examples/trading/signal.model.txt), for
/// MockInference: logits [hold, buy, sell] = [2, oracle - amm, amm - oracle],
/// each clamped to int8. contracts/examples_test.go checks it equals the
/// real model on every input.
contract SignalModel is IMockModel {
    function run(bytes calldata input) external pure returns (bytes memory out) {
        int256 d = int256(TensorCodec.int8At(input, 0)) - int256(TensorCodec.int8At(input, 1));
        out = new bytes(3);
        TensorCodec.setInt8(out, 0, 2);
        TensorCodec.setInt8(out, 1, TensorCodec.clampInt8(d));
        TensorCodec.setInt8(out, 2, TensorCodec.clampInt8(-d));
    }
}
