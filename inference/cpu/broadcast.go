package cpu

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Add and Mul with numpy broadcasting. The reference walks every output
// element through a closure with a dtype switch per load and store; here
// each (dtype, dtype, dtype) combination has its own typed loops over the
// runs of a strided iteration (typed.go), with the common stride patterns
// (both operands contiguous, one of them fixed over the run) as their own
// loops. The arithmetic is the reference's, rearranged only by exact
// integer identities: RoundShift(t, s) = (t + roundTerm(s)) >> s, and the
// zero-point terms and the rounding constant folded into one int64 constant.

// binaryPlan is the iteration of a broadcasting op: operand 0 is the
// output, 1 is a, 2 is b. Runs go along an axis of at least 16 if there is
// one (strided.each). If every axis (after collapse) is shorter, the
// trailing axes form a block of at least 64 and at most 4096 elements,
// contiguous in the output, whose operand offsets are tabulated: the loops
// then run over blocks, whatever the broadcast pattern.
type binaryPlan struct {
	it         *strided // runs of whole blocks when block > 1
	block      int      // elements per block, or 1 (no block)
	offA, offB []int32
}

func newBinaryPlan(a, b, out *inference.Tensor) *binaryPlan {
	dims, st := collapse(out.Shape, [][]int{rowMajor(out.Shape), broadcastStrides(a.Shape, out.Shape), broadcastStrides(b.Shape, out.Shape)})
	p := &binaryPlan{block: 1}
	if l := len(dims) - 1; l >= 0 && slices.Max(dims) < 16 {
		n, d := 1, l
		for ; d >= 0 && n < 64 && n*dims[d] <= 4096; d-- {
			n *= dims[d]
		}
		if n >= 64 {
			// The block is axes d+1.. (y contiguous over them).
			p.block = n
			p.offA, p.offB = make([]int32, n), make([]int32, n)
			for k := 0; k < n; k++ {
				rem := k
				for e := l; e > d; e-- {
					i := rem % dims[e]
					rem /= dims[e]
					p.offA[k] += int32(i * st[e][1])
					p.offB[k] += int32(i * st[e][2])
				}
			}
			dims, st = dims[:d+1], st[:d+1]
		}
	}
	p.it = runOf(dims, st)
	return p
}

// addParams: y = clamp(zy + ((a·ma + b·mb + c) >> s), lo, hi) with
// c = roundTerm(s) − za·ma − zb·mb; |a·ma + b·mb + c| < 2^50.
type addParams struct {
	ma, mb, c, zy, lo, hi int64
	s                     uint32
}

func add(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.AddAttrs) reference.NodeFunc {
	ta, tb := ts[0], ts[1]
	p := &addParams{ma: int64(a.MultiplierA), mb: int64(a.MultiplierB), zy: int64(out.ZeroPoint),
		lo: int64(a.QMin), hi: int64(a.QMax), s: a.Shift}
	p.c = roundTerm(a.Shift) - int64(ta.ZeroPoint)*p.ma - int64(tb.ZeroPoint)*p.mb
	it := newBinaryPlan(ta, tb, out)
	pool.keep(4 * (len(it.offA) + len(it.offB)))
	switch ta.DType {
	case inference.Int8:
		return addB[int8](it, p, tb.DType, out.DType)
	case inference.Int16:
		return addB[int16](it, p, tb.DType, out.DType)
	}
	return nil
}

func addB[A elem](it *binaryPlan, p *addParams, b, y inference.DType) reference.NodeFunc {
	switch b {
	case inference.Int8:
		return addY[A, int8](it, p, y)
	case inference.Int16:
		return addY[A, int16](it, p, y)
	}
	return nil
}

func addY[A, B elem](it *binaryPlan, p *addParams, y inference.DType) reference.NodeFunc {
	switch y {
	case inference.Int8:
		return addRun[A, B, int8](it, p)
	case inference.Int16:
		return addRun[A, B, int16](it, p)
	case inference.Int32:
		return addRun[A, B, int32](it, p)
	}
	return nil
}

