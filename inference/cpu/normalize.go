package cpu

import (
	"math/bits"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Softmax, LayerNorm and RMSNorm along the last axis. Their cost in the
// reference is divisions: per row an integer square root (Newton's method,
// a division per step), per element a DivRound by a value fixed for the
// row. Here:
//
//   - a per-element division is a multiplication by the row's reciprocal
//     (divisor: exact);
//   - the square root starts from a table, so two Newton steps suffice;
//   - the norms' per-row results (P, the root and its reciprocal) are
//     memoized by the one value they are a function of (v), so rows whose
//     values repeat skip them: short rows mostly do;
//   - a short Softmax row (under 16) divides each element directly: with
//     so few elements that beats preparing the reciprocal;
//   - in a long row an output (Softmax) or the normalized value t
//     (LayerNorm, RMSNorm) depends only on the input value, at most 256 of
//     them: they are computed once per row for the values in the row's
//     range;
//   - a row of one element (all three ops), a Softmax row of two and a
//     LayerNorm row of two are functions of at most 511 cases (the value;
//     |x_0 − x_1| and which is larger; x_0 − x_1): tabulated when the node
//     is prepared.

// rowMemo caches the norms' per-row results, a pure function of v ≥ 1:
// v ↦ (P, divisor 2·den). An entry's value depends only on its key, so
// entries never go stale across nodes, models or runs; each Run has its own
// memo (scratch), so no entry is shared between goroutines.
type rowMemo [memoSize]memoEntry

type memoEntry struct {
	key uint64 // 0: empty
	div divisor
	p   uint32
}

const (
	memoBits = 14
	memoSize = 1 << memoBits
)

func memoSlot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> (64 - memoBits) }

// normDen is the per-row part of the norms: P and the divisor 2·den for v.
func (m *rowMemo) normDen(v uint64) (uint32, divisor) {
	e := &m[memoSlot(v)]
	if e.key == v {
		return e.p, e.div
	}
	p := uint32(62-bits.Len64(v)) / 2
	d := newDivisor(2 * isqrt(v<<(2*p)))
	*e = memoEntry{key: v, div: d, p: p}
	return p, d
}

// sqrtTable[t] = floor(sqrt(t)·2^11) for t in [256, 1024).
var sqrtTable = func() (t [1024]uint32) {
	for i := 256; i < 1024; i++ {
		t[i] = uint32(inference.ISqrt(uint64(i) << 22))
	}
	return
}()

// isqrt is inference.ISqrt (floor of the square root), exactly: a table
// estimate good to about 9 bits, two Newton steps (the first one lands on
// or above the root, the steps keep it there and bring it within a unit or
// two of it), then the last units stepped down until x² ≤ v.
func isqrt(v uint64) uint64 {
	if v < 1<<10 || v >= 1<<62 {
		return inference.ISqrt(v)
	}
	k := (bits.Len64(v) - 9) &^ 1 // even, so that v>>k is in [256, 1024)
	x := uint64(sqrtTable[v>>k])<<(k/2)>>11 + 1
	x = (x + v/x) / 2
	x = (x + v/x) / 2
	for x*x > v {
		x--
	}
	return x
}

// norm is LayerNorm (rms false) or RMSNorm over the last axis of length n:
//
//	LayerNorm: D_j = n·x_j − Σx      RMSNorm: D_j = x_j − zx
//	Q = Σ D_j², v = floor(Q/n) + ε, P = (62 − bitlen(v)) / 2
//	den = ISqrt(v·2^(2P)), t_j = DivRound(D_j·2^(F+P), den)
//	y_j = clamp(zy + RoundShift(t_j·γ_j + β_j, s))
//
// Q comes from the row's moments: for LayerNorm Q = n·(n·Σx² − (Σx)²), so
// floor(Q/n) = n·Σx² − (Σx)² exactly; for RMSNorm Q = Σx² − 2·zx·Σx + n·zx².
// Every intermediate is the reference's integer.
func norm(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.NormAttrs, rms bool) reference.NodeFunc {
	x, gamma, beta := ts[0], ts[1], ts[2]
	n := x.Shape[len(x.Shape)-1]
	// γ_j and β_j + roundTerm(s): t·γ + β + r is the reference's sum.
	g, br := make([]int64, n), make([]int64, n)
	pool.keep(16 * n)
	for j := range g {
		g[j], br[j] = gamma.At(j), beta.At(j)+roundTerm(a.Shift)
	}
	p := &normParams{n: n, rms: rms, zx: int64(x.ZeroPoint), zy: int64(out.ZeroPoint), lo: int64(a.QMin), hi: int64(a.QMax),
		f: a.FractionBits, eps: a.Epsilon, s: a.Shift, byN: newDivisor(uint64(n)), g: g, br: br}
	if out.DType == inference.Int16 {
		return normRun[int16](pool, p)
	}
	return normRun[int8](pool, p)
}

