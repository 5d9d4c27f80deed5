package cpu

import (
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/params"
)

// Once the dense ops run at kernel speed, the reference code's generic
// data-movement ops (an element load and store through a dtype switch per
// tap) dominate small models. These are their typed Go loops: no
// arithmetic, so nothing to round; the tests compare them with the
// reference like every other override.

// maxPool2D: per output pixel, the channel-wise maximum over the window's
// inside taps (padding taps are skipped, as the spec says), int8 or int16.
func maxPool2D(ts []*inference.Tensor, out *inference.Tensor, a *inference.Pool2DAttrs) reference.NodeFunc {
	x := ts[0]
	b, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := out.Shape[1], out.Shape[2]
	kh, kw, sh, sw := int(a.KernelH), int(a.KernelW), int(a.StrideH), int(a.StrideW)
	pt, pl := int(a.PadTop), int(a.PadLeft)
	size := x.DType.Size()
	if size != 1 && size != 2 {
		return nil
	}
	return func(in [][]byte, y []byte) error {
		src := in[0]
		o := 0
		for n := 0; n < b; n++ {
			for oy := 0; oy < oh; oy++ {
				y0, y1 := max(0, oy*sh-pt), min(h, oy*sh-pt+kh)
				for ox := 0; ox < ow; ox++ {
					x0, x1 := max(0, ox*sw-pl), min(w, ox*sw-pl+kw)
					dst := y[o*size : (o+c)*size]
					first := true
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							p := ((n*h+iy)*w + ix) * c * size
							tap := src[p : p+c*size]
							switch {
							case first:
								copy(dst, tap)
								first = false
							case size == 1:
								for i, v := range tap {
									if int8(v) > int8(dst[i]) {
										dst[i] = v
									}
								}
							default:
								for i := 0; i < c; i++ {
									v := int16(uint16(tap[2*i]) | uint16(tap[2*i+1])<<8)
									if v > int16(uint16(dst[2*i])|uint16(dst[2*i+1])<<8) {
										dst[2*i], dst[2*i+1] = tap[2*i], tap[2*i+1]
									}
								}
							}
						}
					}
					o += c
				}
			}
		}
		return nil
	}
}

// transpose walks the output in order; along the output's last axis the
// input index advances by a fixed step, so that innermost loop is a typed
// strided copy.
func transpose(ts []*inference.Tensor, out *inference.Tensor, a *inference.TransposeAttrs) reference.NodeFunc {
	x := ts[0]
	r := len(x.Shape)
	size := x.DType.Size()
	if r == 0 {
		return nil
	}
	inStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= x.Shape[d]
	}
	step := make([]int, r)
	for i := 0; i < r; i++ {
		step[i] = inStride[a.Perm[i]]
	}
	n := x.Elements()
	inner := out.Shape[r-1]
	last := step[r-1]
	return func(in [][]byte, y []byte) error {
		var idx [params.MaxTensorRank]int
		src := 0
		for o := 0; o < n; o += inner {
			// The row o..o+inner-1 of the output.
			switch size {
			case 1:
				row := y[o : o+inner]
				for i := range row {
					row[i] = in[0][src+i*last]
				}
			case 2:
				row := y[2*o : 2*(o+inner)]
				for i := 0; i < inner; i++ {
					p := 2 * (src + i*last)
					row[2*i], row[2*i+1] = in[0][p], in[0][p+1]
				}
			default:
				row := y[4*o : 4*(o+inner)]
				for i := 0; i < inner; i++ {
					p := 4 * (src + i*last)
					copy(row[4*i:4*i+4], in[0][p:p+4])
				}
			}
			// Advance the outer axes (all but the last) by one.
			for d := r - 2; d >= 0; d-- {
				idx[d]++
				src += step[d]
				if idx[d] < out.Shape[d] {
					break
				}
				src -= step[d] * idx[d]
				idx[d] = 0
			}
		}
		return nil
	}
}
