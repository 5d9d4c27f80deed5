// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {IInference} from "../src/IInference.sol";
import {MockInference} from "../src/MockInference.sol";
import {AggregatorV3Interface} from "../src/AggregatorV3Interface.sol";
import {SIGNAL_MODEL_ID} from "../examples/ExampleModels.sol";
import {SignalTrader} from "../examples/trading/SignalTrader.sol";
import {ToyAMM} from "../examples/trading/ToyAMM.sol";
import {ToyToken} from "../examples/ToyToken.sol";
import {ToyPriceFeed} from "../examples/trading/ToyPriceFeed.sol";
import {SignalModel} from "./models/SignalModel.sol";

/// The trading example: trades only on a fresh oracle price.
contract SignalTraderTest is Test {
    MockInference mock;
    ToyToken toy;
    ToyToken usd;
    ToyAMM amm;
    ToyPriceFeed feed;
    SignalTrader trader;
    uint256 constant T0 = 1_700_000_000;

    function setUp() public {
        vm.warp(T0);
        mock = installMock();
        // signal.model: input int8[1,2] zp=-128, three logits out, element 0
        // fed with multiplier 10995 and shift 40, at most an hour old.
        MockInference.InputTensor[] memory x = new MockInference.InputTensor[](1);
        x[0] = MockInference.InputTensor(1, 2, -128);
        mock.setModel(SIGNAL_MODEL_ID, x, 3, 2_100);
        mock.declareFreshness(SIGNAL_MODEL_ID, 0, 3600, 10995, 40);
        mock.setLogic(SIGNAL_MODEL_ID, address(new SignalModel()));

        toy = new ToyToken("Toy", "TOY");
        usd = new ToyToken("Toy dollar", "USD");
        amm = new ToyAMM(toy, usd);
        toy.mint(address(this), 11_000e18);
        usd.mint(address(this), 1_100_000e18);
        toy.approve(address(amm), type(uint256).max);
        usd.approve(address(amm), type(uint256).max);
        amm.addLiquidity(10_000e18, 1_000_000e18); // $100

        feed = new ToyPriceFeed(8, "TOY / USD");
        feed.update(100e8);

        trader = new SignalTrader(SIGNAL_MODEL_ID, feed, amm, 300, 1_000e18, 10e18);
        toy.transfer(address(trader), 1_000e18);
        usd.transfer(address(trader), 100_000e18);
    }

    struct Snapshot {
        uint256 toy;
        uint256 usd;
        uint256 reserveBase;
        uint256 reserveQuote;
        uint256 trades;
        uint256 lastTradeAt;
    }

    function snapshot() internal view returns (Snapshot memory) {
        return Snapshot(
            toy.balanceOf(address(trader)),
            usd.balanceOf(address(trader)),
            amm.reserveBase(),
            amm.reserveQuote(),
            trader.trades(),
            trader.lastTradeAt()
        );
    }

    function assertUnchanged(Snapshot memory a) internal view {
        Snapshot memory b = snapshot();
        assertEq(b.toy, a.toy, "TOY balance");
        assertEq(b.usd, a.usd, "USD balance");
        assertEq(b.reserveBase, a.reserveBase, "reserve TOY");
        assertEq(b.reserveQuote, a.reserveQuote, "reserve USD");
        assertEq(b.trades, a.trades, "trades");
        assertEq(b.lastTradeAt, a.lastTradeAt, "lastTradeAt");
    }

    // ---- happy paths ----

    function test_QuantizesTheAMMPriceAsTheFeedIs() public view {
        // $100: -128 + RoundShift(100e8 * 10995, 40) = -28 (the Go test sees
        // the precompile write the same value for a $100 answer).
        assertEq(trader.ammPrice(), -28, "AMM price as int8");
        bytes memory x = new bytes(2);
        x[1] = bytes1(uint8(int8(-28)));
        assertEq(mock.fedInput(SIGNAL_MODEL_ID, x, _feeds(300))[0], bytes1(uint8(int8(-28))), "feed's price as int8");
    }

    function test_HoldsWhenThePricesAgree() public {
        Snapshot memory before = snapshot();
        vm.expectEmit(true, true, true, true, address(trader));
        emit SignalTrader.Signal(SignalTrader.Action.Hold, 2, 0, 0, -28);
        (SignalTrader.Action action, uint256 amountIn,) = trader.trade(0);
        assertEq(uint8(action), uint8(SignalTrader.Action.Hold), "hold");
        assertEq(amountIn, 0, "nothing traded");
        assertEq(toy.balanceOf(address(trader)), before.toy, "TOY");
        assertEq(trader.trades(), 1, "counted");
    }

    function test_BuysWhenTheAMMIsCheap() public {
        feed.update(105e8);
        Snapshot memory before = snapshot();
        uint256 expected = amm.getAmountOut(address(usd), 1_000e18);
        vm.expectEmit(true, true, true, true, address(trader));
        emit SignalTrader.Traded(SignalTrader.Action.Buy, 1_000e18, expected);
        (SignalTrader.Action action,, uint256 out) = trader.trade(expected);
        assertEq(uint8(action), uint8(SignalTrader.Action.Buy), "buy");
        assertEq(toy.balanceOf(address(trader)), before.toy + out, "bought TOY");
        assertEq(usd.balanceOf(address(trader)), before.usd - 1_000e18, "spent USD");
        assertEq(uint8(trader.lastAction()), uint8(SignalTrader.Action.Buy), "lastAction");
    }

    function test_SellsWhenTheAMMIsDear() public {
        feed.update(95e8);
        Snapshot memory before = snapshot();
        (SignalTrader.Action action,, uint256 out) = trader.trade(0);
        assertEq(uint8(action), uint8(SignalTrader.Action.Sell), "sell");
        assertEq(toy.balanceOf(address(trader)), before.toy - 10e18, "sold TOY");
        assertEq(usd.balanceOf(address(trader)), before.usd + out, "got USD");
    }

    function test_HoldsWithinTwoDollars() public {
        feed.update(102e8);
        (SignalTrader.Action action,,) = trader.trade(0);
        assertEq(uint8(action), uint8(SignalTrader.Action.Hold), "a $2 gap is a tie: hold");
    }

    // ---- refusals: nothing changes ----

    function test_AStaleFeedNeverTrades() public {
        feed.update(105e8); // a buy signal, observed at T0
        Snapshot memory before = snapshot();
        vm.warp(T0 + 301);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 0, T0, T0 + 301, 300));
        trader.trade(0);
        assertUnchanged(before);
        // A fresh update trades again.
        feed.update(105e8);
        (SignalTrader.Action action,,) = trader.trade(0);
        assertEq(uint8(action), uint8(SignalTrader.Action.Buy), "buy once fresh");
    }

    function test_TheModelsHourBoundsALaxTrader() public {
        SignalTrader lax = new SignalTrader(SIGNAL_MODEL_ID, feed, amm, 7 days, 1e18, 1e18);
        vm.warp(T0 + 3601);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 0, T0, T0 + 3601, 3600));
        lax.trade(0);
    }

    function test_AFeedFromTheFutureNeverTrades() public {
        feed.setRound(2, 105e8, T0 + 60, 2);
        Snapshot memory before = snapshot();
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 0, T0 + 60, T0));
        trader.trade(0);
        assertUnchanged(before);
    }

    function test_AnUnavailableFeedNeverTrades() public {
        Snapshot memory before = snapshot();
        feed.setRound(3, 105e8, T0, 2); // answered in an older round
        vm.expectRevert(abi.encodeWithSelector(IInference.FeedUnavailable.selector, address(feed)));
        trader.trade(0);
        feed.setRound(3, 105e8, 0, 3); // incomplete round
        vm.expectRevert(abi.encodeWithSelector(IInference.FeedUnavailable.selector, address(feed)));
        trader.trade(0);
        assertUnchanged(before);
    }

    function test_AFeedThatIsNotAFeed() public {
        SignalTrader broken = new SignalTrader(SIGNAL_MODEL_ID, AggregatorV3Interface(address(toy)), amm, 300, 1e18, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IInference.FeedUnavailable.selector, address(toy)));
        broken.trade(0);
    }

    function test_ModelNotFound() public {
        bytes32 unknown = keccak256("no such model");
        SignalTrader lost = new SignalTrader(unknown, feed, amm, 300, 1e18, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, unknown));
        lost.trade(0);
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, unknown));
        lost.modelFits();
    }

    function test_BadInput() public {
        // The same id answering with another shape: the precompile's BadInput.
        mock.setModel(SIGNAL_MODEL_ID, 3, 3);
        mock.declareFreshness(SIGNAL_MODEL_ID, 0, 3600, 10995, 40);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector,
                string.concat("input is 2 bytes; model ", vm.toString(SIGNAL_MODEL_ID), " takes 3")
            )
        );
        trader.trade(0);
    }

    function test_ModelFits() public {
        assertTrue(trader.modelFits(), "the signal model fits");
        bytes32 other = keccak256("classifier");
        mock.setModel(other, 2, 2);
        SignalTrader wrong = new SignalTrader(other, feed, amm, 300, 1e18, 1e18);
        assertFalse(wrong.modelFits(), "a classifier does not");
    }

    function test_OnlyTheOwnerTrades() public {
        vm.expectRevert(abi.encodeWithSelector(SignalTrader.NotOwner.selector, address(0xBAD)));
        vm.prank(address(0xBAD));
        trader.trade(0);
    }

    function test_SlippageBound() public {
        feed.update(105e8);
        uint256 out = amm.getAmountOut(address(usd), 1_000e18);
        vm.expectRevert(abi.encodeWithSelector(ToyAMM.InsufficientOutput.selector, out, out + 1));
        trader.trade(out + 1);
    }

    function _feeds(uint64 maxAge) internal view returns (IInference.Feed[] memory f) {
        f = new IInference.Feed[](1);
        f[0] = IInference.Feed(address(feed), 0, maxAge);
    }
}