type normParams struct {
	n      int
	rms    bool
	zx, zy int64
	lo, hi int64
	f      uint32
	eps    uint64
	s      uint32
	byN    divisor // floor(Q/n)
	g, br  []int64
}

// tableRows is the row length from which a row's values are tabulated.
const tableRows = 256

func normRun[Y elem](pool *scratchPool, p *normParams) reference.NodeFunc {
	n := p.n
	if n == 1 {
		// A row of one element is a function of its one value.
		table := new([256]Y)
		m := new(rowMemo)
		for v := range table {
			var rp [1]normRowParams
			normRows(m, p, []int8{int8(v)}, rp[:])
			normShort(p, []int8{int8(v)}, table[v:v+1], rp[:])
		}
		return lookupRun(table)
	}
	if n == 2 && !p.rms {
		// LayerNorm over two elements: D_0 = x_0 − x_1 = −D_1 and
		// v = (x_0 − x_1)² + ε, so the row is a function of x_0 − x_1.
		var t0, t1 [511]Y
		m := new(rowMemo)
		for d := -255; d <= 255; d++ {
			x := []int8{int8(max(-128, d-128)), int8(max(-128, -128-d))}
			var row [2]Y
			var rp [1]normRowParams
			normRows(m, p, x, rp[:])
			normShort(p, x, row[:], rp[:])
			t0[d+255], t1[d+255] = row[0], row[1]
		}
		return func(in [][]byte, out []byte) error {
			y := view[Y](out)
			x := view[int8](in[0])[:len(y)]
			for r := 0; r+1 < len(y); r += 2 {
				d := int(x[r]) - int(x[r+1]) + 255
				y[r], y[r+1] = t0[d], t1[d]
			}
			return nil
		}
	}
	return func(in [][]byte, out []byte) error {
		sc := pool.get()
		defer pool.put(sc)
		m := sc.memo(&sc.normMemo)
		x, y := view[int8](in[0]), view[Y](out)
		rows := len(y) / n
		if n >= tableRows {
			var rp [1]normRowParams
			for r := 0; r < rows; r++ {
				xr, yr := x[r*n:r*n+n], y[r*n:r*n+n]
				normRows(m, p, xr, rp[:])
				normLong(p, xr, yr, &rp[0], &sc.rowTable)
			}
			return nil
		}
		// Short rows in batches: first every row's parameters (the memo
		// lookups of consecutive rows overlap), then the elements.
		const batch = 64
		var rp [batch]normRowParams
		for r := 0; r < rows; r += batch {
			k := min(batch, rows-r)
			xs, ys := x[r*n:(r+k)*n], y[r*n:(r+k)*n]
			normRows(m, p, xs, rp[:k])
			normShort(p, xs, ys, rp[:k])
		}
		return nil
	}
}

// normRowParams is what a row's elements need: t_j = q(u_j) − k with
// u_j = 2·(D_j << sh) + off ≥ 0, q the division by 2·den, D_j = kx·x_j + c.
// off = den + k·2den: adding k·2den (k a power of two with k·2den ≥ 2^55 >
// |2·(D_j << sh)|) makes the numerator non-negative and the floor division
// unsigned, and subtracting k afterwards restores the quotient.
type normRowParams struct {
	div   divisor
	off   uint64
	k     int64
	kx, c int64
	sh    uint32
}

