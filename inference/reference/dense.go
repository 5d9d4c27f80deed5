package reference

import (
	"github.com/infergeth/infergeth/inference"
)

// denseParams are the per-output-channel constants of the dense ops.
type denseParams struct {
	w, bias, mult, shift *inference.Tensor
	zx, zy, qmin, qmax   int32
	out                  inference.DType
}

func newDense(ts []*inference.Tensor, out *inference.Tensor, qmin, qmax int32) denseParams {
	return denseParams{w: ts[1], bias: ts[2], mult: ts[3], shift: ts[4],
		zx: ts[0].ZeroPoint, zy: out.ZeroPoint, qmin: qmin, qmax: qmax, out: out.DType}
}

// store requantizes channel c's accumulator into element i of out.
func (d *denseParams) store(out []byte, i, c int, acc int64) {
	y := Requantize(acc, int32(d.mult.At(c)), uint32(d.shift.At(c)), d.zy, d.qmin, d.qmax)
	inference.Store(out, d.out, i, y)
}

// fullyConnected: y[r,c] = requant_c(bias[c] + Σ_k (x[r,k]-zx)·w[c,k]).
func fullyConnected(ts []*inference.Tensor, out *inference.Tensor, a *inference.FullyConnectedAttrs) NodeFunc {
	d := newDense(ts, out, a.QMin, a.QMax)
	k := ts[0].Shape[len(ts[0].Shape)-1]
	n := d.w.Shape[0]
	rows := ts[0].Elements() / k
	return func(in [][]byte, y []byte) error {
		x := in[0]
		for r := 0; r < rows; r++ {
			for c := 0; c < n; c++ {
				acc := d.bias.At(c)
				for j := 0; j < k; j++ {
					acc += (int64(int8(x[r*k+j])) - int64(d.zx)) * int64(int8(d.w.Data[c*k+j]))
				}
				d.store(y, r*n+c, c, acc)
			}
		}
		return nil
	}
}

// window is the geometry shared by convolutions and pooling over NHWC.
type window struct {
	batch, h, w, c  int // input
	oh, ow          int // output
	kh, kw          int
	sh, sw, dh, dw  int
	padTop, padLeft int
}

// at returns the input row and column that kernel tap (ky, kx) of output
// (oy, ox) reads, and whether it lies inside the input (else it is padding).
func (g *window) at(oy, ox, ky, kx int) (int, int, bool) {
	iy := oy*g.sh - g.padTop + ky*g.dh
	ix := ox*g.sw - g.padLeft + kx*g.dw
	return iy, ix, iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
}

func convWindow(x, out *inference.Tensor, kh, kw int, a *inference.Conv2DAttrs) window {
	return window{
		batch: x.Shape[0], h: x.Shape[1], w: x.Shape[2], c: x.Shape[3],
		oh: out.Shape[1], ow: out.Shape[2], kh: kh, kw: kw,
		sh: int(a.StrideH), sw: int(a.StrideW), dh: int(a.DilationH), dw: int(a.DilationW),
		padTop: int(a.PadTop), padLeft: int(a.PadLeft),
	}
}

// conv2D: NHWC input, OHWI weights. Padding taps read the zero point, so
// they add nothing to Σ (x-zx)·w.
func conv2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.Conv2DAttrs) NodeFunc {
	d := newDense(ts, out, a.QMin, a.QMax)
	oc := d.w.Shape[0]
	g := convWindow(ts[0], out, d.w.Shape[1], d.w.Shape[2], a)
	return func(in [][]byte, y []byte) error {
		x := in[0]
		i := 0
		for b := 0; b < g.batch; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					for c := 0; c < oc; c++ {
						acc := d.bias.At(c)
						for ky := 0; ky < g.kh; ky++ {
							for kx := 0; kx < g.kw; kx++ {
								iy, ix, inside := g.at(oy, ox, ky, kx)
								if !inside {
									continue
								}
								xo := ((b*g.h+iy)*g.w + ix) * g.c
								wo := ((c*g.kh+ky)*g.kw + kx) * g.c
								for ic := 0; ic < g.c; ic++ {
									acc += (int64(int8(x[xo+ic])) - int64(d.zx)) * int64(int8(d.w.Data[wo+ic]))
								}
							}
						}
						d.store(y, i, c, acc)
						i++
					}
				}
			}
		}
		return nil
	}
}

// depthwiseConv2D: output channel c reads input channel c / multiplier
// with weights [KH, KW, C·multiplier].
func depthwiseConv2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.DepthwiseConv2DAttrs) NodeFunc {
	d := newDense(ts, out, a.QMin, a.QMax)
	oc := d.w.Shape[2]
	mult := int(a.DepthMultiplier)
	g := convWindow(ts[0], out, d.w.Shape[0], d.w.Shape[1], &a.Conv2DAttrs)
	return func(in [][]byte, y []byte) error {
		x := in[0]
		i := 0
		for b := 0; b < g.batch; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					for c := 0; c < oc; c++ {
						acc := d.bias.At(c)
						for ky := 0; ky < g.kh; ky++ {
							for kx := 0; kx < g.kw; kx++ {
								iy, ix, inside := g.at(oy, ox, ky, kx)
								if !inside {
									continue
								}
								xv := int64(int8(x[((b*g.h+iy)*g.w+ix)*g.c+c/mult]))
								wv := int64(int8(d.w.Data[(ky*g.kw+kx)*oc+c]))
								acc += (xv - int64(d.zx)) * wv
							}
						}
						d.store(y, i, c, acc)
						i++
					}
				}
			}
		}
		return nil
	}
}

// matMul: y[b,m,n] = requant(Σ_k (a[b,m,k]-za)·(b[b,k,n]-zb)), with b read
// as [b,n,k] when transposeB is set.
func matMul(ts []*inference.Tensor, out *inference.Tensor, a *inference.MatMulAttrs) NodeFunc {
	trans := a.TransposeB == 1
	batch, M, K, N := inference.MatMulDims(ts[0].Shape, ts[1].Shape, trans)
	za, zb := int64(ts[0].ZeroPoint), int64(ts[1].ZeroPoint)
	zy := out.ZeroPoint
	return func(in [][]byte, y []byte) error {
		A, B := in[0], in[1]
		for b := 0; b < batch; b++ {
			for m := 0; m < M; m++ {
				for n := 0; n < N; n++ {
					var acc int64
					for k := 0; k < K; k++ {
						av := int64(int8(A[(b*M+m)*K+k])) - za
						bi := (b*K+k)*N + n
						if trans {
							bi = (b*N+n)*K + k
						}
						acc += av * (int64(int8(B[bi])) - zb)
					}
					v := Requantize(acc, a.Multiplier, a.Shift, zy, a.QMin, a.QMax)
					inference.Store(y, out.DType, (b*M+m)*N+n, v)
				}
			}
		}
		return nil
	}
}
