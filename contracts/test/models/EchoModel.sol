// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMockModel} from "../../src/MockInference.sol";

/// Returns its input: what the precompile's tests call a Clamp to the full
/// range (vm/inference_test.go), so a test sees the input the model saw.
contract EchoModel is IMockModel {
    function run(bytes calldata input) external pure returns (bytes memory) {
        return input;
    }
}
