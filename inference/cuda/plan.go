package cuda

import (
	"encoding/binary"
	"math"

	"github.com/infergeth/infergeth/inference"
)

// planKind is the dense op a plan computes.
type planKind uint8

const (
	kindFC planKind = iota + 1
	kindConv
	kindDepthwise
	kindMatMul
)

func (k planKind) String() string {
	switch k {
	case kindFC:
		return "FullyConnected"
	case kindConv:
		return "Conv2D"
	case kindDepthwise:
		return "DepthwiseConv2D"
	case kindMatMul:
		return "MatMul"
	}
	return "?"
}

// densePlan is one dense node as the GPU computes it. FullyConnected,
// Conv2D and MatMul are a GEMM over K-major int8 operands, per batch b:
//
//	out[b][m][n] = Requantize(Σ_k A[b][m][k]·B[b][n][k] + rowTerm[b][m] + colTerm[b][n])
//
// with the raw int8 values in the dot product and these folded terms (all
// modulo 2^32, which is exact because the spec's accumulator lies in int32):
//
//	FullyConnected, Conv2D: A = x (Conv2D: im2col of x, padding taps = zx),
//	    B = weights, rowTerm = 0, colTerm[c] = bias[c] - zx·Σ_k w[c][k].
//	MatMul: A = a, B = b (transposed to K-major), Σ(a-za)(b-zb) expands to
//	    rowTerm[m] = -zb·Σ_k a[m][k], colTerm[n] = -za·Σ_k b[k][n] + K·za·zb.
//
// DepthwiseConv2D runs its own kernel with bias and zero point as written.
type densePlan struct {
	kind planKind
	node int
	macs uint64

	// GEMM shape: batch × [m, kp] · [n, kp]ᵀ; kp is k rounded up to kAlign.
	batch, m, n, k, kp int

	// Output: element size and requantization.
	outSize        int
	zy, qmin, qmax int32

	// blob holds what stays on the device while the model is cached, in
	// sections at the offsets below (256-byte aligned): packed B [batch][n][kp],
	// colTerm int32 [batch][n] (offB and offCol are -1 for a MatMul whose b
	// is an activation: packed per call), multiplier and shift int32 [n].
	// Depthwise: weights [KH][KW][OC] at offB, bias int32 at offCol.
	blob                            []byte
	offB, offCol, offMult, offShift int

	zx     int32 // FullyConnected, Conv2D, DepthwiseConv2D
	za, zb int32 // MatMul
	transB bool  // MatMul: b is [n][k]
	geo    geometry
}

// geometry is a convolution's shape (NHWC input).
type geometry struct {
	batch, h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, padT, padL, oc, dm int
}

// rawDotLimit bounds |Σ raw x·w| so that no partial sum of a GEMM's dot
// product leaves int32 (the kernels sum raw values, not x - zx).
const rawDotLimit = math.MaxInt32

// planNode returns the GPU plan of node i, or nil when it is not a dense
// node or the GPU path would not be exact for it (see rawDotLimit).
func planNode(m *inference.Model, i int) *densePlan {
	n := &m.Nodes[i]
	ts := make([]*inference.Tensor, len(n.Inputs))
	for k, t := range n.Inputs {
		ts[k] = &m.Tensors[t]
	}
	out := &m.Tensors[n.Output]
	var p *densePlan
	switch a := n.Attrs.(type) {
	case *inference.FullyConnectedAttrs:
		p = planFullyConnected(ts, a)
	case *inference.Conv2DAttrs:
		p = planConv2D(ts, out, a)
	case *inference.DepthwiseConv2DAttrs:
		p = planDepthwise(ts, out, a)
	case *inference.MatMulAttrs:
		p = planMatMul(ts, a)
	default:
		return nil
	}
	if p == nil {
		return nil
	}
	p.node, p.macs = i, m.NodeMACs(i)
	p.outSize, p.zy = out.DType.Size(), out.ZeroPoint
	return p
}

func roundUp(v, to int) int { return (v + to - 1) / to * to }

// blobLayout places sections of the given sizes at 256-byte aligned offsets.
func blobLayout(sizes ...int) (offs []int, total int) {
	for _, s := range sizes {
		offs = append(offs, total)
		total = roundUp(total+s, 256)
	}
	return offs, total
}

