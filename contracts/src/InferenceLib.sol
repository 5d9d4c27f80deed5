// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInference} from "./IInference.sol";

/// @title Small helpers for calling the inference precompile
/// @notice Builders for the stamp and feed arrays, and reading the custom
/// error out of revert data (for `try/catch`). A model that declares both
/// stamped and fed elements takes both arrays:
///
///   INFERENCE.inferFreshWithFeeds(id, input, InferenceLib.stamp(3, observedAt, 1 hours),
///       InferenceLib.feed(agg, 0, 60));
///
///   try INFERENCE.inferWithFeeds(id, input, InferenceLib.feed(agg, 0, 60)) returns (bytes memory out) {
///       ...
///   } catch (bytes memory err) {
///       if (InferenceLib.selectorOf(err) == IInference.StaleInput.selector) { ... }
///       InferenceLib.bubble(err);
///   }
library InferenceLib {
    /// One stamp.
    function stamp(uint32 inputIndex, uint64 observedAt, uint64 maxAge)
        internal
        pure
        returns (IInference.Stamp[] memory s)
    {
        s = new IInference.Stamp[](1);
        s[0] = IInference.Stamp(inputIndex, observedAt, maxAge);
    }

    /// One feed.
    function feed(address aggregator, uint32 inputIndex, uint64 maxAge)
        internal
        pure
        returns (IInference.Feed[] memory f)
    {
        f = new IInference.Feed[](1);
        f[0] = IInference.Feed(aggregator, inputIndex, maxAge);
    }

    /// Appends a stamp (copies the array).
    function withStamp(IInference.Stamp[] memory s, uint32 inputIndex, uint64 observedAt, uint64 maxAge)
        internal
        pure
        returns (IInference.Stamp[] memory out)
    {
        out = new IInference.Stamp[](s.length + 1);
        for (uint256 i = 0; i < s.length; i++) {
            out[i] = s[i];
        }
        out[s.length] = IInference.Stamp(inputIndex, observedAt, maxAge);
    }

    /// Appends a feed (copies the array).
    function withFeed(IInference.Feed[] memory f, address aggregator, uint32 inputIndex, uint64 maxAge)
        internal
        pure
        returns (IInference.Feed[] memory out)
    {
        out = new IInference.Feed[](f.length + 1);
        for (uint256 i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        out[f.length] = IInference.Feed(aggregator, inputIndex, maxAge);
    }

    /// The 4-byte selector that starts revert data (zero if shorter).
    function selectorOf(bytes memory revertData) internal pure returns (bytes4 sel) {
        if (revertData.length >= 4) {
            assembly ("memory-safe") {
                sel := shl(224, shr(224, mload(add(revertData, 0x20))))
            }
        }
    }

    /// Reverts with `revertData` as it is (re-raises a caught error).
    function bubble(bytes memory revertData) internal pure {
        assembly ("memory-safe") {
            revert(add(revertData, 0x20), mload(revertData))
        }
    }
}
