package cpu

import (
	"fmt"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// dense is a prepared FullyConnected or Conv2D: its weights packed, its
// bias folded and its requantization laid out. Read-only after prepare.
type dense struct {
	ks   *kernelSet
	pool *scratchPool
	pb   packedB
	// bias[c] = bias_c − (zx + aBias)·Σ_k w[c][k], wrapped to int32: with
	// prepared activations u = x + aBias, bias + Σ (x − zx)·w = bias[c] +
	// Σ u·w exactly mod 2^32, and the overflow proof puts the true value in
	// int32, so the wrapped sum is the true value.
	bias []int32
	ep   *epilogue
}

// newDense packs weights w (N × K, row n holding output channel n's K
// weights) for ks and folds the operands' constants.
func newDense(ks *kernelSet, pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, k, n int, qmin, qmax int32) *dense {
	w, bias, mult, shift := ts[1], ts[2], ts[3], ts[4]
	pb, size := layoutB(ks, k, n)
	pb.data = alignedBytes(size)
	sumW := make([]int64, n)
	pb.packNK(ks, pb.data, w.Data, sumW)
	padded := pb.colsPadded(ks)
	d := &dense{ks: ks, pool: pool, pb: pb, bias: make([]int32, padded)}
	zx := int64(ts[0].ZeroPoint) + ks.aBias
	for c := 0; c < n; c++ {
		d.bias[c] = int32(bias.At(c) - zx*sumW[c])
	}
	d.ep = newEpilogue(n, padded, mult.At, shift.At, out.ZeroPoint, qmin, qmax, out.DType)
	pool.keep(len(pb.data) + 4*len(d.bias) + d.ep.bytes())
	return d
}

// fullyConnected prepares a FullyConnected node.
func fullyConnected(ks *kernelSet, pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.FullyConnectedAttrs) reference.NodeFunc {
	x := ts[0]
	k := x.Shape[len(x.Shape)-1]
	n := ts[1].Shape[0]
	rows := x.Elements() / k
	d := newDense(ks, pool, ts, out, k, n, a.QMin, a.QMax)
	ldo := n * d.ep.esize
	return func(in [][]byte, y []byte) error {
		if len(in[0]) != rows*k || len(y) != rows*ldo {
			return fmt.Errorf("cpu: FullyConnected operand sizes %d, %d; want %d, %d", len(in[0]), len(y), rows*k, rows*ldo)
		}
		sc := pool.get()
		defer pool.put(sc)
		src := source{kind: sourceRows, x: in[0], k: k}
		ks.gemm(sc, &d.pb, d.bias, d.ep, &src, rows, y, ldo)
		return nil
	}
}

// conv2D prepares a Conv2D node as a GEMM over the im2col matrix (a 1×1,
// stride 1, unpadded convolution is a GEMM over the input itself). The
// im2col rows come from a padded copy of the input, or, when that copy
// would exceed maxImageBytes or a row maxRowBytes (a sliced GEMM), straight
// from the input (convGeom.field).
func conv2D(ks *kernelSet, pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.Conv2DAttrs, bd bounds) reference.NodeFunc {
	x, w := ts[0], ts[1]
	oc, kh, kw, c := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	k := kh * kw * c
	g := newConvGeom(x, out, kh, kw, a, c)
	pointwise := kh == 1 && kw == 1 && g.sh == 1 && g.sw == 1 && g.hp == g.h && g.wp == g.w
	imgElems := g.imageElems(ks.elem, bd.imageBytes)
	slice := bd.rowBytes / (ks.kAlign * ks.elem)
	direct := !pointwise && (imgElems < 0 || (k+ks.kAlign-1)/ks.kAlign > slice)
	d := newDense(ks, pool, ts, out, k, oc, a.QMin, a.QMax)
	d.pb.slice = slice
	ldo := oc * d.ep.esize
	rows := g.batch * g.oh * g.ow
	// The padding element, prepared: zx + aBias as the kernels read it.
	padElem := make([]byte, ks.elem)
	if ks.elem == 1 {
		padElem[0] = byte(x.ZeroPoint) ^ 0x80
	} else {
		padElem[0], padElem[1] = byte(x.ZeroPoint), byte(x.ZeroPoint>>8)
	}
	inBytes := x.Elements()
	return func(in [][]byte, y []byte) error {
		if len(in[0]) != inBytes || len(y) != rows*ldo {
			return fmt.Errorf("cpu: Conv2D operand sizes %d, %d; want %d, %d", len(in[0]), len(y), inBytes, rows*ldo)
		}
		sc := pool.get()
		defer pool.put(sc)
		src := source{kind: sourceRows, x: in[0], k: k}
		switch {
		case direct:
			src = source{kind: sourceConv, x: in[0], k: k, conv: &g, pad: padElem}
		case !pointwise:
			img := sc.img.get(imgElems*ks.elem + 64) // slack for im2col's word moves
			g.pad(img, in[0], g.w*c, ks.elem, padElem, ks.prepare)
			src = source{kind: sourceIm2col, x: img, k: k, conv: &g}
		}
		ks.gemm(sc, &d.pb, d.bias, d.ep, &src, rows, y, ldo)
		return nil
	}
}

// matMul prepares a MatMul node. With u = a + aBias (the prepared A),
//
//	Σ_k (a − za)(b − zb) = Σ_k u·b − (za + aBias)·Σ_k b[k][n] − zb·Σ_k a[m][k] + K·za·zb
//
// so the per-column terms go where a dense node's bias goes and the per-row
// term into the kernel's row constants, all wrapping int32 (exact: the proof
// puts the result in int32). B is packed once here when it is a constant,
// else on every call.
func matMul(ks *kernelSet, pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.MatMulAttrs) reference.NodeFunc {
	A, B := ts[0], ts[1]
	trans := a.TransposeB == 1
	batch, M, K, N := inference.MatMulDims(A.Shape, B.Shape, trans)
	za, zb := int64(A.ZeroPoint), int64(B.ZeroPoint)
	layout, size := layoutB(ks, K, N)
	padded := layout.colsPadded(ks)
	ep := newEpilogue(N, padded, func(int) int64 { return int64(a.Multiplier) }, func(int) int64 { return int64(a.Shift) },
		out.ZeroPoint, a.QMin, a.QMax, out.DType)
	ldo := N * ep.esize
	// pack packs batch b of B into dst and its column terms into colterm.
	pack := func(dst, bdata []byte, colsum []int64, colterm []int32) packedB {
		pb := layout
		pb.data = dst
		if trans {
			pb.packNK(ks, dst, bdata, colsum)
		} else {
			pb.packKN(ks, dst, bdata, colsum)
		}
		kz := int64(K) * za * zb
		for n := 0; n < N; n++ {
			colterm[n] = int32(kz - (za+ks.aBias)*colsum[n])
		}
		return pb
	}
	var constB []packedB
	var constTerms [][]int32
	if B.Kind == inference.Constant {
		for b := 0; b < batch; b++ {
			colterm := make([]int32, padded)
			constB = append(constB, pack(alignedBytes(size), B.Data[b*K*N:(b+1)*K*N], make([]int64, N), colterm))
			constTerms = append(constTerms, colterm)
			pool.keep(size + 4*padded)
		}
	}
	pool.keep(ep.bytes())
	return func(in [][]byte, y []byte) error {
		if len(in[0]) != batch*M*K || len(in[1]) != batch*K*N || len(y) != batch*M*ldo {
			return fmt.Errorf("cpu: MatMul operand sizes %d, %d, %d; want %d, %d, %d", len(in[0]), len(in[1]), len(y), batch*M*K, batch*K*N, batch*M*ldo)
		}
		sc := pool.get()
		defer pool.put(sc)
		for b := 0; b < batch; b++ {
			var pb packedB
			var colterm []int32
			if constB != nil {
				pb, colterm = constB[b], constTerms[b]
			} else {
				colterm = int32s(&sc.colterm, padded)
				pb = pack(sc.bpack.get(size), in[1][b*K*N:(b+1)*K*N], int64s(&sc.colsum, N), colterm)
			}
			src := source{kind: sourceRows, x: in[0][b*M*K : (b+1)*M*K], k: K, zb: zb}
			ks.gemm(sc, &pb, colterm, ep, &src, M, y[b*M*ldo:(b+1)*M*ldo], ldo)
		}
		return nil
	}
}