// layoutBlob makes the blob [B (bBytes) | colTerm (cols int32) |
// multiplier (n int32) | shift (n int32)] and sets the offsets.
func (p *densePlan) layoutBlob(bBytes, cols, n int) {
	offs, total := blobLayout(bBytes, 4*cols, 4*n, 4*n)
	p.blob = make([]byte, total)
	p.offB, p.offCol, p.offMult, p.offShift = offs[0], offs[1], offs[2], offs[3]
}

// putChannels writes the per-channel sections; col may be nil (written by
// packB).
func (p *densePlan) putChannels(col, mult, shift []int32) {
	if col != nil {
		putInt32s(p.blob[p.offCol:], col)
	}
	putInt32s(p.blob[p.offMult:], mult)
	putInt32s(p.blob[p.offShift:], shift)
}

func putInt32s(dst []byte, vals []int32) {
	for i, v := range vals {
		binary.LittleEndian.PutUint32(dst[4*i:], uint32(v))
	}
}

// channelConstants reads the per-channel multiplier and shift of a dense
// node (operands 3 and 4).
func channelConstants(mult, shift *inference.Tensor, n int) (ms, ss []int32) {
	ms, ss = make([]int32, n), make([]int32, n)
	for c := 0; c < n; c++ {
		ms[c], ss[c] = int32(mult.At(c)), int32(shift.At(c))
	}
	return ms, ss
}

// planWeightsGEMM packs [n][k] int8 weights into the blob with the folded
// bias colTerm[c] = bias[c] - zx·Σ_k w[c][k], for FullyConnected and Conv2D.
// It refuses (nil) when 128·Σ|w| of some channel exceeds rawDotLimit: that
// happens only when x is a constant of a narrow range, and the CPU takes it.
func planWeightsGEMM(p *densePlan, ts []*inference.Tensor) *densePlan {
	w, bias := ts[1], ts[2]
	n, k := p.n, p.k
	p.kp = roundUp(k, kAlign)
	col := make([]int32, n)
	for c := 0; c < n; c++ {
		var sum, sumAbs int64
		for j := 0; j < k; j++ {
			v := int64(int8(w.Data[c*k+j]))
			sum += v
			sumAbs += max(v, -v)
		}
		if 128*sumAbs > rawDotLimit {
			return nil
		}
		col[c] = int32(bias.At(c) - int64(p.zx)*sum) // modulo 2^32
	}
	mult, shift := channelConstants(ts[3], ts[4], n)
	p.layoutBlob(n*p.kp, n, n)
	for c := 0; c < n; c++ {
		copy(p.blob[p.offB+c*p.kp:], w.Data[c*k:(c+1)*k])
	}
	p.putChannels(col, mult, shift)
	return p
}

func planFullyConnected(ts []*inference.Tensor, a *inference.FullyConnectedAttrs) *densePlan {
	x, w := ts[0], ts[1]
	k := x.Shape[len(x.Shape)-1]
	p := &densePlan{kind: kindFC, batch: 1, m: x.Elements() / k, n: w.Shape[0], k: k,
		zx: x.ZeroPoint, qmin: a.QMin, qmax: a.QMax}
	return planWeightsGEMM(p, ts)
}

func convGeometry(x, out *inference.Tensor, kh, kw int, a *inference.Conv2DAttrs) geometry {
	return geometry{
		batch: x.Shape[0], h: x.Shape[1], w: x.Shape[2], c: x.Shape[3],
		oh: out.Shape[1], ow: out.Shape[2], oc: out.Shape[3], kh: kh, kw: kw,
		sh: int(a.StrideH), sw: int(a.StrideW), dh: int(a.DilationH), dw: int(a.DilationW),
		padT: int(a.PadTop), padL: int(a.PadLeft), dm: 1,
	}
}

func planConv2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.Conv2DAttrs) *densePlan {
	x, w := ts[0], ts[1]
	g := convGeometry(x, out, w.Shape[1], w.Shape[2], a)
	p := &densePlan{kind: kindConv, batch: 1, m: g.batch * g.oh * g.ow, n: g.oc, k: g.kh * g.kw * g.c,
		zx: x.ZeroPoint, qmin: a.QMin, qmax: a.QMax, geo: g}
	return planWeightsGEMM(p, ts)
}

