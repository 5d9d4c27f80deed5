package vm

import (
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// A minimal, strict Solidity ABI reader and writer for the few shapes the
// inference precompile takes and returns. It is written here, not taken from
// accounts/abi, so that every length and offset check is in plain sight:
// calldata comes from any transaction and must never cause a panic or an
// allocation larger than itself.

// selector is the first four bytes of keccak256(signature).
func selector(signature string) [4]byte {
	var s [4]byte
	copy(s[:], crypto.Keccak256([]byte(signature)))
	return s
}

// args reads the ABI-encoded arguments that follow a selector.
type args []byte

// word returns the 32-byte word at byte offset off.
func (a args) word(off uint64) ([]byte, error) {
	if off > uint64(len(a)) || uint64(len(a))-off < 32 {
		return nil, fmt.Errorf("calldata is %d bytes; a word at offset %d runs past it", len(a), off)
	}
	return a[off : off+32], nil
}

// uint reads the word at off as an unsigned integer of the given bit width,
// refusing dirty high bits as Solidity's decoder does.
func (a args) uint(off uint64, bits int) (uint64, error) {
	w, err := a.word(off)
	if err != nil {
		return 0, err
	}
	if bits > 64 {
		bits = 64
	}
	for i := 0; i < 32-bits/8; i++ {
		if w[i] != 0 {
			return 0, fmt.Errorf("word at offset %d does not fit uint%d", off, bits)
		}
	}
	return binary.BigEndian.Uint64(w[24:]), nil
}

func (a args) bytes32(off uint64) (common.Hash, error) {
	w, err := a.word(off)
	if err != nil {
		return common.Hash{}, err
	}
	return common.BytesToHash(w), nil
}

func (a args) address(off uint64) (common.Address, error) {
	w, err := a.word(off)
	if err != nil {
		return common.Address{}, err
	}
	for _, b := range w[:12] {
		if b != 0 {
			return common.Address{}, fmt.Errorf("word at offset %d is not an address", off)
		}
	}
	return common.BytesToAddress(w[12:]), nil
}

// tail follows the offset stored in the head word at off and returns the
// position of the dynamic value's length word and the length it declares.
func (a args) tail(off uint64) (uint64, uint64, error) {
	ptr, err := a.uint(off, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("offset: %w", err)
	}
	n, err := a.uint(ptr, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("length: %w", err)
	}
	return ptr, n, nil
}

// dynBytes reads a `bytes` argument whose offset is in the head word at off.
// The declared length is checked against the calldata before any copy.
func (a args) dynBytes(off uint64) ([]byte, error) {
	ptr, n, err := a.tail(off)
	if err != nil {
		return nil, err
	}
	start := ptr + 32
	if n > uint64(len(a))-start {
		return nil, fmt.Errorf("bytes of declared length %d run past the %d-byte calldata", n, len(a))
	}
	return a[start : start+n], nil
}

// array reads the header of a dynamic array of static tuples of `words`
// words each (offset in the head word at off) and returns the position of
// its first element and its length, checked against the calldata.
func (a args) array(off uint64, words uint64) (uint64, uint64, error) {
	ptr, n, err := a.tail(off)
	if err != nil {
		return 0, 0, err
	}
	start := ptr + 32
	if n > (uint64(len(a))-start)/(32*words) {
		return 0, 0, fmt.Errorf("array of declared length %d runs past the %d-byte calldata", n, len(a))
	}
	return start, n, nil
}

// encoder builds ABI-encoded return data and revert data.
type encoder struct{ buf []byte }

func (e *encoder) uint(v uint64) *encoder {
	var w [32]byte
	binary.BigEndian.PutUint64(w[24:], v)
	e.buf = append(e.buf, w[:]...)
	return e
}

// int appends v sign-extended to 256 bits, as Solidity encodes intN.
func (e *encoder) int(v int64) *encoder {
	var w [32]byte
	if v < 0 {
		for i := range w {
			w[i] = 0xff
		}
	}
	binary.BigEndian.PutUint64(w[24:], uint64(v))
	e.buf = append(e.buf, w[:]...)
	return e
}

func (e *encoder) big(v *big.Int) *encoder {
	var w [32]byte
	v.FillBytes(w[:])
	e.buf = append(e.buf, w[:]...)
	return e
}

func (e *encoder) bytes32(h common.Hash) *encoder {
	e.buf = append(e.buf, h[:]...)
	return e
}

func (e *encoder) address(a common.Address) *encoder {
	var w [32]byte
	copy(w[12:], a[:])
	e.buf = append(e.buf, w[:]...)
	return e
}

// tailBytes appends a length word and b padded to a multiple of 32.
func (e *encoder) tailBytes(b []byte) *encoder {
	e.uint(uint64(len(b)))
	e.buf = append(e.buf, b...)
	if pad := (32 - len(b)%32) % 32; pad > 0 {
		e.buf = append(e.buf, make([]byte, pad)...)
	}
	return e
}

// encodeBytes is the return data of a function returning one `bytes`.
func encodeBytes(b []byte) []byte {
	e := &encoder{buf: make([]byte, 0, 64+len(b)+32)}
	return e.uint(32).tailBytes(b).buf
}

// encodeString is the encoding of one `string` argument.
func encodeString(sel [4]byte, s string) []byte {
	e := &encoder{buf: append([]byte(nil), sel[:]...)}
	return e.uint(32).tailBytes([]byte(s)).buf
}
