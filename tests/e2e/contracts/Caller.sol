// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Counter} from "./Counter.sol";

/// Caller makes a nested call, for call-tracer tests.
contract Caller {
    function poke(Counter c) external returns (uint256) {
        c.increment();
        return c.count();
    }
}
