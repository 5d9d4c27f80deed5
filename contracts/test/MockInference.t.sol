// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {IInference, INFERENCE, INFERENCE_ADDRESS} from "../src/IInference.sol";
import {InferenceLib} from "../src/InferenceLib.sol";
import {MockInference} from "../src/MockInference.sol";
import {EchoModel} from "./models/EchoModel.sol";
import {ScriptedFeed, RevertingFeed, GasBurningFeed, ShortFeed, ReenteringFeed, HungryFeed} from "./utils/Feeds.sol";

/// MockInference follows the precompile's freshness rules. The cases and
/// numbers are vm/inference_test.go's TestFreshnessGuard and TestPriceFeeds
/// and vm/feedbound_test.go's, so the two implementations are held to the
/// same expectations.
contract MockInferenceTest is Test {
    MockInference mock;
    uint64 constant NOW = 1_700_000_000;
    bytes32 constant STAMPED = keccak256("stampedModel");
    bytes32 constant FRESH = keccak256("freshModel");
    bytes32 constant FEEDABLE = keccak256("feedable");
    bytes input = hex"01020304";

    function setUp() public {
        mock = installMock();
        vm.warp(NOW);
        address echo = address(new EchoModel());
        // input x: int8[4]; output = x;
        // fresh element=1 maxAge=60
        // fresh element=3 maxAge=600
        mock.setModel(STAMPED, 4, 4);
        mock.declareFreshness(STAMPED, 1, 60, 0, 0);
        mock.declareFreshness(STAMPED, 3, 600, 0, 0);
        mock.setLogic(STAMPED, echo);
        // input x: int8[4]; output = x;
        // fresh element=1 maxAge=60 feedMultiplier=1 feedShift=8
        // fresh element=3 maxAge=600
        mock.setModel(FRESH, 4, 4);
        mock.declareFreshness(FRESH, 1, 60, 1, 8);
        mock.declareFreshness(FRESH, 3, 600, 0, 0);
        mock.setLogic(FRESH, echo);
        // input x: int8[2] zp=-3; output = x;
        // fresh element=0 maxAge=60 feedMultiplier=3 feedShift=8
        MockInference.InputTensor[] memory t = new MockInference.InputTensor[](1);
        t[0] = MockInference.InputTensor(1, 2, -3);
        mock.setModel(FEEDABLE, t, 2, 500);
        mock.declareFreshness(FEEDABLE, 0, 60, 3, 8);
        mock.setLogic(FEEDABLE, echo);
    }

    function stamps2(uint32 i0, uint64 t0, uint64 a0, uint32 i1, uint64 t1, uint64 a1)
        internal
        pure
        returns (IInference.Stamp[] memory)
    {
        return InferenceLib.withStamp(InferenceLib.stamp(i0, t0, a0), i1, t1, a1);
    }

    // ---- stamps ----

    function test_InferOnAModelThatDeclaresFreshness() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.infer(STAMPED, input);
    }

    function test_FreshStamps() public view {
        bytes memory out = INFERENCE.inferFresh(STAMPED, input, stamps2(1, NOW - 10, 1000, 3, NOW - 500, 1000));
        assertEq(out, input, "output");
        // An age equal to the maximum is still fresh.
        INFERENCE.inferFresh(STAMPED, input, stamps2(1, NOW - 60, 60, 3, NOW - 600, 600));
    }

    function test_TheModelsMaxAgeBeatsTheCallers() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 1, NOW - 61, NOW, 60));
        INFERENCE.inferFresh(STAMPED, input, stamps2(1, NOW - 61, 1000, 3, NOW, 0));
    }

    function test_TheCallersMaxAgeBeatsTheModels() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, NOW - 6, NOW, 5));
        INFERENCE.inferFresh(STAMPED, input, stamps2(1, NOW, 60, 3, NOW - 6, 5));
    }

    function test_FutureStamp() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 1, NOW + 1, NOW));
        INFERENCE.inferFresh(STAMPED, input, stamps2(1, NOW + 1, 60, 3, NOW, 5));
    }

    function test_MissingStamp() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 3));
        INFERENCE.inferFresh(STAMPED, input, InferenceLib.stamp(1, NOW, 60));
    }

    function test_StampOutsideTheInput() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector, "stamps[0]: input index 9 is not an element (the model has 4)"
            )
        );
        INFERENCE.inferFresh(STAMPED, input, InferenceLib.stamp(9, NOW, 60));
    }

    function test_StampsAreCheckedInOrder() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, NOW - 700, NOW, 600));
        INFERENCE.inferFresh(STAMPED, input, stamps2(3, NOW - 700, 1000, 1, NOW + 5, 60));
    }

    function test_AStampOnAnUndeclaredElementUsesTheCallersMaxAge() public {
        IInference.Stamp[] memory s = stamps2(1, NOW, 60, 3, NOW, 60);
        s = InferenceLib.withStamp(s, 0, NOW - 11, 10);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 0, NOW - 11, NOW, 10));
        INFERENCE.inferFresh(STAMPED, input, s);
    }

    function test_TimeMoves() public {
        IInference.Stamp[] memory s = stamps2(1, NOW - 10, 1000, 3, NOW - 500, 1000);
        INFERENCE.inferFresh(STAMPED, input, s);
        vm.warp(NOW + 100);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 1, NOW - 10, NOW + 100, 60));
        INFERENCE.inferFresh(STAMPED, input, s);
    }

    // ---- feeds ----

    function test_FeedingAnElementWithoutAFeedScale() public {
        ScriptedFeed f = new ScriptedFeed();
        f.set(5, 1000, NOW - 1, 5);
        IInference.Feed[] memory feeds = InferenceLib.withFeed(InferenceLib.feed(address(f), 1, 100), address(f), 3, 100);
        vm.expectRevert(
            abi.encodeWithSelector(IInference.BadInput.selector, "feeds[1]: input element 3 has no feed scale in the model")
        );
        INFERENCE.inferWithFeeds(FRESH, input, feeds);
    }

    function test_FeedQuantization() public {
        ScriptedFeed f = new ScriptedFeed();
        int256[5] memory answers = [int256(1000), -1000, 128, 1 << 40, -(1 << 40)];
        int8[5] memory want = [int8(-3 + 12), -3 - 12, -3 + 2, 127, -128]; // clamp(-3 + RoundShift(a*3, 8))
        for (uint256 i = 0; i < answers.length; i++) {
            f.set(7, answers[i], NOW - 5, 7);
            bytes memory out = INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 30));
            assertEq(int256(int8(uint8(out[0]))), int256(want[i]), "quantized answer");
            assertEq(uint8(out[1]), 9, "the other element is the caller's");
        }
    }

    function test_PhasedRoundIds() public {
        // A real Chainlink round id packs the phase into bits 64-79.
        ScriptedFeed f = new ScriptedFeed();
        f.set(3 << 64, 1000, NOW - 5, 3 << 64);
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 30));
    }

    function test_StaleAndFutureFeeds() public {
        ScriptedFeed f = new ScriptedFeed();
        f.set(7, 1000, NOW - 31, 7);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 0, NOW - 31, NOW, 30));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 30));
        // The model's 60 s beats a lax caller.
        f.set(7, 1000, NOW - 61, 7);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 0, NOW - 61, NOW, 60));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 1 days));
        f.set(7, 1000, NOW + 1, 7);
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 0, NOW + 1, NOW));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 30));
        // A time beyond uint64 is in the future.
        f.set(7, 1000, uint256(type(uint64).max) + 1, 7);
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 0, type(uint64).max, NOW));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 0, 30));
    }

    function expectUnavailable(address feed) internal {
        vm.expectRevert(abi.encodeWithSelector(IInference.FeedUnavailable.selector, feed));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(feed, 0, 30));
    }

    function test_UnavailableFeeds() public {
        expectUnavailable(address(new RevertingFeed()));
        expectUnavailable(address(new GasBurningFeed()));
        expectUnavailable(address(new ShortFeed()));
        expectUnavailable(address(0xDEAD)); // no code
        expectUnavailable(address(new ReenteringFeed()));
        expectUnavailable(address(new HungryFeed())); // needs more than 50,000 gas
        ScriptedFeed f = new ScriptedFeed();
        f.set(7, 1000, 0, 7); // incomplete round
        expectUnavailable(address(f));
        f.set(7, 1000, NOW - 1, 6); // an answer from an older round
        expectUnavailable(address(f));
        f.set(1 << 80, 1000, NOW - 1, 1 << 80); // not a uint80
        expectUnavailable(address(f));
    }

    function test_FeedRefusals() public {
        ScriptedFeed f = new ScriptedFeed();
        f.set(7, 1000, NOW - 1, 7);
        IInference.Feed[] memory twice = InferenceLib.withFeed(InferenceLib.feed(address(f), 0, 30), address(f), 0, 30);
        vm.expectRevert(abi.encodeWithSelector(IInference.BadInput.selector, "feeds[1]: input index 0 is fed twice"));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", twice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector, "feeds[0]: input index 2 is not an element (the model has 2)"
            )
        );
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", InferenceLib.feed(address(f), 2, 30));
        // No feed for the declared element.
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 0));
        INFERENCE.inferWithFeeds(FEEDABLE, hex"0009", new IInference.Feed[](0));
        // Feeds and stamps do not mix: a model with a non-feedable declared
        // element cannot be called through inferWithFeeds.
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 3));
        INFERENCE.inferWithFeeds(FRESH, input, InferenceLib.feed(address(f), 1, 30));
    }

    function test_FeedsIntoWiderTypes() public {
        bytes32 id = keccak256("mixed");
        MockInference.InputTensor[] memory t = new MockInference.InputTensor[](3);
        t[0] = MockInference.InputTensor(1, 2, 0); // int8[2], bytes 0-1
        t[1] = MockInference.InputTensor(2, 2, 100); // int16[2] zp 100, bytes 2-5
        t[2] = MockInference.InputTensor(3, 1, 0); // int32[1], bytes 6-9
        mock.setModel(id, t, 10, 1000);
        mock.declareFreshness(id, 3, 60, 1, 0); // the second int16
        mock.declareFreshness(id, 4, 60, 7, 1); // the int32
        mock.setLogic(id, address(new EchoModel()));
        ScriptedFeed a = new ScriptedFeed();
        a.set(1, 1234, NOW, 1);
        ScriptedFeed b = new ScriptedFeed();
        b.set(1, -1_000_000_000_000, NOW, 1);
        IInference.Feed[] memory feeds = InferenceLib.withFeed(InferenceLib.feed(address(a), 3, 60), address(b), 4, 60);
        bytes memory out = INFERENCE.inferWithFeeds(id, new bytes(10), feeds);
        // 100 + 1234 = 1334 = 0x0536 little-endian at bytes 4-5; int32 clamps to its minimum.
        assertEq(out, hex"0000" hex"0000" hex"3605" hex"00000080", "fed input");
        assertEq(mock.fedInput(id, new bytes(10), feeds), out, "fedInput");
    }

    function test_QuantizeFeedAtTheExtremes() public view {
        // RoundShift(2^255 - 1, 255) = 1 and RoundShift(-2^255, 255) = -1, exactly.
        // contracts/examples_test.go TestFeedQuantizationExtremes checks the
        // same figures on the real precompile.
        assertEq(mock.quantizeFeed(type(int256).max, 1, 255, 0, 1), 1, "max");
        assertEq(mock.quantizeFeed(type(int256).min, 1, 255, 0, 1), -1, "min");
        assertEq(mock.quantizeFeed(type(int256).max, type(int32).max, 255, 0, 3), type(int32).max, "max * max");
        // (-2^255 * (2^31 - 1) + 2^254) >> 255 = -2^31 + 1 (floor of -2^31 + 1.5)
        assertEq(mock.quantizeFeed(type(int256).min, type(int32).max, 255, 0, 3), type(int32).min + 1, "min * max");
        assertEq(mock.quantizeFeed(type(int256).max, 1, 0, 0, 2), type(int16).max, "no shift clamps");
        assertEq(mock.quantizeFeed(type(int256).min, 1, 0, 5, 2), type(int16).min, "no shift clamps");
        assertEq(mock.quantizeFeed(-3, 1, 1, 0, 1), -1, "RoundShift(-3, 1) = -1");
        assertEq(mock.quantizeFeed(-5, 1, 1, 0, 1), -2, "RoundShift(-5, 1) = -2");
        assertEq(mock.quantizeFeed(3, 1, 1, 0, 1), 2, "RoundShift(3, 1) = 2");
        assertEq(mock.quantizeFeed(-6, 1, 2, 0, 1), -1, "RoundShift(-6, 2) = -1");
    }

    /// The exact method agrees with plain int256 arithmetic wherever that
    /// cannot overflow.
    function testFuzz_QuantizeFeed(int256 answer, uint32 multiplier, uint8 shift, int8 zp) public view {
        int256 a = answer % int256(1 << 200);
        int256 m = int256(uint256(multiplier % uint32(type(int32).max)) + 1);
        int256 v = a * m;
        if (shift > 0) v = (v + (int256(1) << (shift - 1))) >> shift;
        v += zp;
        int256 want = v < -128 ? int256(-128) : (v > 127 ? int256(127) : v);
        assertEq(mock.quantizeFeed(a, int32(m), shift, zp, 1), want, "quantizeFeed");
    }

    // ---- models, outputs, quote, modelInfo ----

    function test_ModelNotFoundEverywhere() public {
        bytes32 id = keccak256("nope");
        bytes memory err = abi.encodeWithSelector(IInference.ModelNotFound.selector, id);
        vm.expectRevert(err);
        INFERENCE.infer(id, input);
        vm.expectRevert(err);
        INFERENCE.inferFresh(id, input, new IInference.Stamp[](0));
        vm.expectRevert(err);
        INFERENCE.inferWithFeeds(id, input, new IInference.Feed[](0));
        vm.expectRevert(err);
        INFERENCE.quote(id, 4);
        vm.expectRevert(err);
        INFERENCE.modelInfo(id);
    }

    function test_WrongInputLength() public {
        bytes32 id = keccak256("plain");
        mock.setModel(id, 3, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector, string.concat("input is 4 bytes; model ", vm.toString(id), " takes 3")
            )
        );
        INFERENCE.infer(id, input);
    }

    function test_Outputs() public {
        bytes32 id = keccak256("outputs");
        mock.setModel(id, 4, 40);
        bytes memory d = INFERENCE.infer(id, input);
        assertEq(d.length, 40, "default output length");
        assertEq(INFERENCE.infer(id, input), d, "deterministic");
        assertTrue(keccak256(INFERENCE.infer(id, hex"01020305")) != keccak256(d), "depends on the input");
        bytes memory set = new bytes(40);
        set[0] = 0x2a;
        mock.setOutput(id, input, set);
        assertEq(INFERENCE.infer(id, input), set, "set output");
        mock.setModel(id, 4, 4);
        mock.setLogic(id, address(new EchoModel()));
        assertEq(INFERENCE.infer(id, hex"05060708"), hex"05060708", "logic");
        mock.removeModel(id);
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, id));
        INFERENCE.infer(id, input);
    }

    function test_QuoteAndModelInfo() public {
        assertEq(INFERENCE.quote(FEEDABLE, 2), 4_900 + 500, "quote");
        vm.expectRevert();
        INFERENCE.quote(FEEDABLE, 3);
        IInference.ModelInfo memory info = INFERENCE.modelInfo(FRESH);
        assertEq(info.inputBytes, 4, "inputBytes");
        assertEq(info.outputBytes, 4, "outputBytes");
        assertEq(info.inputElements, 4, "inputElements");
        assertEq(info.gas, 10_000, "gas");
        assertEq(info.freshness.length, 2, "freshness");
        assertEq(info.freshness[0].element, 1, "element");
        assertEq(info.freshness[0].maxAge, 60, "maxAge");
        assertTrue(info.freshness[0].feedable, "feedable");
        assertEq(info.freshness[1].element, 3, "element");
        assertFalse(info.freshness[1].feedable, "not feedable");
    }

    function test_DeclarationsFollowTheModelFormat() public {
        bytes32 id = keccak256("decl");
        mock.setModel(id, 4, 1);
        mock.declareFreshness(id, 2, 60, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "elements must increase"));
        mock.declareFreshness(id, 2, 60, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "element is not an input element"));
        mock.declareFreshness(id, 4, 60, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "feedMultiplier is negative"));
        mock.declareFreshness(id, 3, 60, -1, 0);
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "feedShift must be 0 when not feedable"));
        mock.declareFreshness(id, 3, 60, 0, 1);
    }

    /// A contract catches the typed errors and reads them with InferenceLib.
    function test_TryCatch() public {
        Catcher c = new Catcher();
        ScriptedFeed f = new ScriptedFeed();
        f.set(7, 1000, NOW - 100, 7);
        assertEq(c.selectorOf(FEEDABLE, address(f)), IInference.StaleInput.selector, "caught StaleInput");
        f.set(7, 1000, NOW, 7);
        assertEq(c.selectorOf(FEEDABLE, address(f)), bytes4(0), "no error");
    }
}

contract Catcher {
    function selectorOf(bytes32 id, address feed) external view returns (bytes4) {
        try INFERENCE.inferWithFeeds(id, hex"0000", InferenceLib.feed(feed, 0, 30)) returns (bytes memory) {
            return bytes4(0);
        } catch (bytes memory err) {
            return InferenceLib.selectorOf(err);
        }
    }
}
