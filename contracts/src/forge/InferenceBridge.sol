// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ForgeVm, FORGE_VM_ADDRESS} from "./Vm.sol";
import {INFERENCE_ADDRESS} from "../IInference.sol";

/// @title The inference precompile inside a forge script's simulation
/// @notice `forge script --rpc-url URL` runs the script on forge's own EVM,
/// forked from the chain at URL, where the precompile's address holds only
/// the chain's one-byte stub (0xFE): any call to a model fails there with
/// InvalidFEOpcode. `InferenceScript` puts this contract's code at the
/// precompile's address for the script's run. Each call it gets, it forwards
/// with forge's `vm.rpc` cheatcode as an `eth_call` to the chain's real
/// precompile (at the latest block), and answers with what the chain
/// answered: the same output bytes, or the same revert data (StaleInput,
/// ModelNotFound, ...). It then burns the gas the precompile charged, so
/// forge's gas figures for the script's transactions stay honest.
///
/// The chain evaluates the call against its own latest state: a model or a
/// price feed that the script itself creates earlier in the same run is not
/// there yet (broadcast first, then call), and "now" is the latest block's
/// timestamp.
contract InferenceBridge {
    ForgeVm private constant vm = ForgeVm(FORGE_VM_ADDRESS);

    /// The address at which the eth_call's state override puts the catcher
    /// (below); nothing lives there on a real chain.
    address private constant CATCHER = address(uint160(0x0A00CA7C4E5));

    /// Runtime code that static-calls the precompile with its own calldata
    /// and returns abi.encodePacked(success, gasUsed, returndata) instead of
    /// reverting, so that revert data survives vm.rpc (which turns a
    /// JSON-RPC error into a string):
    ///   GAS; CALLDATACOPY(0, 0, CALLDATASIZE);
    ///   STATICCALL(GAS, 0x0A00, 0, CALLDATASIZE, 0, 0); MSTORE(0, success);
    ///   MSTORE(32, gasBefore - GAS); RETURNDATACOPY(64, 0, RETURNDATASIZE);
    ///   RETURN(0, 64 + RETURNDATASIZE)
    bytes private constant CATCHER_CODE =
        hex"5a365f5f375f5f365f610a005afa5f525a9003602052" hex"3d5f60403e3d6040015ff3";

    fallback(bytes calldata input) external returns (bytes memory) {
        string memory params = string.concat(
            '[{"to":"',
            vm.toString(CATCHER),
            '","data":"',
            vm.toString(input),
            '"},"latest",{"',
            vm.toString(CATCHER),
            '":{"code":"',
            vm.toString(CATCHER_CODE),
            '"}}]'
        );
        bytes memory answer = vm.rpc("eth_call", params);
        require(answer.length >= 64, "InferenceBridge: short answer from the chain");
        (bool ok, uint256 gasUsed) = abi.decode(answer, (bool, uint256));
        bytes memory out = new bytes(answer.length - 64);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = answer[64 + i];
        }
        _burn(gasUsed);
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        return out;
    }

    /// _burn spends `amount` gas, or all there is (out of gas, as the
    /// precompile would run out) when there is less.
    function _burn(uint256 amount) private view {
        uint256 left = gasleft();
        uint256 stop = left > amount ? left - amount : 0;
        while (gasleft() > stop) {}
    }
}
