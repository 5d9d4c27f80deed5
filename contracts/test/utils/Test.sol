// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Vm, VM_ADDRESS} from "./Vm.sol";
import {INFERENCE_ADDRESS} from "../../src/IInference.sol";
import {MODEL_REGISTRY_ADDRESS} from "../../src/IModelRegistry.sol";
import {MockInference} from "../../src/MockInference.sol";

/// @title What every test here starts from
/// @notice `installMock` puts MockInference where the precompile lives;
/// `installRegistry` puts the registry's committed genesis artifact (the
/// exact runtime code genesis deploys, with no constructor) at its address.
abstract contract Test {
    Vm internal constant vm = Vm(VM_ADDRESS);

    function installMock() internal returns (MockInference mock) {
        vm.etch(INFERENCE_ADDRESS, address(new MockInference()).code);
        vm.label(INFERENCE_ADDRESS, "InferencePrecompile(mock)");
        return MockInference(INFERENCE_ADDRESS);
    }

    function installRegistry() internal {
        string memory json = vm.readFile("artifacts/ModelRegistry.json");
        vm.etch(MODEL_REGISTRY_ADDRESS, vm.parseJsonBytes(json, ".runtimeBytecode"));
        vm.label(MODEL_REGISTRY_ADDRESS, "ModelRegistry");
    }

    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(int256 a, int256 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(address a, address b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(bytes32 a, bytes32 b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(bytes memory a, bytes memory b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(string memory a, string memory b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertEq(bool a, bool b, string memory what) internal pure {
        vm.assertEq(a, b, what);
    }

    function assertTrue(bool c, string memory what) internal pure {
        vm.assertTrue(c, what);
    }

    function assertFalse(bool c, string memory what) internal pure {
        vm.assertFalse(c, what);
    }
}
