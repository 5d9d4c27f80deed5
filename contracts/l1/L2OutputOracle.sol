// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title L2OutputOracle: infergeth's state commitments on the L1.
/// @notice The proposer fixed at deployment posts (L2 block number, state
/// root, block hash) for every `submissionInterval`-th L2 block, in order:
/// a verifier that rebuilt the L2 from the batches in the inbox compares its
/// roots with these and points at the first that differs. The L2 genesis
/// hash, the batcher, the inbox and the proposer are fixed at deployment, so
/// a verifier needs this address alone to know whose data to trust.
contract L2OutputOracle {
    struct Output {
        bytes32 stateRoot;
        bytes32 blockHash;
        uint64 l2BlockNumber;
        uint64 l1Timestamp;
    }

    /// @notice Hash of L2 block 0.
    bytes32 public immutable l2GenesisHash;
    /// @notice The only sender whose inbox transactions carry L2 data.
    address public immutable batcher;
    /// @notice Where the batcher sends its transactions (OP's batch inbox).
    address public immutable inbox;
    /// @notice The only account that may post outputs.
    address public immutable proposer;
    /// @notice Outputs are for L2 blocks interval, 2*interval, ...
    uint256 public immutable submissionInterval;
    /// @notice The L1 block this oracle was deployed in: readers of the
    /// inbox start there.
    uint256 public immutable startBlock;

    Output[] internal outputs;

    event OutputProposed(uint256 indexed l2BlockNumber, bytes32 stateRoot, bytes32 blockHash, uint256 index);

    error NotProposer(address sender);
    error UnexpectedBlockNumber(uint256 expected, uint256 got);
    error ZeroRoot();
    error BadConfig();

    constructor(bytes32 genesisHash, address batcher_, address inbox_, address proposer_, uint256 interval) {
        if (genesisHash == bytes32(0) || batcher_ == address(0) || inbox_ == address(0) || proposer_ == address(0) || interval == 0) {
            revert BadConfig();
        }
        l2GenesisHash = genesisHash;
        batcher = batcher_;
        inbox = inbox_;
        proposer = proposer_;
        submissionInterval = interval;
        startBlock = block.number;
    }

    /// @notice The L2 block number the next output must be for.
    function nextBlockNumber() public view returns (uint256) {
        return (outputs.length + 1) * submissionInterval;
    }

    /// @notice The L2 block of the latest output, 0 when there is none.
    function latestBlockNumber() external view returns (uint256) {
        return outputs.length * submissionInterval;
    }

    /// @notice How many outputs were posted.
    function outputCount() external view returns (uint256) {
        return outputs.length;
    }

    /// @notice The output at index (for L2 block (index+1)*interval).
    function getOutput(uint256 index) external view returns (Output memory) {
        return outputs[index];
    }

    /// @notice Posts the output of L2 block l2BlockNumber, which must be
    /// nextBlockNumber(): a proposer resuming after a crash reads it and
    /// cannot post one twice or skip one (Arbitrum's inbox sequence rule).
    function proposeOutput(uint256 l2BlockNumber, bytes32 stateRoot, bytes32 blockHash) external {
        if (msg.sender != proposer) revert NotProposer(msg.sender);
        uint256 expected = nextBlockNumber();
        if (l2BlockNumber != expected) revert UnexpectedBlockNumber(expected, l2BlockNumber);
        if (stateRoot == bytes32(0) || blockHash == bytes32(0)) revert ZeroRoot();
        outputs.push(Output(stateRoot, blockHash, uint64(l2BlockNumber), uint64(block.timestamp)));
        emit OutputProposed(l2BlockNumber, stateRoot, blockHash, outputs.length - 1);
    }
}