// pointwise reports whether a Conv2D is a 1x1, stride-1, unpadded
// convolution over rows already K-aligned: its A matrix is x itself.
func (p *densePlan) pointwise() bool {
	g := &p.geo
	return p.kind == kindConv && g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 &&
		g.padT == 0 && g.padL == 0 && g.oh == g.h && g.ow == g.w && p.k == p.kp
}

func planDepthwise(ts []*inference.Tensor, out *inference.Tensor, a *inference.DepthwiseConv2DAttrs) *densePlan {
	x, w, bias := ts[0], ts[1], ts[2]
	g := convGeometry(x, out, w.Shape[0], w.Shape[1], &a.Conv2DAttrs)
	g.dm = int(a.DepthMultiplier)
	p := &densePlan{kind: kindDepthwise, batch: 1, n: g.oc, zx: x.ZeroPoint, qmin: a.QMin, qmax: a.QMax, geo: g}
	bias32 := make([]int32, g.oc)
	for c := range bias32 {
		bias32[c] = int32(bias.At(c))
	}
	mult, shift := channelConstants(ts[3], ts[4], g.oc)
	p.layoutBlob(len(w.Data), g.oc, g.oc)
	copy(p.blob[p.offB:], w.Data)
	p.putChannels(bias32, mult, shift)
	return p
}

func planMatMul(ts []*inference.Tensor, a *inference.MatMulAttrs) *densePlan {
	A, B := ts[0], ts[1]
	trans := a.TransposeB == 1
	batch, m, k, n := inference.MatMulDims(A.Shape, B.Shape, trans)
	if int64(k)*128*128 > rawDotLimit {
		return nil // only constants of narrow range pass the proof with such K
	}
	p := &densePlan{kind: kindMatMul, batch: batch, m: m, n: n, k: k, kp: roundUp(k, kAlign),
		za: A.ZeroPoint, zb: B.ZeroPoint, transB: trans, qmin: a.QMin, qmax: a.QMax}
	mult, shift := make([]int32, n), make([]int32, n)
	for c := range mult {
		mult[c], shift[c] = a.Multiplier, int32(a.Shift)
	}
	if B.Kind == inference.Constant {
		p.layoutBlob(batch*n*p.kp, batch*n, n)
		p.packB(p.blob[p.offB:], p.blob[p.offCol:], B.Data)
	} else {
		p.layoutBlob(0, 0, n)
		p.offB, p.offCol = -1, -1 // packed per call
	}
	p.putChannels(nil, mult, shift)
	return p
}

// packB writes a MatMul's b operand K-major ([batch][n][kp], zero padded)
// into dst and its terms colTerm[b][n] = -za·Σ_k b[k][n] + K·za·zb (mod 2^32)
// into col.
func (p *densePlan) packB(dst, col []byte, b []byte) {
	n, k, kp := p.n, p.k, p.kp
	za, zb := int64(p.za), int64(p.zb)
	for bz := 0; bz < p.batch; bz++ {
		src := b[bz*k*n : (bz+1)*k*n]
		for c := 0; c < n; c++ {
			row := dst[(bz*n+c)*kp : (bz*n+c+1)*kp]
			var sum int64
			for j := 0; j < k; j++ {
				var v byte
				if p.transB {
					v = src[c*k+j]
				} else {
					v = src[j*n+c]
				}
				row[j] = v
				sum += int64(int8(v))
			}
			clear(row[k:])
			binary.LittleEndian.PutUint32(col[4*(bz*n+c):], uint32(int32(-za*sum+int64(k)*za*zb)))
		}
	}
}

// packA writes a GEMM's A operand ([batch][m][k] row-major) K-major with
// rows padded to kp into dst, and, when row is not nil, the MatMul terms
// rowTerm[b][m] = -zb·Σ_k a[m][k] (mod 2^32).
func (p *densePlan) packA(dst, row []byte, a []byte) {
	k, kp := p.k, p.kp
	rows := p.batch * p.m
	if k == kp && row == nil {
		copy(dst, a[:rows*k])
		return
	}
	zb := int64(p.zb)
	for r := 0; r < rows; r++ {
		src := a[r*k : (r+1)*k]
		d := dst[r*kp : (r+1)*kp]
		copy(d, src)
		clear(d[k:])
		if row != nil {
			var sum int64
			for _, v := range src {
				sum += int64(int8(v))
			}
			binary.LittleEndian.PutUint32(row[4*r:], uint32(int32(-zb*sum)))
		}
	}
}
