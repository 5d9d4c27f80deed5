// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {TensorCodec} from "../src/TensorCodec.sol";
import {MockInference} from "../src/MockInference.sol";

/// Calls the library through a contract so reverts can be expected.
contract Codec {
    function int8At(bytes memory b, uint256 i) external pure returns (int8) {
        return TensorCodec.int8At(b, i);
    }

    function int16At(bytes memory b, uint256 i) external pure returns (int16) {
        return TensorCodec.int16At(b, i);
    }

    function argmaxInt8(bytes memory b) external pure returns (uint256) {
        return TensorCodec.argmaxInt8(b);
    }

    function toInt8(int256 v) external pure returns (int8) {
        return TensorCodec.toInt8(v);
    }
}

contract TensorCodecTest is Test {
    Codec codec = new Codec();
    MockInference rule = new MockInference();

    function test_PackAndReadInt8() public pure {
        int8[] memory v = new int8[](4);
        (v[0], v[1], v[2], v[3]) = (int8(-128), int8(-1), int8(0), int8(127));
        bytes memory b = TensorCodec.packInt8(v);
        assertEq(b, hex"80ff007f", "packed");
        assertEq(TensorCodec.int8At(b, 0), -128, "element 0");
        assertEq(TensorCodec.int8At(b, 3), 127, "element 3");
        int8[] memory back = TensorCodec.unpackInt8(b);
        for (uint256 i = 0; i < 4; i++) {
            assertEq(back[i], v[i], "round trip");
        }
        int256[] memory w = new int256[](2);
        (w[0], w[1]) = (int256(5), int256(-6));
        assertEq(TensorCodec.packInt8Checked(w), hex"05fa", "checked");
    }

    function test_LittleEndianWiderTypes() public pure {
        int16[] memory h = new int16[](2);
        (h[0], h[1]) = (int16(0x0102), int16(-2));
        bytes memory b = TensorCodec.packInt16(h);
        assertEq(b, hex"0201feff", "int16 little-endian");
        assertEq(TensorCodec.int16At(b, 1), -2, "int16 read");
        int32[] memory w = new int32[](2);
        (w[0], w[1]) = (int32(0x01020304), type(int32).min);
        b = TensorCodec.packInt32(w);
        assertEq(b, hex"04030201" hex"00000080", "int32 little-endian");
        assertEq(TensorCodec.int32At(b, 1), type(int32).min, "int32 read");
        TensorCodec.setInt32(b, 0, -1);
        assertEq(b, hex"ffffffff" hex"00000080", "setInt32");
        TensorCodec.setInt16(b, 3, 0x7f00);
        assertEq(b, hex"ffffffff" hex"0000007f", "setInt16 at element 3");
        int32[] memory back = TensorCodec.unpackInt32(b);
        assertEq(back[0], -1, "unpack");
    }

    function test_ArgmaxTakesTheFirstLargest() public pure {
        assertEq(TensorCodec.argmaxInt8(hex"05ff0705"), 2, "largest");
        assertEq(TensorCodec.argmaxInt8(hex"07ff0707"), 0, "first of ties");
        assertEq(TensorCodec.argmaxInt8(hex"8080"), 0, "all minimum");
        assertEq(TensorCodec.argmaxInt16(hex"0100ff7f0100"), 1, "int16");
        assertEq(TensorCodec.argmaxInt32(hex"ffffffff" hex"feffffff"), 0, "int32 negatives");
    }

    function test_Refusals() public {
        vm.expectRevert(abi.encodeWithSelector(TensorCodec.IndexOutOfRange.selector, 2, 2));
        codec.int8At(hex"0102", 2);
        vm.expectRevert(abi.encodeWithSelector(TensorCodec.IndexOutOfRange.selector, 1, 3));
        codec.int16At(hex"010203", 1);
        vm.expectRevert(TensorCodec.EmptyTensor.selector);
        codec.argmaxInt8("");
        vm.expectRevert(abi.encodeWithSelector(TensorCodec.ValueOutOfRange.selector, 128));
        codec.toInt8(128);
        assertEq(TensorCodec.clampInt8(1000), 127, "clamp");
        assertEq(TensorCodec.clampInt8(-1000), -128, "clamp");
    }

    /// quantizeInt8 is the precompile's feed rule for int8 elements.
    function testFuzz_QuantizeInt8MatchesTheFeedRule(int128 value, uint32 multiplier, uint8 shift, int8 zp) public view {
        int256 m = int256(uint256(multiplier % uint32(type(int32).max)) + 1);
        assertEq(
            TensorCodec.quantizeInt8(value, m, shift, zp),
            rule.quantizeFeed(value, int32(m), shift, zp, 1),
            "quantizeInt8"
        );
    }
}
