package cpu

import (
	"math"
	"unsafe"

	"github.com/infergeth/infergeth/params"
)

// chunkBytes bounds the prepared activation rows held at once: together with
// one weight panel they stay in the L2 cache while every panel passes over them.
const chunkBytes = 192 << 10

// maxRowBytes bounds one prepared activation row (K·elem). A longer K (only
// possible in a Conv2D with mostly zero weights, given the overflow proof)
// is cut into slices of at most this many bytes (gemmSliced).
const maxRowBytes = 1 << 20

// A FullyConnected or MatMul row is one operand's last axis: at most
// MaxTensorDim elements, 2 bytes each prepared for AVX2. This fails to
// compile if that could exceed maxRowBytes: only Conv2D needs slices.
const _ = uint(maxRowBytes - 2*params.MaxTensorDim)

// sliceGroups is how many k-groups one slice of a sliced GEMM holds.
func (ks *kernelSet) sliceGroups() int { return maxRowBytes / (ks.kAlign * ks.elem) }

// identityMult and identityZero make the fused epilogue store the int32
// accumulators unchanged (multiplier 1, shift 0, no rounding term).
var identityMult, identityZero = func() (m [64]int64) {
	for i := range m {
		m[i] = 1
	}
	return
}(), [64]int64{}

// source produces the rows of the activation matrix A (M × K) of a GEMM,
// prepared for the kernel set (XOR 0x80 or int16).
type source struct {
	kind sourceKind
	x    []byte // rows: M × K int8 activations; im2col: the prepared padded image
	k    int
	// MatMul: rowoff[m] = -zb · Σ_k a[m][k] (wrapping int32); zb = 0 means none.
	zb   int64
	conv *convGeom
	pad  []byte // sourceConv: the prepared padding element
}

type sourceKind int

const (
	sourceRows   sourceKind = iota // A is x itself, row-major
	sourceIm2col                   // A's rows are the receptive fields of a convolution, x its prepared padded image
	sourceConv                     // the same rows read from the unpadded input x (any K range)
)

// fill writes elements k0..k1-1 of rows m0..m1-1 of A into dst (lda bytes
// apart), zero-padded up to kp elements, and their per-row constants (over
// those elements) into rowoff. dst has slack past its last row: im2col may
// write a few bytes beyond kp. sourceIm2col takes whole rows only.
func (s *source) fill(ks *kernelSet, dst []byte, lda, kp, m0, m1, k0, k1 int, rowoff []int32) {
	e := ks.elem
	if s.kind == sourceIm2col {
		if k0 != 0 || k1 != s.k {
			panic("cpu: im2col of part of a row (internal error)")
		}
		s.conv.im2col(dst, lda, s.x, m0, m1, e)
	}
	n := k1 - k0
	for m := m0; m < m1; m++ {
		d := dst[(m-m0)*lda : (m-m0)*lda+kp*e]
		switch s.kind {
		case sourceRows:
			row := s.x[m*s.k+k0 : m*s.k+k1]
			ks.prepare(d[:n*e], row)
			if s.zb != 0 {
				rowoff[m-m0] = int32(-s.zb * sumInt8(row))
			}
		case sourceConv:
			s.conv.field(ks, d[:n*e], s.x, m, k0, k1, s.pad)
		}
		if pad := d[n*e:]; len(pad) <= 8 {
			for i := range pad {
				pad[i] = 0
			}
		} else {
			clear(pad)
		}
	}
}

// gemm computes out = epilogue(bias + rowoff + A·B) for the M rows of src:
// row m, column n of the result goes to out[m·ldo + n·esize].
func (ks *kernelSet) gemm(sc *scratch, pb *packedB, bias []int32, ep *epilogue, src *source, M int, out []byte, ldo int) {
	if pb.kg > pb.slice {
		ks.gemmSliced(sc, pb, bias, ep, src, M, out, ldo)
		return
	}
	kp := pb.kg * ks.kAlign
	lda := roundUp(kp*ks.elem, 64)
	mc := max(ks.mr, chunkBytes/lda/ks.mr*ks.mr)
	mc = min(mc, roundUp(M, ks.mr))
	a := sc.a.get(mc*lda + 64) // slack for im2col's word moves
	rowoff := int32s(&sc.rowoff, mc+ks.mr)
	pc := ks.panelCols()
	ldc := pc // tile: mr rows of one panel
	var tile []int32
	if !ks.fused {
		tile = int32s(&sc.tile, ks.mr*ldc)
	}
	bstep := pb.kg * ks.lanes * ks.kAlign // bytes per block of a panel
	_ = bias[pb.colsPadded(ks)-1]
	for m0 := 0; m0 < M; m0 += mc {
		m1 := min(M, m0+mc)
		src.fill(ks, a, lda, kp, m0, m1, 0, pb.k, rowoff)
		for p, pn := range pb.panels {
			col0 := p * pc
			cols := min(pc, pb.n-col0)
			_ = pb.data[pn.off+pn.blocks*bstep-1]
			_ = ep.mult[col0+pn.blocks*ks.lanes-1]
			var masks [4]uint16
			for j := range masks {
				masks[j] = uint16(1<<min(16, max(0, cols-16*j)) - 1)
			}
			for r := m0; r < m1; r += ks.mr {
				rows := min(ks.mr, m1-r)
				args := kernelArgs{
					a:      unsafe.Pointer(&a[(r-m0)*lda]),
					lda:    uintptr(lda),
					b:      unsafe.Pointer(&pb.data[pn.off]),
					kg:     uintptr(pb.kg),
					bias:   unsafe.Pointer(&bias[col0]),
					rowoff: unsafe.Pointer(&rowoff[r-m0]),
				}
				off := r*ldo + col0*ep.esize
				if !ks.fused {
					args.c, args.ldc = unsafe.Pointer(&tile[0]), uintptr(ldc*4)
					ks.runKernel(&args, rows, pn.blocks, 0)
					ks.requant(ep, tile, ldc, rows, cols, col0, out, off, ldo)
					continue
				}
				_ = out[off+(rows-1)*ldo+cols*ep.esize-1]
				args.out, args.ldo = unsafe.Pointer(&out[off]), uintptr(ldo)
				args.mult, args.round, args.shift = unsafe.Pointer(&ep.mult[col0]), unsafe.Pointer(&ep.round[col0]), unsafe.Pointer(&ep.shift[col0])
				args.zy, args.qmin, args.qmax = ep.zy, ep.qmin, ep.qmax
				args.masks = masks
				ks.runKernel(&args, rows, pn.blocks, ep.esize)
			}
		}
	}
}