func addRun[A, B, Y elem](bp *binaryPlan, p *addParams) reference.NodeFunc {
	it := bp.it
	n, ty, ta, tb := it.n, it.inner[0], it.inner[1], it.inner[2]
	return func(in [][]byte, out []byte) error {
		A, B, y := view[A](in[0]), view[B](in[1]), view[Y](out)
		if bn := bp.block; bn > 1 {
			it.each(func(oy, oa, ob int) {
				for range n {
					addBlock(y[oy:oy+bn], A[oa:], B[ob:], bp.offA[:bn], bp.offB[:bn], p)
					oy, oa, ob = oy+ty, oa+ta, ob+tb
				}
			})
			return nil
		}
		it.each(func(oy, oa, ob int) {
			switch {
			case ty == 1 && ta == 1 && tb == 1:
				addContig(y[oy:oy+n], A[oa:oa+n], B[ob:ob+n], p)
			case tb == 0:
				// a·ma + (b·mb + c): the same sum with one term fixed.
				addFixed(y, oy, ty, A, oa, ta, n, p.ma, p.c+int64(B[ob])*p.mb, p)
			case ta == 0:
				addFixed(y, oy, ty, B, ob, tb, n, p.mb, p.c+int64(A[oa])*p.ma, p)
			default:
				ma, mb, c, zy, lo, hi, s := p.ma, p.mb, p.c, p.zy, p.lo, p.hi, p.s&63
				for i := 0; i < n; i++ {
					y[oy] = Y(min(max(zy+(int64(A[oa])*ma+int64(B[ob])*mb+c)>>s, lo), hi))
					oy, oa, ob = oy+ty, oa+ta, ob+tb
				}
			}
		})
		return nil
	}
}

// addBlock: y[k] from a[offA[k]] and b[offB[k]].
func addBlock[A, B, Y elem](y []Y, a []A, b []B, offA, offB []int32, p *addParams) {
	ma, mb, c, zy, lo, hi, s := p.ma, p.mb, p.c, p.zy, p.lo, p.hi, p.s&63
	offA, offB = offA[:len(y)], offB[:len(y)]
	for k := range y {
		y[k] = Y(min(max(zy+(int64(a[offA[k]])*ma+int64(b[offB[k]])*mb+c)>>s, lo), hi))
	}
}

func addContig[A, B, Y elem](y []Y, a []A, b []B, p *addParams) {
	ma, mb, c, zy, lo, hi, s := p.ma, p.mb, p.c, p.zy, p.lo, p.hi, p.s&63
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = Y(min(max(zy+(int64(a[i])*ma+int64(b[i])*mb+c)>>s, lo), hi))
	}
}

// addFixed: n outputs y[oy + i·ty] from x[ox + i·tx]·m + c.
func addFixed[X, Y elem](y []Y, oy, ty int, x []X, ox, tx, n int, m, c int64, p *addParams) {
	zy, lo, hi, s := p.zy, p.lo, p.hi, p.s&63
	if ty == 1 && tx == 1 {
		ys, xs := y[oy:oy+n], x[ox:ox+n]
		for i := range ys {
			ys[i] = Y(min(max(zy+(int64(xs[i])*m+c)>>s, lo), hi))
		}
		return
	}
	for range n {
		y[oy] = Y(min(max(zy+(int64(x[ox])*m+c)>>s, lo), hi))
		oy, ox = oy+ty, ox+tx
	}
}

// mulParams: y = clamp(zy + (((a − za)·(b − zb)·m + r) >> s), lo, hi);
// |(a − za)(b − zb)·m| < 2^47.
type mulParams struct {
	za, zb, m, r, zy, lo, hi int64
	s                        uint32
}

