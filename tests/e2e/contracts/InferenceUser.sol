// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The part of IInference (contracts/src/IInference.sol) this test uses,
/// declared here so the e2e project compiles on its own.
interface IInferenceE2E {
    struct Stamp {
        uint32 inputIndex;
        uint64 observedAt;
        uint64 maxAge;
    }

    function infer(bytes32 modelId, bytes calldata input) external view returns (bytes memory);
    function inferFresh(bytes32 modelId, bytes calldata input, Stamp[] calldata stamps)
        external
        view
        returns (bytes memory);
}

/// A contract that calls a model inline and keeps the answer in state, so
/// the test can compare what a transaction stored with `infergeth model run`.
contract InferenceUser {
    IInferenceE2E constant INFERENCE = IInferenceE2E(address(0x0A00));

    bytes public last;
    uint64 public observedAt;

    event Inferred(bytes32 indexed modelId, bytes output);

    function run(bytes32 modelId, bytes calldata input) external returns (bytes memory out) {
        out = INFERENCE.infer(modelId, input);
        last = out;
        emit Inferred(modelId, out);
    }

    /// Records that an input was observed now (a price posted, say).
    function observe() external {
        observedAt = uint64(block.timestamp);
    }

    function runFresh(bytes32 modelId, bytes calldata input, uint32 index, uint64 maxAge)
        external
        returns (bytes memory out)
    {
        IInferenceE2E.Stamp[] memory stamps = new IInferenceE2E.Stamp[](1);
        stamps[0] = IInferenceE2E.Stamp(index, observedAt, maxAge);
        out = INFERENCE.inferFresh(modelId, input, stamps);
        last = out;
        emit Inferred(modelId, out);
    }
}
