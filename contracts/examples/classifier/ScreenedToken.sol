// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {INFERENCE} from "../../src/IInference.sol";
import {InferenceLib} from "../../src/InferenceLib.sol";
import {TensorCodec} from "../../src/TensorCodec.sol";
import {RiskOracle} from "./RiskOracle.sol";
import {ToyToken} from "../ToyToken.sol";

/// @title An ERC-20 whose every transfer a fraud classifier screens inline
/// @notice `transfer` and `transferFrom` compute four features of the
/// transfer, call the fraud model (fraud.model.txt) in the same transaction
/// and refuse the transfer when the class is fraud:
///   0  the share of the sender's balance moved, 0..127
///   1  127 if the recipient never received this token, else 0
///   2  the sender's transfers in the current ten-minute window, times 16
///   3  the sender's risk score from the RiskOracle, stamped with the time
///      the oracle observed it (`inferFresh`): older than `maxScoreAge` (or
///      the model's two days), or from the future, and the precompile
///      refuses the call, so the transfer reverts with StaleInput or
///      FutureInput. An account never scored counts as observed at time 0:
///      always stale.
/// Minting is screened by nothing; it is the deployer's. The rest is
/// ToyToken. Not for production.
contract ScreenedToken is ToyToken {
    enum Class {
        Ok,
        Fraud
    }

    uint256 public constant WINDOW = 10 minutes;

    bytes32 public immutable modelId;
    RiskOracle public immutable oracle;
    uint64 public immutable maxScoreAge;

    mapping(address => bool) public received;
    mapping(address => uint256) public windowStart;
    mapping(address => uint256) public windowTransfers;

    /// A transfer passed the screen with these logits.
    event Screened(address indexed from, address indexed to, uint256 value, int8 ok, int8 fraud);

    error TransferRefused(address from, address to, uint256 value, int8 ok, int8 fraud);

    constructor(string memory name_, string memory symbol_, bytes32 modelId_, RiskOracle oracle_, uint64 maxScoreAge_)
        ToyToken(name_, symbol_)
    {
        modelId = modelId_;
        oracle = oracle_;
        maxScoreAge = maxScoreAge_;
    }

    function mint(address to, uint256 value) public override {
        super.mint(to, value);
        received[to] = true;
    }

    /// The model's input for a transfer now, without the risk score's stamp.
    function features(address from, address to, uint256 value) public view returns (bytes memory x) {
        x = new bytes(4);
        uint256 balance = balanceOf[from];
        uint256 share = balance == 0 ? 127 : (value * 127) / balance;
        TensorCodec.setInt8(x, 0, int8(int256(share > 127 ? 127 : share)));
        TensorCodec.setInt8(x, 1, received[to] ? int8(0) : int8(127));
        uint256 recent = block.timestamp < windowStart[from] + WINDOW ? windowTransfers[from] : 0;
        TensorCodec.setInt8(x, 2, TensorCodec.clampInt8(int256(recent * 16)));
        (uint8 score,) = oracle.scoreOf(from);
        TensorCodec.setInt8(x, 3, int8(score));
    }

    /// Screens a transfer as `transfer` would: the class and the logits
    /// [ok, fraud]. Reverts as the precompile does.
    function screen(address from, address to, uint256 value) public view returns (Class class, bytes memory logits) {
        (, uint64 observedAt) = oracle.scoreOf(from);
        logits = INFERENCE.inferFresh(modelId, features(from, to, value), InferenceLib.stamp(3, observedAt, maxScoreAge));
        class = Class(TensorCodec.argmaxInt8(logits));
    }

    /// Every transfer and transferFrom comes here: screen, then move.
    function _transfer(address from, address to, uint256 value) internal override {
        (Class class, bytes memory logits) = screen(from, to, value);
        int8 ok = TensorCodec.int8At(logits, 0);
        int8 fraud = TensorCodec.int8At(logits, 1);
        if (class == Class.Fraud) revert TransferRefused(from, to, value, ok, fraud);
        super._transfer(from, to, value);
        received[to] = true;
        if (block.timestamp >= windowStart[from] + WINDOW) {
            windowStart[from] = block.timestamp;
            windowTransfers[from] = 0;
        }
        windowTransfers[from]++;
        emit Screened(from, to, value, ok, fraud);
    }
}
