// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./utils/Test.sol";
import {TensorCodec} from "../src/TensorCodec.sol";

/// Calls the byte-offset readers through a contract so reverts can be expected.
contract LayoutCodec {
    function int32AtByte(bytes memory b, uint256 off) external pure returns (int32) {
        return TensorCodec.int32AtByte(b, off);
    }

    function argmaxInt8(bytes memory b, uint256 off, uint256 count) external pure returns (uint256) {
        return TensorCodec.argmaxInt8(b, off, count);
    }
}

/// Outputs of mixed types read by the layout modelInfo declares: the demo
/// MLP's output is int8[10] logits at byte 0 and an int32 class at byte 10.
contract TensorLayoutTest is Test {
    // tests/vectors/mlp/output.hex
    bytes constant MLP_OUTPUT = hex"ff03ff0e0a09faf80aef03000000";

    function test_MixedOutputByDeclaredOffsets() public pure {
        assertEq(TensorCodec.argmaxInt8(MLP_OUTPUT, 0, 10), 3, "argmax of the ten logits");
        assertEq(int256(TensorCodec.int32AtByte(MLP_OUTPUT, 10)), 3, "the int32 class at byte 10");
        assertEq(int256(TensorCodec.int8AtByte(MLP_OUTPUT, 9)), -17, "logit 9");
        assertEq(int256(TensorCodec.int16AtByte(hex"00ff7f", 1)), 32767, "int16 at an odd byte");
        // Indexing by element (4*i) cannot reach byte 10: element 2 is bytes 8..11.
        assertEq(int256(TensorCodec.int32At(MLP_OUTPUT, 2)), int256(int32(uint32(0x00_03_ef_0a))), "element 2 is not the class");
    }

    function test_ByteOffsetRefusals() public {
        LayoutCodec c = new LayoutCodec();
        vm.expectRevert(abi.encodeWithSelector(TensorCodec.IndexOutOfRange.selector, 11, 14));
        c.int32AtByte(MLP_OUTPUT, 11);
        vm.expectRevert(abi.encodeWithSelector(TensorCodec.IndexOutOfRange.selector, 5, 14));
        c.argmaxInt8(MLP_OUTPUT, 5, 10);
        vm.expectRevert(TensorCodec.EmptyTensor.selector);
        c.argmaxInt8(MLP_OUTPUT, 3, 0);
    }
}
