package cpu

import (
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// MaxPool2D and AvgPool2D over NHWC, int8 and int16. Only the taps inside
// the input count (the spec's padding rule), so every window is clipped to
// input rows [y0, y1) and columns [x0, x1), both prepared once per output
// row and column. Both reductions (max, and the sum before the division)
// are separable, so each output row is computed in two passes:
//
//   - vertical: for every input column some window of the row uses, the
//     reduction of its y1 − y0 values, per channel, into a buffer: long
//     contiguous loops over (column, channel), whatever the channel count;
//   - horizontal: for every output pixel, the reduction of its x1 − x0
//     buffer columns.
//
// That is kh + kw operations per output instead of kh·kw, in loops that
// stay long even with one channel. Sums are int32 (at most 64·64 taps of
// |x| ≤ 2^15: below 2^27). AvgPool2D divides with a divisor prepared per
// tap count: with s' = s + K·n ≥ 0 (K = 128 or 32768, n taps),
// DivRound(s, n) = floor((2s' + n) / 2n) − K, an unsigned division. A 1×1
// window is its one tap (DivRound(v, 1) = v): the op is a strided copy.

type poolPlan struct {
	b, h, w, c, oh, ow int
	sh, sw             int
	size               int
	rows, cols         [][2]int // each output row's input rows, each output column's input columns
	segs               [][2]int // the input columns some window uses, as merged ranges
	// AvgPool2D, per tap count n: the divisor 2n and 2·K·n + n.
	divs []divisor
	adds []int64
	k    int64
}

func newPoolPlan(x, out *inference.Tensor, a *inference.Pool2DAttrs) *poolPlan {
	p := &poolPlan{b: x.Shape[0], h: x.Shape[1], w: x.Shape[2], c: x.Shape[3], oh: out.Shape[1], ow: out.Shape[2],
		sh: int(a.StrideH), sw: int(a.StrideW), size: x.DType.Size()}
	kh, kw, pt, pl := int(a.KernelH), int(a.KernelW), int(a.PadTop), int(a.PadLeft)
	for oy := 0; oy < p.oh; oy++ {
		p.rows = append(p.rows, [2]int{max(0, oy*p.sh-pt), min(p.h, oy*p.sh-pt+kh)})
	}
	for ox := 0; ox < p.ow; ox++ {
		c := [2]int{max(0, ox*p.sw-pl), min(p.w, ox*p.sw-pl+kw)}
		p.cols = append(p.cols, c)
		if l := len(p.segs) - 1; l >= 0 && c[0] <= p.segs[l][1] {
			p.segs[l][1] = max(p.segs[l][1], c[1])
		} else {
			p.segs = append(p.segs, c)
		}
	}
	return p
}

// withDivisors prepares AvgPool2D's division for every tap count that occurs.
func (p *poolPlan) withDivisors(dt inference.DType) *poolPlan {
	p.k = -dt.Min()
	maxTaps := 0
	for _, r := range p.rows {
		for _, c := range p.cols {
			maxTaps = max(maxTaps, (r[1]-r[0])*(c[1]-c[0]))
		}
	}
	p.divs, p.adds = make([]divisor, maxTaps+1), make([]int64, maxTaps+1)
	for _, r := range p.rows {
		for _, c := range p.cols {
			if n := (r[1] - r[0]) * (c[1] - c[0]); p.divs[n].d == 0 {
				p.divs[n], p.adds[n] = newDivisor(uint64(2*n)), (2*p.k+1)*int64(n)
			}
		}
	}
	return p
}

// oneTap: a 1×1 window (padding is then 0) is the tap at (oy·sh, ox·sw).
func (p *poolPlan) oneTap() reference.NodeFunc {
	pix := p.c * p.size
	return func(in [][]byte, y []byte) error {
		o := 0
		for n := 0; n < p.b; n++ {
			for oy := 0; oy < p.oh; oy++ {
				src := (n*p.h + oy*p.sh) * p.w * pix
				moveRuns(y, o, pix, in[0], src, p.sw*pix, p.ow, pix)
				o += p.ow * pix
			}
		}
		return nil
	}
}

// pool2D is MaxPool2D (avg false) or AvgPool2D.
func pool2D(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.Pool2DAttrs, avg bool) reference.NodeFunc {
	p := newPoolPlan(ts[0], out, a)
	if a.KernelH == 1 && a.KernelW == 1 {
		return p.oneTap()
	}
	if avg {
		p.withDivisors(ts[0].DType)
		pool.keep(16*len(p.divs) + 8*len(p.adds)) // a divisor is two uint64
	}
	switch ts[0].DType {
	case inference.Int8:
		return poolRun[int8](pool, p, avg)
	case inference.Int16:
		return poolRun[int16](pool, p, avg)
	}
	return nil
}

func poolRun[T elem](pool *scratchPool, p *poolPlan, avg bool) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		sc := pool.get()
		defer pool.put(sc)
		c := p.c
		buf := int32s(&sc.i32, (p.w+1)*c)
		col, acc := buf[:p.w*c], buf[p.w*c:]
		x, y := view[T](in[0]), view[T](out)
		o := 0
		for n := 0; n < p.b; n++ {
			for oy := 0; oy < p.oh; oy++ {
				r := p.rows[oy]
				for _, s := range p.segs {
					lo, hi := s[0]*c, s[1]*c
					for iy := r[0]; iy < r[1]; iy++ {
						src := x[(n*p.h+iy)*p.w*c+lo : (n*p.h+iy)*p.w*c+hi]
						switch {
						case iy == r[0]:
							widen(col[lo:hi], src)
						case avg:
							sumInto(col[lo:hi], src)
						default:
							maxInto(col[lo:hi], src)
						}
					}
				}
				dst := y[o : o+p.ow*c]
				o += p.ow * c
				if avg {
					avgRow(dst, col, acc, p, r[1]-r[0])
				} else {
					maxRow(dst, col, acc, p)
				}
			}
		}
		return nil
	}
}

