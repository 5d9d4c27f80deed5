// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceScript} from "@infergeth/contracts/src/forge/InferenceScript.sol";
import {INFERENCE, IInference} from "@infergeth/contracts/src/IInference.sol";
import {Classifier} from "../src/Classifier.sol";

/// Checks the model on the chain, asks it once, and deploys a Classifier:
///
///   forge script script/Deploy.s.sol --rpc-url devnet --broadcast \
///     --private-key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
///
/// InferenceScript makes the model calls below work in forge's simulation
/// (they go to the chain's precompile). MODEL_ID picks another model.
contract Deploy is InferenceScript {
    // The devnet's demo model `mlp` (tests/vectors/mlp in the infergeth repository).
    bytes32 constant MLP = 0x47708a9201a89091e3f0299afea021b84d6f39a54da87b62abe203316c310f71;

    function run() external returns (Classifier classifier, bytes memory sampleOutput, uint64 modelGas) {
        bytes32 id = vm.envOr("MODEL_ID", MLP);
        IInference.ModelInfo memory info = INFERENCE.modelInfo(id); // reverts ModelNotFound(id) if absent
        modelGas = info.gas;
        sampleOutput = INFERENCE.infer(id, new bytes(info.inputBytes)); // the model's answer to zeros
        vm.startBroadcast();
        classifier = new Classifier(id);
        vm.stopBroadcast();
    }
}