// gemmSliced is gemm for a K too long for one prepared row: K is cut into
// slices of whole k-groups (consecutive in every packed panel, so a slice is
// the panel's data from its first group on). For each tile of rows, each
// slice's sums come out of the micro-kernel as int32 (the fused kernels
// through an identity epilogue), are added into a row of accumulators, and
// the epilogue requantizes the total. Only the first slice adds the bias.
// The additions wrap modulo 2^32 and the true total fits int32 (the
// overflow proof), so the result is exact, as in gemm.
func (ks *kernelSet) gemmSliced(sc *scratch, pb *packedB, bias []int32, ep *epilogue, src *source, M int, out []byte, ldo int) {
	sg, ka := pb.slice, ks.kAlign
	lda := roundUp(sg*ka*ks.elem, 64)
	a := sc.a.get(ks.mr*lda + 64)
	rowoff := int32s(&sc.rowoff, ks.mr)
	pc := ks.panelCols()
	padded := pb.colsPadded(ks)
	acc := int32s(&sc.acc, ks.mr*padded)
	tile := int32s(&sc.tile, ks.mr*pc)
	zero := int32s(&sc.zero, pc)
	_ = bias[padded-1]
	for m0 := 0; m0 < M; m0 += ks.mr {
		rows := min(ks.mr, M-m0)
		clear(acc)
		for g0 := 0; g0 < pb.kg; g0 += sg {
			g1 := min(pb.kg, g0+sg)
			src.fill(ks, a, lda, (g1-g0)*ka, m0, m0+rows, g0*ka, min(g1*ka, pb.k), rowoff)
			for p, pn := range pb.panels {
				col0 := p * pc
				cols := pn.blocks * ks.lanes
				gstride := cols * ka
				_ = pb.data[pn.off+pb.kg*gstride-1]
				args := kernelArgs{
					a: unsafe.Pointer(&a[0]), lda: uintptr(lda),
					b: unsafe.Pointer(&pb.data[pn.off+g0*gstride]), kg: uintptr(g1 - g0),
					bias: unsafe.Pointer(&zero[0]), rowoff: unsafe.Pointer(&rowoff[0]),
				}
				if g0 == 0 {
					args.bias = unsafe.Pointer(&bias[col0])
				}
				if ks.fused {
					args.out, args.ldo = unsafe.Pointer(&tile[0]), uintptr(pc*4)
					args.mult, args.round, args.shift = unsafe.Pointer(&identityMult[0]), unsafe.Pointer(&identityZero[0]), unsafe.Pointer(&identityZero[0])
					args.zy, args.qmin, args.qmax = 0, math.MinInt32, math.MaxInt32
					args.masks = [4]uint16{0xffff, 0xffff, 0xffff, 0xffff}
					ks.runKernel(&args, rows, pn.blocks, 4)
				} else {
					args.c, args.ldc = unsafe.Pointer(&tile[0]), uintptr(pc*4)
					ks.runKernel(&args, rows, pn.blocks, 0)
				}
				for r := 0; r < rows; r++ {
					d, t := acc[r*padded+col0:r*padded+col0+cols], tile[r*pc:r*pc+cols]
					for i := range d {
						d[i] += t[i]
					}
				}
			}
		}
		for p := range pb.panels {
			col0 := p * pc
			ks.requant(ep, acc[col0:], padded, rows, min(pc, pb.n-col0), col0, out, m0*ldo+col0*ep.esize, ldo)
		}
	}
}