func widen[T elem](dst []int32, src []T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = int32(src[i])
	}
}

func sumInto[T elem](dst []int32, src []T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += int32(src[i])
	}
}

func maxInto[T elem](dst []int32, src []T) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = max(dst[i], int32(src[i])) // int32: a conditional move, not a branch
	}
}

// maxRow is the horizontal pass of MaxPool2D over the column maxima col.
func maxRow[T elem](dst []T, col, acc []int32, p *poolPlan) {
	c := p.c
	if c == 1 {
		for ox, r := range p.cols[:len(dst)] {
			m := col[r[0]]
			for _, v := range col[r[0]+1 : r[1]] {
				m = max(m, v)
			}
			dst[ox] = T(m)
		}
		return
	}
	for ox, r := range p.cols {
		acc := acc[:c]
		copy(acc, col[r[0]*c:r[0]*c+c])
		for ix := r[0] + 1; ix < r[1]; ix++ {
			for i, v := range col[ix*c : ix*c+len(acc)] {
				acc[i] = max(acc[i], v)
			}
		}
		widenTo(dst[ox*c:ox*c+c], acc)
	}
}

func widenTo[T elem](dst []T, src []int32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] = T(src[i])
	}
}

// avgRow is the horizontal pass of AvgPool2D over the column sums col of
// rows input rows.
func avgRow[T elem](dst []T, col, acc []int32, p *poolPlan, rows int) {
	c, k := p.c, p.k
	for ox, r := range p.cols {
		n := rows * (r[1] - r[0])
		d, add := p.divs[n], p.adds[n]
		if c == 1 {
			var s int32
			for _, v := range col[r[0]:r[1]] {
				s += v
			}
			dst[ox] = T(int64(d.div(uint64(2*int64(s)+add))) - k)
			continue
		}
		acc := acc[:c]
		copy(acc, col[r[0]*c:r[0]*c+c])
		for ix := r[0] + 1; ix < r[1]; ix++ {
			for i, v := range col[ix*c : ix*c+len(acc)] {
				acc[i] += v
			}
		}
		out := dst[ox*c : ox*c+len(acc)]
		for i, s := range acc {
			out[i] = T(int64(d.div(uint64(2*int64(s)+add))) - k)
		}
	}
}
