// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../../src/AggregatorV3Interface.sol";

/// @title A Chainlink-style price feed its owner updates by hand
/// @notice For the examples and demos on a devnet that has no oracle network:
/// `update` posts a new round at block.timestamp; `setRound` posts any round
/// (an old one, one from the future, an incomplete one) to see how
/// `inferWithFeeds` treats it. Not for production.
contract ToyPriceFeed is AggregatorV3Interface {
    address public immutable owner;
    uint8 public immutable decimals;
    string public description;
    uint256 public constant version = 1;

    uint80 private _roundId;
    int256 private _answer;
    uint256 private _startedAt;
    uint256 private _updatedAt;
    uint80 private _answeredInRound;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error NotOwner(address account);
    error NoSuchRound(uint80 roundId);

    constructor(uint8 decimals_, string memory description_) {
        owner = msg.sender;
        decimals = decimals_;
        description = description_;
    }

    /// Posts `answer` as a new round observed now.
    function update(int256 answer) external {
        setRound(_roundId + 1, answer, block.timestamp, _roundId + 1);
    }

    /// Posts any round, as a misbehaving or lagging feed would.
    function setRound(uint80 roundId, int256 answer, uint256 updatedAt, uint80 answeredInRound) public {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound) =
            (roundId, answer, updatedAt, updatedAt, answeredInRound);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound);
    }

    /// Only the latest round is kept.
    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (roundId != _roundId) revert NoSuchRound(roundId);
        return (_roundId, _answer, _startedAt, _updatedAt, _answeredInRound);
    }
}
