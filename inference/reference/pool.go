package reference

import (
	"github.com/infergeth/infergeth/inference"
)

func poolWindow(x, out *inference.Tensor, a *inference.Pool2DAttrs) window {
	return window{
		batch: x.Shape[0], h: x.Shape[1], w: x.Shape[2], c: x.Shape[3],
		oh: out.Shape[1], ow: out.Shape[2], kh: int(a.KernelH), kw: int(a.KernelW),
		sh: int(a.StrideH), sw: int(a.StrideW), dh: 1, dw: 1,
		padTop: int(a.PadTop), padLeft: int(a.PadLeft),
	}
}

// pool2D calls reduce for every output element with the values of the
// window taps that lie inside the input (padding taps are skipped; every
// window has at least one inside tap because padding is smaller than the kernel).
func pool2D(x, out *inference.Tensor, a *inference.Pool2DAttrs, reduce func(vals []int64) int64) NodeFunc {
	g := poolWindow(x, out, a)
	return func(in [][]byte, y []byte) error {
		vals := make([]int64, 0, g.kh*g.kw)
		i := 0
		for b := 0; b < g.batch; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					for c := 0; c < g.c; c++ {
						vals = vals[:0]
						for ky := 0; ky < g.kh; ky++ {
							for kx := 0; kx < g.kw; kx++ {
								if iy, ix, inside := g.at(oy, ox, ky, kx); inside {
									vals = append(vals, inference.Load(in[0], x.DType, ((b*g.h+iy)*g.w+ix)*g.c+c))
								}
							}
						}
						inference.Store(y, x.DType, i, reduce(vals))
						i++
					}
				}
			}
		}
		return nil
	}
}

// maxPool2D: the largest value in the window.
func maxPool2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.Pool2DAttrs) NodeFunc {
	return pool2D(ts[0], out, a, func(vals []int64) int64 {
		m := vals[0]
		for _, v := range vals[1:] {
			m = max(m, v)
		}
		return m
	})
}

// avgPool2D: the mean of the window's inside taps, rounded half up.
func avgPool2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.Pool2DAttrs) NodeFunc {
	return pool2D(ts[0], out, a, func(vals []int64) int64 {
		var s int64
		for _, v := range vals {
			s += v
		}
		return DivRound(s, int64(len(vals)))
	})
}

// mean: the mean over the reduced axes, rounded half up.
func mean(ts []*inference.Tensor, out *inference.Tensor, a *inference.MeanAttrs) NodeFunc {
	x := ts[0]
	r := len(x.Shape)
	// For each input axis, its stride in the output (0 for reduced axes).
	kept := inference.ReduceShape(x.Shape, a.Axes, true)
	outStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		if a.Axes&(1<<uint(d)) == 0 {
			outStride[d] = s
		}
		s *= kept[d]
	}
	count := int64(x.Elements() / out.Elements())
	return func(in [][]byte, y []byte) error {
		sums := make([]int64, out.Elements())
		idx := make([]int, r)
		o := 0
		for i := 0; i < x.Elements(); i++ {
			sums[o] += inference.Load(in[0], x.DType, i)
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				o += outStride[d]
				if idx[d] < x.Shape[d] {
					break
				}
				o -= outStride[d] * idx[d]
				idx[d] = 0
			}
		}
		for i, v := range sums {
			inference.Store(y, x.DType, i, DivRound(v, count))
		}
		return nil
	}
}
