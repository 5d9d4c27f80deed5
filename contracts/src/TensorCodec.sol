// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Packs model inputs and reads model outputs
/// @notice A model's input and output bytes are its tensors' elements,
/// little-endian two's complement, concatenated: one byte per int8, two per
/// int16, four per int32. Element `i` of an int16 tensor starting at byte
/// `off` is at `off + 2*i`. Functions here take an element index into a
/// byte string holding one type; slice first for mixed outputs.
library TensorCodec {
    /// Element `index` does not fit in `length` bytes.
    error IndexOutOfRange(uint256 index, uint256 length);
    /// `value` does not fit the element type.
    error ValueOutOfRange(int256 value);
    /// argmax of nothing.
    error EmptyTensor();

    // ---- packing ----

    function packInt8(int8[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(values.length);
        for (uint256 i = 0; i < values.length; i++) {
            out[i] = bytes1(uint8(values[i]));
        }
    }

    function packInt16(int16[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(2 * values.length);
        for (uint256 i = 0; i < values.length; i++) {
            _store(out, 2 * i, 2, uint256(int256(values[i])));
        }
    }

    function packInt32(int32[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(4 * values.length);
        for (uint256 i = 0; i < values.length; i++) {
            _store(out, 4 * i, 4, uint256(int256(values[i])));
        }
    }

    /// Packs values that must each fit int8 (reverts ValueOutOfRange).
    function packInt8Checked(int256[] memory values) internal pure returns (bytes memory out) {
        out = new bytes(values.length);
        for (uint256 i = 0; i < values.length; i++) {
            out[i] = bytes1(uint8(toInt8(values[i])));
        }
    }

    function setInt8(bytes memory b, uint256 index, int8 value) internal pure {
        _check(b, index, 1);
        b[index] = bytes1(uint8(value));
    }

    function setInt16(bytes memory b, uint256 index, int16 value) internal pure {
        _check(b, index, 2);
        _store(b, 2 * index, 2, uint256(int256(value)));
    }

    function setInt32(bytes memory b, uint256 index, int32 value) internal pure {
        _check(b, index, 4);
        _store(b, 4 * index, 4, uint256(int256(value)));
    }

    // ---- reading ----

    function int8At(bytes memory b, uint256 index) internal pure returns (int8) {
        _check(b, index, 1);
        return int8(uint8(b[index]));
    }

    function int16At(bytes memory b, uint256 index) internal pure returns (int16) {
        _check(b, index, 2);
        return int16(uint16(_load(b, 2 * index, 2)));
    }

    function int32At(bytes memory b, uint256 index) internal pure returns (int32) {
        _check(b, index, 4);
        return int32(uint32(_load(b, 4 * index, 4)));
    }

    function unpackInt8(bytes memory b) internal pure returns (int8[] memory out) {
        out = new int8[](b.length);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = int8(uint8(b[i]));
        }
    }

    function unpackInt16(bytes memory b) internal pure returns (int16[] memory out) {
        out = new int16[](b.length / 2);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = int16(uint16(_load(b, 2 * i, 2)));
        }
    }

    function unpackInt32(bytes memory b) internal pure returns (int32[] memory out) {
        out = new int32[](b.length / 4);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = int32(uint32(_load(b, 4 * i, 4)));
        }
    }

    /// The index of the first largest int8 element (as the ArgMax op picks).
    function argmaxInt8(bytes memory b) internal pure returns (uint256 best) {
        if (b.length == 0) revert EmptyTensor();
        for (uint256 i = 1; i < b.length; i++) {
            if (int8(uint8(b[i])) > int8(uint8(b[best]))) best = i;
        }
    }

    /// The index of the first largest int16 element.
    function argmaxInt16(bytes memory b) internal pure returns (uint256 best) {
        int16[] memory v = unpackInt16(b);
        if (v.length == 0) revert EmptyTensor();
        for (uint256 i = 1; i < v.length; i++) {
            if (v[i] > v[best]) best = i;
        }
    }

    /// The index of the first largest int32 element.
    function argmaxInt32(bytes memory b) internal pure returns (uint256 best) {
        int32[] memory v = unpackInt32(b);
        if (v.length == 0) revert EmptyTensor();
        for (uint256 i = 1; i < v.length; i++) {
            if (v[i] > v[best]) best = i;
        }
    }

    // ---- reading by byte offset (mixed-type outputs) ----

    /// The int8 at byte `off`.
    function int8AtByte(bytes memory b, uint256 off) internal pure returns (int8) {
        _checkBytes(b, off, 1);
        return int8(uint8(b[off]));
    }

    /// The little-endian int16 at bytes `off`, `off+1`.
    function int16AtByte(bytes memory b, uint256 off) internal pure returns (int16) {
        _checkBytes(b, off, 2);
        return int16(uint16(_load(b, off, 2)));
    }

    /// The little-endian int32 at bytes `off` to `off+3`: e.g. the demo MLP's
    /// class, an int32 tensor at byte 10 after ten int8 logits.
    function int32AtByte(bytes memory b, uint256 off) internal pure returns (int32) {
        _checkBytes(b, off, 4);
        return int32(uint32(_load(b, off, 4)));
    }

    /// The index (from 0) of the first largest of the `count` int8 elements
    /// starting at byte `off`: argmax of one int8 tensor inside an output.
    function argmaxInt8(bytes memory b, uint256 off, uint256 count) internal pure returns (uint256 best) {
        if (count == 0) revert EmptyTensor();
        _checkBytes(b, off, count);
        for (uint256 i = 1; i < count; i++) {
            if (int8(uint8(b[off + i])) > int8(uint8(b[off + best]))) best = i;
        }
    }

    // ---- numbers ----

    /// `value` as int8, or ValueOutOfRange.
    function toInt8(int256 value) internal pure returns (int8) {
        if (value < type(int8).min || value > type(int8).max) revert ValueOutOfRange(value);
        return int8(value);
    }

    /// `value` clamped into int8's range.
    function clampInt8(int256 value) internal pure returns (int8) {
        if (value < type(int8).min) return type(int8).min;
        if (value > type(int8).max) return type(int8).max;
        return int8(value);
    }

    /// `clamp(zeroPoint + roundHalfUp(value * multiplier / 2**shift))` in
    /// int8: the rule by which the precompile writes a feed's answer into an
    /// int8 element, so a contract can predict what a model sees. Reverts on
    /// overflow of `value * multiplier` (the precompile computes it exactly).
    function quantizeInt8(int256 value, int256 multiplier, uint8 shift, int256 zeroPoint)
        internal
        pure
        returns (int8)
    {
        int256 v = value * multiplier;
        if (shift > 0) v = (v + (int256(1) << (shift - 1))) >> shift;
        return clampInt8(v + zeroPoint);
    }

    // ---- internals ----

    function _check(bytes memory b, uint256 index, uint256 width) private pure {
        if (index >= b.length / width) revert IndexOutOfRange(index, b.length);
    }

    function _checkBytes(bytes memory b, uint256 off, uint256 width) private pure {
        if (off > b.length || width > b.length - off) revert IndexOutOfRange(off, b.length);
    }

    /// Writes the low `width` bytes of `v` little-endian at byte `off`.
    function _store(bytes memory b, uint256 off, uint256 width, uint256 v) private pure {
        for (uint256 k = 0; k < width; k++) {
            b[off + k] = bytes1(uint8(v >> (8 * k)));
        }
    }

    /// Reads `width` bytes little-endian at byte `off`.
    function _load(bytes memory b, uint256 off, uint256 width) private pure returns (uint256 v) {
        for (uint256 k = 0; k < width; k++) {
            v |= uint256(uint8(b[off + k])) << (8 * k);
        }
    }
}
