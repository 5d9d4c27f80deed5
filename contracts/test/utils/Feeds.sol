// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A feed whose latestRoundData() returns whatever the test set.
contract ScriptedFeed {
    uint256 public roundId;
    int256 public answer;
    uint256 public updatedAt;
    uint256 public answeredInRound;

    function set(uint256 roundId_, int256 answer_, uint256 updatedAt_, uint256 answeredInRound_) external {
        (roundId, answer, updatedAt, answeredInRound) = (roundId_, answer_, updatedAt_, answeredInRound_);
    }

    /// Raw words, so a round id may carry bits above uint80.
    function latestRoundData() external view returns (uint256, int256, uint256, uint256, uint256) {
        return (roundId, answer, updatedAt, updatedAt, answeredInRound);
    }
}

/// A feed that reverts.
contract RevertingFeed {
    function latestRoundData() external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert("feed is down");
    }
}

/// A feed that burns every unit of gas it gets.
contract GasBurningFeed {
    function latestRoundData() external pure returns (uint80, int256, uint256, uint256, uint80) {
        while (true) {}
        return (0, 0, 0, 0, 0);
    }
}

/// A feed that returns 32 bytes only.
contract ShortFeed {
    fallback() external {
        assembly {
            mstore(0, 42)
            return(0, 32)
        }
    }
}

/// A feed that calls back into the precompile, then reverts.
contract ReenteringFeed {
    fallback() external {
        assembly {
            pop(staticcall(gas(), 0x0A00, 0, 0, 0, 0))
            revert(0, 0)
        }
    }
}

/// A well-behaved feed that answers in more gas than the precompile grants.
contract HungryFeed {
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint256 x;
        for (uint256 i = 0; i < 2000; i++) {
            x += uint256(keccak256(abi.encode(i, x)));
        }
        return (1, int256(x % 100), block.timestamp, block.timestamp, 1);
    }
}
