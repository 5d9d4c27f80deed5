package cpu

import "unsafe"

// chunkBytes bounds the prepared activation rows held at once: together with
// one weight panel they stay in the L2 cache while every panel passes over them.
const chunkBytes = 192 << 10

// maxRowBytes bounds one prepared activation row (K·elem). Larger K (only
// possible with mostly zero weights, given the overflow proof) runs on the
// reference code instead.
const maxRowBytes = 1 << 20

// source produces the rows of the activation matrix A (M × K) of a GEMM,
// prepared for the kernel set (XOR 0x80 or int16).
type source struct {
	kind sourceKind
	x    []byte // rows: M × K int8 activations; im2col: the prepared padded image
	k    int
	// MatMul: rowoff[m] = -zb · Σ_k a[m][k] (wrapping int32); zb = 0 means none.
	zb   int64
	conv *convGeom
}

type sourceKind int

const (
	sourceRows   sourceKind = iota // A is x itself, row-major
	sourceIm2col                   // A's rows are the receptive fields of a convolution
)

// fill writes rows m0..m1-1 of A into dst (lda bytes apart), zero-padded up
// to kp elements, and their per-row constants into rowoff. dst has slack
// past its last row: im2col may write a few bytes beyond kp.
func (s *source) fill(ks *kernelSet, dst []byte, lda, kp, m0, m1 int, rowoff []int32) {
	e := ks.elem
	if s.kind == sourceIm2col {
		s.conv.im2col(dst, lda, s.x, m0, m1, e)
	}
	for m := m0; m < m1; m++ {
		d := dst[(m-m0)*lda : (m-m0)*lda+kp*e]
		if s.kind == sourceRows {
			row := s.x[m*s.k : m*s.k+s.k]
			ks.prepare(d[:s.k*e], row)
			if s.zb != 0 {
				rowoff[m-m0] = int32(-s.zb * sumInt8(row))
			}
		}
		if pad := d[s.k*e:]; len(pad) <= 8 {
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
		src.fill(ks, a, lda, kp, m0, m1, rowoff)
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