// normRows computes the parameters of the rows of x (len(rp) rows).
func normRows(m *rowMemo, p *normParams, x []int8, rp []normRowParams) {
	n := p.n
	for i := range rp {
		row := x[i*n : i*n+n]
		var s1, s2 int64
		for _, v := range row {
			s1 += int64(v)
			s2 += int64(v) * int64(v)
		}
		var v uint64
		q := &rp[i]
		if p.rms {
			v = p.byN.div(uint64(s2-2*p.zx*s1+int64(n)*p.zx*p.zx)) + p.eps
			q.kx, q.c = 1, -p.zx
		} else {
			v = uint64(int64(n)*s2-s1*s1) + p.eps
			q.kx, q.c = int64(n), -s1
		}
		pw, d := m.normDen(v)
		q.div, q.sh = d, (p.f+pw)&63
		k := uint64(1) << (56 - bits.Len64(d.d)) // k·2den ≥ 2^55
		q.k, q.off = int64(k), d.d>>1+k*d.d
	}
}

// normShort writes the rows of x with their parameters rp.
func normShort[Y elem](p *normParams, x []int8, y []Y, rp []normRowParams) {
	n := p.n
	g, br := p.g[:n], p.br[:n]
	zy, lo, hi, s := p.zy, p.lo, p.hi, p.s&63
	for i := range rp {
		q := &rp[i]
		xr, yr := x[i*n:i*n+n], y[i*n:i*n+n]
		div, off, k, kx, c, sh := q.div, q.off, q.k, q.kx, q.c, q.sh
		for j := range yr {
			d := kx*int64(xr[j]) + c
			t := int64(div.div(uint64(2*(d<<sh))+off)) - k // DivRound(D·2^sh, den)
			yr[j] = Y(min(max(zy+(t*g[j]+br[j])>>s, lo), hi))
		}
	}
}

// normLong writes one long row, computing t once per value in its range.
func normLong[Y elem](p *normParams, x []int8, y []Y, q *normRowParams, tv *[256]int64) {
	lo8, hi8 := int32(127), int32(-128)
	for _, v := range x {
		lo8, hi8 = min(lo8, int32(v)), max(hi8, int32(v))
	}
	for xv := lo8; xv <= hi8; xv++ {
		d := q.kx*int64(xv) + q.c
		tv[uint8(xv)] = int64(q.div.div(uint64(2*(d<<q.sh))+q.off)) - q.k
	}
	g, br := p.g[:len(y)], p.br[:len(y)]
	zy, lo, hi, s := p.zy, p.lo, p.hi, p.s&63
	x = x[:len(y)]
	for j := range y {
		t := tv[uint8(x[j])]
		y[j] = Y(min(max(zy+(t*g[j]+br[j])>>s, lo), hi))
	}
}

// softmax over the last axis of length n:
//
//	m = max x, e_j = exp[m − x_j], S = Σ e_j
//	y_j = clamp(zy + floor((2·e_j·scale + S) / 2S))       (uint64)
//
// With n = 1, S = e_0 ≥ 1 and the quotient is exactly scale: every output
// is clamp(zy + scale). With n = 2, a row is a function of d = |x_0 − x_1|
// and of which element is larger: the pair for each d is tabulated.
func softmax(ts []*inference.Tensor, out *inference.Tensor, a *inference.SoftmaxAttrs) reference.NodeFunc {
	x, table := ts[0], ts[1]
	n := x.Shape[len(x.Shape)-1]
	p := &softmaxParams{n: n, zy: int64(out.ZeroPoint), lo: int64(a.QMin), hi: int64(a.QMax), scale: uint64(a.OutputScale)}
	for d := range p.e {
		p.e[d] = uint64(table.At(d))
		p.e2s[d] = 2 * p.e[d] * uint64(a.OutputScale) // < 2^63
	}
	switch {
	case n == 1 && out.DType == inference.Int16:
		return fillRun(int16(p.out(p.e[0], p.e[0])))
	case n == 1:
		return fillRun(int8(p.out(p.e[0], p.e[0])))
	case n == 2 && out.DType == inference.Int16:
		return softmaxPairs[int16](p)
	case n == 2:
		return softmaxPairs[int8](p)
	case out.DType == inference.Int16:
		return softmaxRun[int16](p)
	}
	return softmaxRun[int8](p)
}

