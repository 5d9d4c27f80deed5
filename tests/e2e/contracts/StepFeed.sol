// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A Chainlink-style price feed whose answer the test sets; a set answer is
/// updated at the block's time.
contract StepFeed {
    int256 public answer;
    uint256 public updatedAt;

    function set(int256 answer_) external {
        answer = answer_;
        updatedAt = block.timestamp;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (1, answer, updatedAt, updatedAt, 1);
    }
}
