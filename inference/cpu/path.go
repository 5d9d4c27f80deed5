package cpu

import (
	"fmt"
	"unsafe"
)

//go:generate go run gen_kernels.go

// Path is the instruction set a Backend's kernels use. Every path gives the
// same bytes; they differ only in speed.
type Path int

const (
	// PathGeneric runs the reference implementation of every op: what the
	// backend does on other architectures and on CPUs without AVX2.
	PathGeneric Path = iota
	// PathAVX2 uses VPMADDWD on sign-extended int16 pairs (exact).
	PathAVX2
	// PathVNNI uses AVX-512 VNNI VPDPBUSD with activations flipped by
	// XOR 0x80 (exact mod 2^32; see docs/cpu-backend.md).
	PathVNNI
)

func (p Path) String() string {
	switch p {
	case PathGeneric:
		return "generic"
	case PathAVX2:
		return "avx2"
	case PathVNNI:
		return "vnni"
	}
	return fmt.Sprintf("path(%d)", int(p))
}

// ParsePath is the inverse of Path.String.
func ParsePath(s string) (Path, error) {
	for _, p := range []Path{PathGeneric, PathAVX2, PathVNNI} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("cpu: unknown kernel path %q (known: generic, avx2, vnni)", s)
}

// Supported lists the paths this machine can run, the fastest first.
// PathGeneric is always last.
func Supported() []Path {
	var out []Path
	if hasVNNI() {
		out = append(out, PathVNNI)
	}
	if hasAVX2() {
		out = append(out, PathAVX2)
	}
	return append(out, PathGeneric)
}

// kernelSet describes the packed layouts and micro-kernel shape of one path.
// A panel is lanes·blocks output columns; within a panel the packed weights
// are, for each group of kAlign consecutive k, blocks × lanes × kAlign int8
// (the operand of one vector multiply-add per block; the AVX2 kernels
// sign-extend it to int16 as they load it).
type kernelSet struct {
	path   Path
	kAlign int   // k values per group: 4 (VPDPBUSD) or 2 (VPMADDWD)
	lanes  int   // int32 lanes per vector: output columns per block
	blocks int   // blocks per panel
	mr     int   // rows per micro-kernel
	elem   int   // bytes per prepared activation: 1 (u8) or 2 (int16)
	aBias  int64 // what preparing an activation adds to it: 128 (XOR 0x80) or 0
	dwLane int   // channels per depthwise vector
	fused  bool  // the micro-kernels requantize and store outputs themselves
}

func (ks *kernelSet) panelCols() int { return ks.lanes * ks.blocks }

var (
	vnniSet = kernelSet{path: PathVNNI, kAlign: 4, lanes: 16, blocks: 4, mr: 6, elem: 1, aBias: 128, dwLane: 16, fused: true}
	avx2Set = kernelSet{path: PathAVX2, kAlign: 2, lanes: 8, blocks: 2, mr: 6, elem: 2, aBias: 0, dwLane: 8}
)

// kernelArgs is what a GEMM micro-kernel reads (offsets fixed in
// gen_kernels.go, checked by TestArgOffsets). It computes, for rows r and
// blocks j of one panel, acc[r][j·lanes + l] = bias[j·lanes + l] + rowoff[r]
// + Σ_k a[r][k]·b[k][j·lanes + l] in wrapping int32, then either stores acc
// to c (AVX2) or requantizes it and stores the outputs to out (VNNI).
type kernelArgs struct {
	a      unsafe.Pointer // row 0 of the prepared activations
	lda    uintptr        // bytes between rows of a
	b      unsafe.Pointer // the panel's packed weights
	kg     uintptr        // k groups (≥ 1)
	bias   unsafe.Pointer // blocks·lanes int32: per-column constant
	rowoff unsafe.Pointer // rows int32: per-row constant
	c      unsafe.Pointer // rows × blocks·lanes int32 out (tile kernels)
	ldc    uintptr        // bytes between rows of c
	// The fused epilogue (VNNI): see requantArgs for the fields' meaning.
	out   unsafe.Pointer
	ldo   uintptr
	mult  unsafe.Pointer
	round unsafe.Pointer
	shift unsafe.Pointer
	zy    int64
	qmin  int64
	qmax  int64
	masks [4]uint16 // per block: the columns to store
}

// requantArgs is what the vectorized epilogue reads: rows × cols int32 at c
// become Requantize(c, mult, shift, zy, qmin, qmax) at out.
type requantArgs struct {
	c     unsafe.Pointer
	ldc   uintptr // bytes between rows of c
	rows  uintptr // ≥ 1
	cols  uintptr // ≥ 1
	mult  unsafe.Pointer
	round unsafe.Pointer // per column: 2^(shift-1), or 0 when shift is 0
	shift unsafe.Pointer
	zy    int64
	qmin  int64
	qmax  int64
	out   unsafe.Pointer
	ldo   uintptr // bytes between rows of out
}

// dwArgs is what a depthwise kernel reads: for its number of output pixels
// (x advancing by pixStride bytes) and groups of lanes channels,
// c[pixel][ch] = bias[ch] + Σ_t x[pixel + taps[t] + ch] · w[t][ch].
type dwArgs struct {
	x         unsafe.Pointer // the first pixel's top-left tap in the padded image
	taps      unsafe.Pointer // ntaps int64 byte offsets
	ntaps     uintptr        // ≥ 1
	w         unsafe.Pointer // ntaps rows of groups·lanes int32
	bias      unsafe.Pointer // groups·lanes int32
	groups    uintptr        // ≥ 1
	pixStride uintptr
	c         unsafe.Pointer
	ldc       uintptr // bytes between pixels of c
	wStride   uintptr // bytes between tap rows of w
}
