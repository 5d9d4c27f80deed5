// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ForgeVm, FORGE_VM_ADDRESS} from "./Vm.sol";
import {InferenceBridge} from "./InferenceBridge.sol";
import {INFERENCE_ADDRESS} from "../IInference.sol";

/// @title A forge script that may call models
/// @notice Inherit it instead of forge-std's `Script`; nothing else changes:
///
///   contract Deploy is InferenceScript {
///       function run() external {
///           bytes memory out = INFERENCE.infer(modelId, input); // works
///           vm.startBroadcast();
///           new MyDApp(modelId);                                // so does its constructor
///           vm.stopBroadcast();
///       }
///   }
///
///   forge script script/Deploy.s.sol --rpc-url devnet --broadcast --private-key $KEY
///
/// forge runs a script on its own EVM, forked from the chain, where the
/// precompile's address holds the chain's one-byte stub. Before the script
/// runs, this constructor installs `InferenceBridge` there, which answers
/// every call through the chain's real precompile (eth_call, latest block).
/// It does nothing when there is no stub to replace (a forge test with
/// `MockInference` etched, or no fork at all).
abstract contract InferenceScript {
    ForgeVm internal constant vm = ForgeVm(FORGE_VM_ADDRESS);

    constructor() {
        if (INFERENCE_ADDRESS.code.length == 1 && INFERENCE_ADDRESS.code[0] == 0xFE) {
            vm.etch(INFERENCE_ADDRESS, type(InferenceBridge).runtimeCode);
            vm.allowCheatcodes(INFERENCE_ADDRESS);
            vm.label(INFERENCE_ADDRESS, "InferencePrecompile(bridge to the chain)");
        }
    }
}
