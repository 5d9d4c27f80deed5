// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Clock sees block.timestamp and guards freshness the way a dApp does: a
/// price stamped at `updatedAt` may be used only while it is at most
/// `maxAge` seconds old.
contract Clock {
    uint256 public stampedAt;
    uint256 public updatedAt;
    uint256 public price;

    event Stamped(uint256 timestamp);

    error Stale(uint256 age, uint256 maxAge);

    /// currentTime returns block.timestamp as the contract sees it.
    function currentTime() external view returns (uint256) {
        return block.timestamp;
    }

    /// stamp stores and emits the block's timestamp.
    function stamp() external {
        stampedAt = block.timestamp;
        emit Stamped(block.timestamp);
    }

    function setPrice(uint256 p) external {
        price = p;
        updatedAt = block.timestamp;
    }

    /// usePrice reverts with Stale once the price is older than maxAge.
    function usePrice(uint256 maxAge) external returns (uint256) {
        uint256 age = block.timestamp - updatedAt;
        if (age > maxAge) revert Stale(age, maxAge);
        stampedAt = block.timestamp;
        return price;
    }
}
