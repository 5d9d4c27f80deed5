// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Counter: state, a view and an event, for deploy/call/log tests.
contract Counter {
    uint256 public count;

    event Incremented(address indexed by, uint256 newCount);

    function increment() external {
        count += 1;
        emit Incremented(msg.sender, count);
    }

    function setCount(uint256 value) external {
        count = value;
    }
}
