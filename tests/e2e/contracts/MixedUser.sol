// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The part of IInference (contracts/src/IInference.sol) this contract uses.
interface IInferenceMixed {
    struct Stamp {
        uint32 inputIndex;
        uint64 observedAt;
        uint64 maxAge;
    }

    struct Feed {
        address aggregator;
        uint32 inputIndex;
        uint64 maxAge;
    }

    function inferFreshWithFeeds(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps, Feed[] calldata feeds)
        external
        view
        returns (bytes memory);
}

/// Calls a model that declares a stamped and a fed element, in a
/// transaction, and keeps the answer in state.
contract MixedUser {
    IInferenceMixed constant INFERENCE = IInferenceMixed(address(0x0A00));

    bytes public last;

    /// Stamps element `stamped` as observed in this block and binds element
    /// `fed` to `feed`.
    function run(bytes32 modelId, bytes calldata input, uint32 stamped, uint32 fed, address feed, uint64 maxAge)
        external
        returns (bytes memory out)
    {
        IInferenceMixed.Stamp[] memory stamps = new IInferenceMixed.Stamp[](1);
        stamps[0] = IInferenceMixed.Stamp(stamped, uint64(block.timestamp), maxAge);
        IInferenceMixed.Feed[] memory feeds = new IInferenceMixed.Feed[](1);
        feeds[0] = IInferenceMixed.Feed(feed, fed, maxAge);
        out = INFERENCE.inferFreshWithFeeds(modelId, input, stamps, feeds);
        last = out;
    }
}
