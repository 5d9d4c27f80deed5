package onnx

import (
	"math"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Pooling and ReduceMean of the evaluator.

func pool(n *onnxpb.NodeProto, a attrs, x *Tensor, isMax bool) (*Tensor, error) {
	oneD := len(x.Shape) == 3
	kh, kw, ok := poolKernel(a.ints("kernel_shape"), oneD)
	if !ok {
		return nil, evalErr(n, "kernel_shape %v", a.ints("kernel_shape"))
	}
	g, oh, ow, err := window2D(n, a, x, kh, kw)
	if err != nil {
		return nil, err
	}
	nb, c := x.Shape[0], x.Shape[1]
	h, wd := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	countPad := a.int("count_include_pad", 0) != 0
	shape := []int{nb, c, oh, ow}
	if oneD {
		shape = []int{nb, c, ow}
	}
	out := newTensor(x.Elem, shape)
	i := 0
	for bi := 0; bi < nb; bi++ {
		for ch := 0; ch < c; ch++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s, cnt, m := 0.0, 0, math.Inf(-1)
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy := oy*int(g.StrideH) - int(g.PadTop) + ky
							ix := ox*int(g.StrideW) - int(g.PadLeft) + kx
							if iy < 0 || iy >= h || ix < 0 || ix >= wd {
								if countPad {
									cnt++
								}
								continue
							}
							v := x.Data[((bi*c+ch)*h+iy)*wd+ix]
							s += v
							m = math.Max(m, v)
							cnt++
						}
					}
					if isMax {
						out.Data[i] = m
					} else {
						out.Data[i] = s / float64(cnt)
					}
					i++
				}
			}
		}
	}
	return out, nil
}

func globalPool(x *Tensor, isMax bool) *Tensor {
	nb, c := x.Shape[0], x.Shape[1]
	sp := product(x.Shape[2:])
	shape := []int{nb, c}
	for range x.Shape[2:] {
		shape = append(shape, 1)
	}
	out := newTensor(x.Elem, shape)
	for i := 0; i < nb*c; i++ {
		s, m := 0.0, math.Inf(-1)
		for k := 0; k < sp; k++ {
			v := x.Data[i*sp+k]
			s += v
			m = math.Max(m, v)
		}
		if isMax {
			out.Data[i] = m
		} else {
			out.Data[i] = s / float64(sp)
		}
	}
	return out
}

func reduceMean(n *onnxpb.NodeProto, a attrs, in []*Tensor, opset int64) (*Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	var axes []int64
	if opset >= 18 {
		if len(in) > 1 && in[1] != nil {
			axes = toInt64(in[1].Data)
		}
	} else {
		axes = a.ints("axes")
	}
	red := make([]bool, r)
	if len(axes) == 0 {
		if a.int("noop_with_empty_axes", 0) != 0 {
			return x, nil
		}
		for i := range red {
			red[i] = true
		}
	}
	for _, ax := range axes {
		i, ok := normAxis(ax, r)
		if !ok {
			return nil, evalErr(n, "axis %d", ax)
		}
		red[i] = true
	}
	keep := a.int("keepdims", 1) != 0
	var shape, kshape []int
	for i, d := range x.Shape {
		if red[i] {
			kshape = append(kshape, 1)
			if keep {
				shape = append(shape, 1)
			}
		} else {
			kshape = append(kshape, d)
			shape = append(shape, d)
		}
	}
	sum := newTensor(x.Elem, kshape)
	cnt := float64(product(x.Shape) / product(kshape))
	xs, ks := strides(x.Shape), strides(kshape)
	for k, v := range x.Data {
		o := 0
		for d := 0; d < r; d++ {
			if !red[d] {
				o += (k / xs[d] % x.Shape[d]) * ks[d]
			}
		}
		sum.Data[o] += v
	}
	for k := range sum.Data {
		sum.Data[k] /= cnt
	}
	sum.Shape = shape
	if shape == nil {
		sum.Shape = []int{}
	}
	return sum, nil
}
