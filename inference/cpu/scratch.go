package cpu

import (
	"sync"
	"unsafe"
)

// scratch holds one Run's working buffers. A program keeps a sync.Pool of
// them, so concurrent Runs never share one and a warm Run allocates nothing.
type scratch struct {
	a       alignedBuf // prepared activation rows (one chunk)
	img     alignedBuf // padded, prepared input image (Conv2D, DepthwiseConv2D)
	bpack   alignedBuf // MatMul: B packed at run time
	tile    []int32    // micro-kernel output tile
	rowoff  []int32    // per-row constants (MatMul) or zeros
	colterm []int32    // MatMul: per-column constants
	colsum  []int64    // MatMul: Σ_k b[k][n]
	acc     []int32    // gemmSliced: a tile's sums over the slices so far
	zero    []int32    // gemmSliced: the bias of every slice but the first
	gather  alignedBuf // DepthwiseConv2D without a padded image: the taps of a few pixels

	// Typed element ops.
	normMemo *rowMemo   // the norms' per-row results (normalize.go)
	i32      []int32    // per-channel or per-column accumulators
	i64      []int64    // per-output sums (Mean)
	tbuf     alignedBuf // a Transpose block
	rowTable [256]int64 // a long row's values by input value (normalize.go)
}

// memo returns the memo *p, allocating it on first use. It keeps its
// entries from run to run: they are pure functions of their keys.
func (s *scratch) memo(p **rowMemo) *rowMemo {
	if *p == nil {
		*p = new(rowMemo)
	}
	return *p
}

// scratchPool is one program's: besides the Runs' buffers it counts what
// the program's nodes keep for as long as the program lives (held), which
// Prepare reports (inference.Holder).
type scratchPool struct {
	p    sync.Pool
	held int // written by Prepare only, before the program is shared
}

// keep counts n bytes a node keeps for the program's lifetime.
func (sp *scratchPool) keep(n int) { sp.held += n }

func newScratchPool() *scratchPool {
	return &scratchPool{p: sync.Pool{New: func() any { return new(scratch) }}}
}

func (sp *scratchPool) get() *scratch  { return sp.p.Get().(*scratch) }
func (sp *scratchPool) put(s *scratch) { sp.p.Put(s) }

// alignedBuf is a byte buffer whose start is 64-byte aligned (a cache line:
// the kernels' vector loads then never split lines).
type alignedBuf struct{ raw []byte }

// get returns n bytes, 64-byte aligned. Their contents are whatever the
// buffer held before.
func (b *alignedBuf) get(n int) []byte {
	if cap(b.raw) < n+64 {
		b.raw = make([]byte, n+64)
	}
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b.raw)))) & 63
	return b.raw[off : off+n : off+n]
}

// int32s returns a zeroed []int32 of length n, reusing buf.
func int32s(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

func int64s(buf *[]int64, n int) []int64 {
	if cap(*buf) < n {
		*buf = make([]int64, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

func roundUp(v, m int) int { return (v + m - 1) / m * m }

// alignedBytes allocates n zeroed bytes, 64-byte aligned.
func alignedBytes(n int) []byte {
	var b alignedBuf
	return b.get(n)
}
