// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Chainlink's AggregatorV3Interface, as the inference precompile reads it
/// @notice `inferWithFeeds` static-calls `latestRoundData()` with 50,000 gas.
/// The same five functions as the npm package chainlink/contracts, declared here so that the
/// SDK needs no package.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
