package onnx

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Dense ops of the evaluator: numpy matmul, Gemm, Conv (NCHW), each sum
// in a fixed order with every product rounded (no FMA contraction).

// matmul is numpy matmul: batch dimensions broadcast, rank 1 promoted.
func matmul(n *onnxpb.NodeProto, a, b *Tensor) (*Tensor, error) {
	as, bs := slices.Clone(a.Shape), slices.Clone(b.Shape)
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int{1, as[0]}
	}
	if bVec {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, nn := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return nil, evalErr(n, "inner dimensions %d and %d", k, k2)
	}
	batch := inference.BroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if batch == nil {
		return nil, evalErr(n, "batch dimensions do not broadcast")
	}
	ae, be := &Tensor{Shape: as, Data: a.Data}, &Tensor{Shape: bs, Data: b.Data}
	if full := append(slices.Clone(batch), m, k); !slices.Equal(as, full) {
		ae, _ = expand(ae, full)
	}
	if full := append(slices.Clone(batch), k, nn); !slices.Equal(bs, full) {
		be, _ = expand(be, full)
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, append(slices.Clone(batch), m, nn))
	nb := product(batch)
	for bi := 0; bi < nb; bi++ {
		for i := 0; i < m; i++ {
			// Row by row; each output still sums its products in k order.
			row := out.Data[(bi*m+i)*nn : (bi*m+i+1)*nn]
			for q := 0; q < k; q++ {
				av := ae.Data[(bi*m+i)*k+q]
				brow := be.Data[(bi*k+q)*nn : (bi*k+q+1)*nn]
				for j, bv := range brow {
					row[j] += float64(av * bv)
				}
			}
		}
	}
	shape := out.Shape
	if aVec {
		shape = append(slices.Clone(shape[:len(shape)-2]), shape[len(shape)-1])
	}
	if bVec {
		shape = shape[:len(shape)-1]
	}
	out.Shape = shape
	return out, nil
}

// matmulBT is x·wᵀ for matrices, summing each output in k order as matmul does.
func matmulBT(n *onnxpb.NodeProto, x, w *Tensor) (*Tensor, error) {
	m, k := x.Shape[0], x.Shape[1]
	nn := w.Shape[0]
	if w.Shape[1] != k {
		return nil, evalErr(n, "inner dimensions %d and %d", k, w.Shape[1])
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, []int{m, nn})
	for i := 0; i < m; i++ {
		xr := x.Data[i*k : (i+1)*k]
		for j := 0; j < nn; j++ {
			wr := w.Data[j*k : (j+1)*k]
			s := 0.0
			for q, xv := range xr {
				s += float64(xv * wr[q])
			}
			out.Data[i*nn+j] = s
		}
	}
	return out, nil
}

func gemm(n *onnxpb.NodeProto, a attrs, x, w, c *Tensor) (*Tensor, error) {
	if a.int("transA", 0) != 0 {
		x = transpose(x, []int{1, 0})
	}
	var y *Tensor
	var err error
	if a.int("transB", 0) != 0 && len(x.Shape) == 2 && len(w.Shape) == 2 {
		y, err = matmulBT(n, x, w)
	} else {
		if a.int("transB", 0) != 0 {
			w = transpose(w, []int{1, 0})
		}
		y, err = matmul(n, x, w)
	}
	if err != nil {
		return nil, err
	}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	for k := range y.Data {
		y.Data[k] *= alpha
	}
	if c != nil {
		ce, err := expand(c, y.Shape)
		if err != nil {
			return nil, err
		}
		for k := range y.Data {
			y.Data[k] += float64(beta * ce.Data[k])
		}
	}
	return y, nil
}

// window2D reads a 2-D (or 1-D) window's geometry for input x (NCHW/NCL).
func window2D(n *onnxpb.NodeProto, a attrs, x *Tensor, kh, kw int) (inference.Conv2DAttrs, int, int, error) {
	oneD := len(x.Shape) == 3
	h, w := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	return convGeometry(describe(n), a, h, w, kh, kw, oneD)
}

func conv(n *onnxpb.NodeProto, a attrs, x, w, b *Tensor) (*Tensor, error) {
	oneD := len(x.Shape) == 3
	if len(x.Shape) != 4 && !oneD {
		return nil, evalErr(n, "rank %d convolution", len(x.Shape))
	}
	nb, c := x.Shape[0], x.Shape[1]
	h, wd := 1, x.Shape[len(x.Shape)-1]
	if !oneD {
		h = x.Shape[2]
	}
	oc, icg := w.Shape[0], w.Shape[1]
	kh, kw := 1, w.Shape[len(w.Shape)-1]
	if !oneD {
		kh = w.Shape[2]
	}
	g, oh, ow, err := window2D(n, a, x, kh, kw)
	if err != nil {
		return nil, err
	}
	group := int(a.int("group", 1))
	if group < 1 || c%group != 0 || oc%group != 0 || icg != c/group {
		return nil, evalErr(n, "group %d with %d input and %d output channels", group, c, oc)
	}
	ocg := oc / group
	shape := []int{nb, oc, oh, ow}
	if oneD {
		shape = []int{nb, oc, ow}
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, shape)
	i := 0
	for bi := 0; bi < nb; bi++ {
		for o := 0; o < oc; o++ {
			grp := o / ocg
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s := 0.0
					if b != nil {
						s = b.Data[o]
					}
					for ic := 0; ic < icg; ic++ {
						cin := grp*icg + ic
						for ky := 0; ky < kh; ky++ {
							iy := oy*int(g.StrideH) - int(g.PadTop) + ky*int(g.DilationH)
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < kw; kx++ {
								ix := ox*int(g.StrideW) - int(g.PadLeft) + kx*int(g.DilationW)
								if ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.Data[((bi*c+cin)*h+iy)*wd+ix] * w.Data[((o*icg+ic)*kh+ky)*kw+kx])
							}
						}
					}
					out.Data[i] = s
					i++
				}
			}
		}
	}
	return out, nil
}
