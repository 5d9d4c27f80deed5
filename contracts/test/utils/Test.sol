// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceTest} from "../../src/forge/InferenceTest.sol";
import {MODEL_REGISTRY_ADDRESS} from "../../src/IModelRegistry.sol";

/// @title What every test here starts from
/// @notice The SDK's `InferenceTest` (`vm`, `installMock`, the assertions:
/// one declaration of the cheatcodes, in src/forge/Vm.sol), plus
/// `installRegistry`, which puts the registry's committed genesis artifact
/// (the exact runtime code genesis deploys, with no constructor) at its
/// address.
abstract contract Test is InferenceTest {
    function installRegistry() internal {
        string memory json = vm.readFile("artifacts/ModelRegistry.json");
        vm.etch(MODEL_REGISTRY_ADDRESS, vm.parseJsonBytes(json, ".runtimeBytecode"));
        vm.label(MODEL_REGISTRY_ADDRESS, "ModelRegistry");
    }
}
