// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INFERENCE} from "@infergeth/contracts/src/IInference.sol";
import {TensorCodec} from "@infergeth/contracts/src/TensorCodec.sol";

/// @title Classifies inputs with a model on chain
/// @notice Calls the model inline, through the inference precompile, and
/// remembers each account's last class. Written for the devnet's demo model
/// `mlp` (int8[96] in; out: int8[10] logits at byte 0, then the int32 class
/// at byte 10, as `INFERENCE.outputLayout(modelId)` and `infergeth model
/// inspect` describe it).
contract Classifier {
    /// Where the model's int32 class tensor starts in its output.
    uint256 public constant CLASS_OFFSET = 10;

    bytes32 public immutable modelId;
    mapping(address => uint256) public classOf;

    event Classified(address indexed account, uint256 class);

    constructor(bytes32 modelId_) {
        modelId = modelId_;
    }

    /// The model's class for `input` (a view: works in eth_call).
    function predict(bytes calldata input) public view returns (uint256) {
        bytes memory out = INFERENCE.infer(modelId, input);
        return uint256(uint32(TensorCodec.int32AtByte(out, CLASS_OFFSET)));
    }

    /// Classifies `input` and records the class for the caller.
    function classify(bytes calldata input) external returns (uint256 class) {
        class = predict(input);
        classOf[msg.sender] = class;
        emit Classified(msg.sender, class);
    }
}
