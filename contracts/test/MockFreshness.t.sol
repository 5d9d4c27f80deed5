// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {IInference, INFERENCE} from "../src/IInference.sol";
import {InferenceLib} from "../src/InferenceLib.sol";
import {MockInference} from "../src/MockInference.sol";
import {EchoModel} from "./models/EchoModel.sol";
import {ScriptedFeed, RevertingFeed} from "./utils/Feeds.sol";

/// The mock enforces the freshness a model declares exactly as the precompile
/// does: a feed element takes only a feed, a model that declares both kinds
/// is called through inferFreshWithFeeds, and a model configured from its
/// canonical bytes carries the declaration in those bytes. The cases and
/// numbers are vm/feedbound_test.go's, so a dApp tested against the mock sees
/// the errors the chain raises.
contract MockFreshnessTest is Test {
    MockInference mock;
    uint64 constant NOW = 1_700_000_000;
    bytes32 constant MIXED = keccak256("mixed");
    bytes32 constant FEED_ONLY = keccak256("feedOnly");
    bytes input = hex"01020304";
    ScriptedFeed feed;

    /// The canonical bytes of vm/inference_test.go's freshModel (the model
    /// text below; `infergeth model inspect` prints its id and gas, 2026):
    ///   input x: int8[4]
    ///   w: int8[4] = Clamp(x) min=-128 max=127
    ///   output w
    ///   fresh element=1 maxAge=60 feedMultiplier=1 feedShift=8
    ///   fresh element=3 maxAge=600
    bytes constant MIXED_MODEL_BYTES =
        hex"494e464d0100010002000000010000000100010002000000140000000000000000000000010000003c00000000000000010000000100000008000000000000005802000000000000030000000000000000000000000000000001010000000000040000000000000000000000000000000000000000000000000101000000000004000000000000000000000000000000000000000000000009000100010000000000000080ffffff7f00000000000000";
    bytes32 constant MIXED_MODEL_ID = 0x9423c0f1400ccaacf5320a474221ca9624a54d5e88b497d2b56e65f93eca697d;

    /// Two inputs of two types, two outputs:
    ///   input a: int8[2] zp=-3
    ///   input b: int16[1,2] zp=100
    ///   y: int8[2] zp=-3 = Clamp(a) min=-128 max=127
    ///   z: int16[1,2] zp=100 = Clamp(b) min=-32768 max=32767
    ///   output y
    ///   output z
    ///   fresh element=0 maxAge=60
    ///   fresh element=3 maxAge=30 feedMultiplier=1 feedShift=0
    bytes constant TWO_INPUTS_BYTES =
        hex"494e464d01000100040000000200000002000200020000002800000000000000000000000100000002000000030000003c00000000000000000000000000000000000000000000001e000000000000000300000001000000000000000000000000010100fdffffff020000000000000000000000000000000000000000000000000202006400000001000000020000000000000000000000000000000000000000010100fdffffff020000000000000000000000000000000000000000000000000202006400000001000000020000000000000000000000000000000000000009000100020000000000000080ffffff7f0000000900010003000000010000000080ffffff7f0000";

    function setUp() public {
        mock = installMock();
        vm.warp(NOW);
        address echo = address(new EchoModel());
        // freshModel by hand: element 1 fed (multiplier 1, shift 8), 3 stamped.
        mock.setModel(MIXED, 4, 4);
        mock.declareFreshness(MIXED, 1, 60, 1, 8);
        mock.declareFreshness(MIXED, 3, 600, 0, 0);
        mock.setLogic(MIXED, echo);
        // int8[2] zp=-3, element 0 fed (multiplier 3, shift 8).
        MockInference.InputTensor[] memory t = new MockInference.InputTensor[](1);
        t[0] = MockInference.InputTensor(1, 2, -3);
        mock.setModel(FEED_ONLY, t, 2, 500);
        mock.declareFreshness(FEED_ONLY, 0, 60, 3, 8);
        mock.setLogic(FEED_ONLY, echo);
        feed = new ScriptedFeed();
        feed.set(7, 1000, NOW - 5, 7);
    }

    /// BadInput for stamps[i] on feed element e (single digits).
    function stampOnAFeed(string memory i, string memory e) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(
            IInference.BadInput.selector,
            string.concat(
                "stamps[",
                i,
                "]: input element ",
                e,
                " is a price feed in the model; only a feed the precompile reads can supply it",
                " (inferWithFeeds or inferFreshWithFeeds), never a stamp"
            )
        );
    }

    // ---- a stamp cannot claim a feed element ----

    function test_AStampCannotForgeAFeedPrice() public {
        // "Observed this block", with a price of the caller's choosing.
        vm.expectRevert(stampOnAFeed("0", "0"));
        INFERENCE.inferFresh(FEED_ONLY, hex"6409", InferenceLib.stamp(0, NOW, 60));
        vm.expectRevert(stampOnAFeed("1", "1"));
        INFERENCE.inferFresh(MIXED, input, InferenceLib.withStamp(InferenceLib.stamp(3, NOW, 600), 1, NOW, 60));
        // Not even beside a real feed for it.
        vm.expectRevert(stampOnAFeed("1", "1"));
        INFERENCE.inferFreshWithFeeds(
            MIXED,
            input,
            InferenceLib.withStamp(InferenceLib.stamp(3, NOW, 600), 1, NOW, 60),
            InferenceLib.feed(address(feed), 1, 60)
        );
    }

    function test_NeitherSingleEntryPointCallsAMixedModel() public {
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.inferFresh(MIXED, input, InferenceLib.stamp(3, NOW, 600));
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 3));
        INFERENCE.inferWithFeeds(MIXED, input, InferenceLib.feed(address(feed), 1, 100));
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.infer(MIXED, input);
    }

    // ---- inferFreshWithFeeds ----

    function test_StampsAndFeedsTogether() public view {
        // RoundShift(1000 * 1, 8) = 4 replaces element 1; element 3 is the caller's.
        bytes memory out = INFERENCE.inferFreshWithFeeds(
            MIXED, input, InferenceLib.stamp(3, NOW - 500, 1000), InferenceLib.feed(address(feed), 1, 100)
        );
        assertEq(out, hex"01040304", "output");
        // Either array may be empty: it calls a model of one kind too.
        out = INFERENCE.inferFreshWithFeeds(
            FEED_ONLY, hex"0009", new IInference.Stamp[](0), InferenceLib.feed(address(feed), 0, 30)
        );
        assertEq(out, hex"0909", "feed only"); // -3 + RoundShift(3000, 8) = 9
    }

    function test_StampsAndFeedsRefusals() public {
        IInference.Stamp[] memory stamps = InferenceLib.stamp(3, NOW - 500, 1000);
        IInference.Feed[] memory feeds = InferenceLib.feed(address(feed), 1, 100);
        IInference.Stamp[] memory none = new IInference.Stamp[](0);
        IInference.Feed[] memory noFeeds = new IInference.Feed[](0);

        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 3));
        INFERENCE.inferFreshWithFeeds(MIXED, input, none, feeds);
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, noFeeds);
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.inferFreshWithFeeds(MIXED, input, none, noFeeds);

        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, NOW - 601, NOW, 600));
        INFERENCE.inferFreshWithFeeds(MIXED, input, InferenceLib.stamp(3, NOW - 601, 1000), feeds);
        vm.expectRevert(abi.encodeWithSelector(IInference.FutureInput.selector, 3, NOW + 1, NOW));
        INFERENCE.inferFreshWithFeeds(MIXED, input, InferenceLib.stamp(3, NOW + 1, 1000), feeds);
        // The caller's tighter age on the feed.
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 1, NOW - 5, NOW, 4));
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, InferenceLib.feed(address(feed), 1, 4));
        // The model's 60 s on the feed.
        feed.set(7, 1000, NOW - 61, 7);
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 1, NOW - 61, NOW, 60));
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, feeds);

        // Stamps are checked before any feed is read.
        RevertingFeed down = new RevertingFeed();
        vm.expectRevert(abi.encodeWithSelector(IInference.FeedUnavailable.selector, address(down)));
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, InferenceLib.feed(address(down), 1, 100));
        vm.expectRevert(abi.encodeWithSelector(IInference.StaleInput.selector, 3, NOW - 601, NOW, 600));
        INFERENCE.inferFreshWithFeeds(
            MIXED, input, InferenceLib.stamp(3, NOW - 601, 1000), InferenceLib.feed(address(down), 1, 100)
        );

        feed.set(7, 1000, NOW - 5, 7);
        vm.expectRevert(
            abi.encodeWithSelector(IInference.BadInput.selector, "feeds[1]: input element 3 has no feed scale in the model")
        );
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, InferenceLib.withFeed(feeds, address(feed), 3, 100));
        vm.expectRevert(abi.encodeWithSelector(IInference.BadInput.selector, "feeds[1]: input index 1 is fed twice"));
        INFERENCE.inferFreshWithFeeds(MIXED, input, stamps, InferenceLib.withFeed(feeds, address(feed), 1, 100));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInference.BadInput.selector, "stamps[0]: input index 9 is not an element (the model has 4)"
            )
        );
        INFERENCE.inferFreshWithFeeds(MIXED, input, InferenceLib.stamp(9, NOW, 1), feeds);

        bytes32 id = keccak256("nope");
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, id));
        INFERENCE.inferFreshWithFeeds(id, input, stamps, feeds);
    }

    // ---- models configured from their bytes ----

    /// A model set from its canonical bytes declares what those bytes
    /// declare: a dApp that tests against the mock with the real model sees
    /// MissingFreshness where the chain raises it, without declaring anything.
    function test_ModelBytesCarryTheirFreshness() public {
        bytes32 id = mock.setModelBytes(MIXED_MODEL_BYTES, 2026);
        assertEq(id, MIXED_MODEL_ID, "id is keccak256 of the bytes");
        assertEq(id, keccak256(MIXED_MODEL_BYTES), "id");
        IInference.ModelInfo memory info = INFERENCE.modelInfo(id);
        assertEq(info.inputBytes, 4, "inputBytes");
        assertEq(info.outputBytes, 4, "outputBytes");
        assertEq(info.inputElements, 4, "inputElements");
        assertEq(info.gas, 2026, "gas");
        assertEq(info.size, MIXED_MODEL_BYTES.length, "size");
        assertEq(info.freshness.length, 2, "freshness entries");
        assertEq(info.freshness[0].element, 1, "element");
        assertEq(info.freshness[0].maxAge, 60, "maxAge");
        assertTrue(info.freshness[0].feedable, "feedable");
        assertEq(info.freshness[1].element, 3, "element");
        assertEq(info.freshness[1].maxAge, 600, "maxAge");
        assertFalse(info.freshness[1].feedable, "stamped");

        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 1));
        INFERENCE.infer(id, input);
        vm.expectRevert(stampOnAFeed("0", "1"));
        INFERENCE.inferFresh(id, input, InferenceLib.stamp(1, NOW, 60));
        mock.setLogic(id, address(new EchoModel()));
        bytes memory out = INFERENCE.inferFreshWithFeeds(
            id, input, InferenceLib.stamp(3, NOW, 600), InferenceLib.feed(address(feed), 1, 60)
        );
        assertEq(out, hex"01040304", "the feed's answer, quantized with the model's scale");
    }

    function test_ModelBytesWithTwoInputs() public {
        bytes32 id = mock.setModelBytes(TWO_INPUTS_BYTES, 2048);
        IInference.ModelInfo memory info = INFERENCE.modelInfo(id);
        assertEq(info.inputBytes, 2 + 4, "inputBytes: int8[2] and int16[1,2]");
        assertEq(info.outputBytes, 6, "outputBytes");
        assertEq(info.inputElements, 4, "inputElements");
        mock.setLogic(id, address(new EchoModel()));
        feed.set(7, 1234, NOW - 5, 7);
        // Element 3 is b's second int16 (bytes 4-5, zero point 100):
        // 100 + 1234 = 1334 = 0x0536, little-endian.
        bytes memory out = INFERENCE.inferFreshWithFeeds(
            id, hex"000000000000", InferenceLib.stamp(0, NOW, 60), InferenceLib.feed(address(feed), 3, 30)
        );
        assertEq(out, hex"0000" hex"0000" hex"3605", "fed input");
        vm.expectRevert(abi.encodeWithSelector(IInference.MissingFreshness.selector, 0));
        INFERENCE.inferWithFeeds(id, hex"000000000000", InferenceLib.feed(address(feed), 3, 30));
    }

    /// outputLayout returns the output tensors the bytes declare, as the
    /// precompile does (vm/outputlayout_test.go): y int8[2] zp -3 at byte 0,
    /// then z int16[1,2] zp 100 at byte 2.
    function test_ModelBytesCarryTheirOutputLayout() public {
        bytes32 id = mock.setModelBytes(TWO_INPUTS_BYTES, 2048);
        IInference.TensorLayout[] memory l = INFERENCE.outputLayout(id);
        assertEq(l.length, 2, "two output tensors");
        assertLayout(l[0], 0, 2, mock.INT8(), -3, "y");
        assertEq(l[0].shape.length, 1, "y's rank");
        assertEq(l[0].shape[0], 2, "y's shape");
        assertLayout(l[1], 2, 4, mock.INT16(), 100, "z");
        assertEq(l[1].shape.length, 2, "z's rank");
        assertEq(l[1].shape[0], 1, "z's shape[0]");
        assertEq(l[1].shape[1], 2, "z's shape[1]");

        // Reconfigured by hand, the model has one int8 tensor of its output size.
        mock.setModel(id, 4, 3);
        l = INFERENCE.outputLayout(id);
        assertEq(l.length, 1, "one tensor");
        assertLayout(l[0], 0, 3, mock.INT8(), 0, "by hand");
        assertEq(l[0].shape.length, 1, "rank");
        assertEq(l[0].shape[0], 3, "shape");

        mock.removeModel(id);
        vm.expectRevert(abi.encodeWithSelector(IInference.ModelNotFound.selector, id));
        INFERENCE.outputLayout(id);
    }

    function assertLayout(
        IInference.TensorLayout memory t,
        uint256 offset,
        uint256 byteLength,
        uint8 dtype,
        int256 zeroPoint,
        string memory what
    ) internal pure {
        assertEq(t.offset, offset, string.concat(what, ": offset"));
        assertEq(t.byteLength, byteLength, string.concat(what, ": byteLength"));
        assertEq(t.dtype, dtype, string.concat(what, ": dtype"));
        assertEq(t.zeroPoint, zeroPoint, string.concat(what, ": zeroPoint"));
    }

    function test_ModelBytesThatAreNotAModel() public {
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "model bytes: not an INFM v1 model"));
        mock.setModelBytes(hex"00", 1);
        bytes memory b = MIXED_MODEL_BYTES;
        b[0] = "X";
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "model bytes: not an INFM v1 model"));
        mock.setModelBytes(b, 1);
        // Truncated: the tables run past the end.
        vm.expectRevert(abi.encodeWithSelector(MockInference.MockSetup.selector, "model bytes: the tables run past the end"));
        mock.setModelBytes(slice(MIXED_MODEL_BYTES, 100), 1);
    }

    function slice(bytes memory b, uint256 n) internal pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            out[i] = b[i];
        }
    }
}
