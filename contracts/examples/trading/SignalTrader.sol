// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInference, INFERENCE} from "../../src/IInference.sol";
import {InferenceLib} from "../../src/InferenceLib.sol";
import {TensorCodec} from "../../src/TensorCodec.sol";
import {AggregatorV3Interface} from "../../src/AggregatorV3Interface.sol";
import {ToyAMM} from "./ToyAMM.sol";
import {ToyToken} from "../ToyToken.sol";

/// @title Trades on a toy AMM when a model, fed a fresh oracle price, says so
/// @notice Each `trade` asks the signal model (signal.model.txt) for
/// hold/buy/sell given two prices of TOY: the oracle's, which the inference
/// precompile reads from the Chainlink-style feed itself (`inferWithFeeds`:
/// the caller cannot forge it), and the AMM's spot price, quantized by this
/// contract the same way. It buys TOY with `buyAmount` USD or sells
/// `sellAmount` TOY accordingly.
///
/// A stale price never trades: when the feed's last update is older than
/// `maxFeedAge` (or the model's own hour), the precompile reverts with
/// StaleInput and the whole trade reverts with it: no swap, no state change.
/// A feed that is down reverts FeedUnavailable; one from the future,
/// FutureInput.
contract SignalTrader {
    enum Action {
        Hold,
        Buy,
        Sell
    }

    /// How both prices become int8 (the model's freshness entry for element
    /// 0 declares the same multiplier and shift, and zero point -128).
    int256 public constant PRICE_MULTIPLIER = 10995;
    uint8 public constant PRICE_SHIFT = 40;
    int256 public constant PRICE_ZERO_POINT = -128;

    bytes32 public immutable modelId;
    AggregatorV3Interface public immutable feed;
    ToyAMM public immutable amm;
    ToyToken public immutable base;
    ToyToken public immutable quote;
    address public immutable owner;
    /// The oldest oracle price this trader accepts, in seconds.
    uint64 public immutable maxFeedAge;

    uint256 public buyAmount; // USD spent per buy
    uint256 public sellAmount; // TOY sold per sell
    Action public lastAction;
    uint256 public lastTradeAt;
    uint256 public trades;

    event Signal(Action action, int8 hold, int8 buy, int8 sell, int8 ammPrice);
    event Traded(Action action, uint256 amountIn, uint256 amountOut);

    error NotOwner(address account);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(
        bytes32 modelId_,
        AggregatorV3Interface feed_,
        ToyAMM amm_,
        uint64 maxFeedAge_,
        uint256 buyAmount_,
        uint256 sellAmount_
    ) {
        modelId = modelId_;
        feed = feed_;
        amm = amm_;
        base = amm_.base();
        quote = amm_.quote();
        owner = msg.sender;
        maxFeedAge = maxFeedAge_;
        buyAmount = buyAmount_;
        sellAmount = sellAmount_;
    }

    /// Whether the model has the signal model's shape: [oracle, amm] int8
    /// prices in, element 0 feedable, three logits out. (The constructor
    /// does not ask: forge runs deploy scripts on its own EVM first, which
    /// has no inference precompile.)
    function modelFits() external view returns (bool) {
        IInference.ModelInfo memory info = INFERENCE.modelInfo(modelId);
        return info.inputBytes == 2 && info.outputBytes == 3 && info.freshness.length == 1
            && info.freshness[0].element == 0 && info.freshness[0].feedable;
    }

    /// The AMM's spot price as the model's input element 1.
    function ammPrice() public view returns (int8) {
        return TensorCodec.quantizeInt8(int256(amm.spotPrice8()), PRICE_MULTIPLIER, PRICE_SHIFT, PRICE_ZERO_POINT);
    }

    /// The model's current signal and its logits [hold, buy, sell]. Reverts
    /// as the precompile does (StaleInput, FutureInput, FeedUnavailable, ...).
    function signal() public view returns (Action action, bytes memory logits) {
        bytes memory input = new bytes(2);
        // Element 0 is the oracle's price: the precompile writes it.
        TensorCodec.setInt8(input, 1, ammPrice());
        logits = INFERENCE.inferWithFeeds(modelId, input, InferenceLib.feed(address(feed), 0, maxFeedAge));
        action = Action(TensorCodec.argmaxInt8(logits));
    }

    /// Trades on the signal. `minOut` bounds the swap's slippage.
    function trade(uint256 minOut) external onlyOwner returns (Action action, uint256 amountIn, uint256 amountOut) {
        bytes memory logits;
        (action, logits) = signal();
        emit Signal(
            action,
            TensorCodec.int8At(logits, 0),
            TensorCodec.int8At(logits, 1),
            TensorCodec.int8At(logits, 2),
            ammPrice()
        );
        if (action == Action.Buy) {
            amountIn = buyAmount;
            quote.approve(address(amm), amountIn);
            amountOut = amm.swap(address(quote), amountIn, minOut, address(this));
        } else if (action == Action.Sell) {
            amountIn = sellAmount;
            base.approve(address(amm), amountIn);
            amountOut = amm.swap(address(base), amountIn, minOut, address(this));
        }
        lastAction = action;
        lastTradeAt = block.timestamp;
        trades++;
        emit Traded(action, amountIn, amountOut);
    }

    function setAmounts(uint256 buyAmount_, uint256 sellAmount_) external onlyOwner {
        buyAmount = buyAmount_;
        sellAmount = sellAmount_;
    }

    function withdraw(ToyToken token, uint256 amount) external onlyOwner {
        token.transfer(owner, amount);
    }
}