func mul(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.MulAttrs) reference.NodeFunc {
	ta, tb := ts[0], ts[1]
	if ta.DType != inference.Int8 || tb.DType != inference.Int8 {
		return nil
	}
	p := &mulParams{za: int64(ta.ZeroPoint), zb: int64(tb.ZeroPoint), m: int64(a.Multiplier), r: roundTerm(a.Shift),
		zy: int64(out.ZeroPoint), lo: int64(a.QMin), hi: int64(a.QMax), s: a.Shift}
	it := newBinaryPlan(ta, tb, out)
	pool.keep(4 * (len(it.offA) + len(it.offB)))
	switch out.DType {
	case inference.Int8:
		return mulRun[int8](it, p)
	case inference.Int16:
		return mulRun[int16](it, p)
	case inference.Int32:
		return mulRun[int32](it, p)
	}
	return nil
}

func mulRun[Y elem](bp *binaryPlan, p *mulParams) reference.NodeFunc {
	it := bp.it
	n, ty, ta, tb := it.n, it.inner[0], it.inner[1], it.inner[2]
	return func(in [][]byte, out []byte) error {
		A, B, y := view[int8](in[0]), view[int8](in[1]), view[Y](out)
		if bn := bp.block; bn > 1 {
			it.each(func(oy, oa, ob int) {
				for range n {
					mulBlock(y[oy:oy+bn], A[oa:], B[ob:], bp.offA[:bn], bp.offB[:bn], p)
					oy, oa, ob = oy+ty, oa+ta, ob+tb
				}
			})
			return nil
		}
		it.each(func(oy, oa, ob int) {
			switch {
			case ty == 1 && ta == 1 && tb == 1:
				mulContig(y[oy:oy+n], A[oa:oa+n], B[ob:ob+n], p)
			case tb == 0:
				// (x − zx)·((k − zk)·m): one factor fixed over the run.
				mulFixed(y, oy, ty, A, oa, ta, n, p.za, (int64(B[ob])-p.zb)*p.m, p)
			case ta == 0:
				mulFixed(y, oy, ty, B, ob, tb, n, p.zb, (int64(A[oa])-p.za)*p.m, p)
			default:
				za, zb, m, r, zy, lo, hi, s := p.za, p.zb, p.m, p.r, p.zy, p.lo, p.hi, p.s&63
				for i := 0; i < n; i++ {
					v := (int64(A[oa]) - za) * (int64(B[ob]) - zb) * m
					y[oy] = Y(min(max(zy+(v+r)>>s, lo), hi))
					oy, oa, ob = oy+ty, oa+ta, ob+tb
				}
			}
		})
		return nil
	}
}

// mulBlock: y[k] from a[offA[k]] and b[offB[k]].
func mulBlock[Y elem](y []Y, a, b []int8, offA, offB []int32, p *mulParams) {
	za, zb, m, r, zy, lo, hi, s := p.za, p.zb, p.m, p.r, p.zy, p.lo, p.hi, p.s&63
	offA, offB = offA[:len(y)], offB[:len(y)]
	for k := range y {
		v := (int64(a[offA[k]]) - za) * (int64(b[offB[k]]) - zb) * m
		y[k] = Y(min(max(zy+(v+r)>>s, lo), hi))
	}
}

func mulContig[Y elem](y []Y, a, b []int8, p *mulParams) {
	za, zb, m, r, zy, lo, hi, s := p.za, p.zb, p.m, p.r, p.zy, p.lo, p.hi, p.s&63
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		v := (int64(a[i]) - za) * (int64(b[i]) - zb) * m
		y[i] = Y(min(max(zy+(v+r)>>s, lo), hi))
	}
}

// mulFixed: n outputs y[oy + i·ty] from (x[ox + i·tx] − zx)·k.
func mulFixed[Y elem](y []Y, oy, ty int, x []int8, ox, tx, n int, zx, k int64, p *mulParams) {
	r, zy, lo, hi, s := p.r, p.zy, p.lo, p.hi, p.s&63
	if ty == 1 && tx == 1 {
		ys, xs := y[oy:oy+n], x[ox:ox+n]
		for i := range ys {
			ys[i] = Y(min(max(zy+((int64(xs[i])-zx)*k+r)>>s, lo), hi))
		}
		return
	}
	for range n {
		y[oy] = Y(min(max(zy+((int64(x[ox])-zx)*k+r)>>s, lo), hi))
		oy, ox = oy+ty, ox+tx
	}
}
