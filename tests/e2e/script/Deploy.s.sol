// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Counter} from "../contracts/Counter.sol";

/// The cheatcodes a broadcast needs (forge-std's Vm, reduced; no library is
/// installed so that nothing is downloaded).
interface Vm {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// Deploy deploys a Counter and sets it, as `forge script --broadcast` does
/// for a dApp.
contract Deploy {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    function run() external returns (Counter counter) {
        vm.startBroadcast();
        counter = new Counter();
        counter.setCount(41);
        counter.increment();
        vm.stopBroadcast();
    }
}