type softmaxParams struct {
	n          int
	zy, lo, hi int64
	scale      uint64
	e, e2s     [256]uint64 // exp[d] and 2·exp[d]·scale
}

// out is the output for an element whose table entry is e[d] in a row
// whose sum is s: the reference's formula, evaluated directly.
func (p *softmaxParams) out(e, s uint64) int64 {
	return reference.Clamp(p.zy+int64(reference.DivRoundUnsigned(e*p.scale, s)), p.lo, p.hi)
}

func softmaxPairs[Y elem](p *softmaxParams) reference.NodeFunc {
	var big, small [256]Y // the larger and the smaller element's output, by d
	for d := range big {
		s := p.e[0] + p.e[d]
		big[d], small[d] = Y(p.out(p.e[0], s)), Y(p.out(p.e[d], s))
	}
	return func(in [][]byte, out []byte) error {
		x, y := view[int8](in[0]), view[Y](out)
		x = x[:len(y)]
		for r := 0; r+1 < len(y); r += 2 {
			a, b := int32(x[r]), int32(x[r+1])
			d := uint8(max(a, b) - min(a, b))
			if a >= b {
				y[r], y[r+1] = big[d], small[d]
			} else {
				y[r], y[r+1] = small[d], big[d]
			}
		}
		return nil
	}
}

func softmaxRun[Y elem](p *softmaxParams) reference.NodeFunc {
	n := p.n
	return func(in [][]byte, out []byte) error {
		x, y := view[int8](in[0]), view[Y](out)
		var tq [256]int64
		for r := 0; r+n <= len(y); r += n {
			row, yr := x[r:r+n], y[r:r+n]
			mx, mn := int32(row[0]), int32(row[0])
			for _, v := range row[1:] {
				mx, mn = max(mx, int32(v)), min(mn, int32(v))
			}
			var s uint64
			for _, v := range row {
				s += p.e[uint8(mx-int32(v))]
			}
			switch {
			case n < 16:
				softmaxDivide(p, row, yr, mx, s)
			case n < tableRows:
				softmaxMultiply(p, row, yr, mx, s)
			default:
				// One quotient per distinct d = mx − x in the row.
				d := newDivisor(2 * s)
				for k := int32(0); k <= mx-mn; k++ {
					tq[k] = min(max(p.zy+int64(d.div(p.e2s[k]+s)), p.lo), p.hi)
				}
				for j, v := range row {
					yr[j] = Y(tq[uint8(mx-int32(v))])
				}
			}
		}
		return nil
	}
}

// softmaxDivide writes a short row's outputs with one division each: in
// a row this short, that is faster than preparing the reciprocal.
func softmaxDivide[Y elem](p *softmaxParams, row []int8, yr []Y, mx int32, s uint64) {
	zy, lo, hi, s2 := p.zy, p.lo, p.hi, 2*s
	for j, v := range row[:len(yr)] {
		q := (p.e2s[uint8(mx-int32(v))] + s) / s2
		yr[j] = Y(min(max(zy+int64(q), lo), hi))
	}
}

// softmaxMultiply writes a row's outputs multiplying by the reciprocal of 2S.
func softmaxMultiply[Y elem](p *softmaxParams, row []int8, yr []Y, mx int32, s uint64) {
	d := newDivisor(2 * s)
	zy, lo, hi := p.zy, p.lo, p.hi
	for j, v := range row[:len(yr)] {
		q := d.div(p.e2s[uint8(mx-int32(v))] + s)
		yr[j] = Y(min(max(zy+int64(q), lo), hi))
	}
}

// fillRun writes v to every output element.
func fillRun[Y elem](v Y) reference.NodeFunc {
	return func(_ [][]byte, out []byte) error {
		y := view[Y](out)
		for i := range y {
			y[i] = v
		}
		return nil
	}
}
