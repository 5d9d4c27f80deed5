package cpu

import (
	"fmt"
	"unsafe"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// dwPixels is how many output pixels one depthwise kernel call computes.
const dwPixels = 8 // gen_kernels.go: dwMaxPixels

// depthwiseConv2D prepares a DepthwiseConv2D node. The kernel works on raw
// int8 activations (sign-extended to int32 lanes, multiplied by int32
// weights), so the only folded constant is bias[c] − zx·Σ_t w[t][c]; padding
// taps read zx and so contribute nothing. With a depth multiplier above 1
// the padded image repeats each input channel that many times, so output
// channel c reads image channel c. When that image would exceed
// bd.imageBytes, the taps are gathered per pixel instead (depthwiseGathered).
func depthwiseConv2D(ks *kernelSet, pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.DepthwiseConv2DAttrs, bd bounds) reference.NodeFunc {
	x, w, bias, mult, shift := ts[0], ts[1], ts[2], ts[3], ts[4]
	kh, kw, oc := w.Shape[0], w.Shape[1], w.Shape[2]
	dm := int(a.DepthMultiplier)
	g := newConvGeom(x, out, kh, kw, &a.Conv2DAttrs, oc)
	imgElems := g.imageElems(1, bd.imageBytes)
	ocp := roundUp(oc, 16)
	taps := kh * kw
	wp := make([]int32, taps*ocp)
	biasP := make([]int32, ocp)
	offs := make([]int64, taps)
	pool.keep(4*len(wp) + 4*len(biasP) + 8*len(offs))
	zx := int64(x.ZeroPoint)
	for c := 0; c < oc; c++ {
		var sum int64
		for t := 0; t < taps; t++ {
			v := int64(int8(w.Data[t*oc+c]))
			wp[t*ocp+c] = int32(v)
			sum += v
		}
		biasP[c] = int32(bias.At(c) - zx*sum)
	}
	for ky := 0; ky < kh; ky++ {
		for kx := 0; kx < kw; kx++ {
			offs[ky*kw+kx] = int64((ky*g.dh*g.wp + kx*g.dw) * oc)
		}
	}
	ep := newEpilogue(oc, ocp, mult.At, shift.At, out.ZeroPoint, a.QMin, a.QMax, out.DType)
	pool.keep(ep.bytes())
	ldo := oc * ep.esize
	if imgElems < 0 {
		return depthwiseGathered(ks, pool, x, &g, dm, wp, biasP, ep, ocp, out.Elements()*ep.esize, bd.gatherBytes)
	}
	inC := x.Shape[3]
	inBytes := x.Elements()
	pad := []byte{byte(x.ZeroPoint)}
	expand := func(dst, src []byte) {
		if dm == 1 {
			copy(dst, src)
			return
		}
		for p := 0; p < len(src)/inC; p++ {
			d := dst[p*oc : (p+1)*oc]
			for c := 0; c < inC; c++ {
				v := src[p*inC+c]
				for j := c * dm; j < (c+1)*dm; j++ {
					d[j] = v
				}
			}
		}
	}
	// The last pixel's channel group may read up to ocp-oc bytes past the image.
	slack := ocp - oc + 64
	lastTap := int(offs[taps-1])
	return func(in [][]byte, y []byte) error {
		if len(in[0]) != inBytes || len(y) != g.batch*g.oh*g.ow*ldo {
			return fmt.Errorf("cpu: DepthwiseConv2D operand sizes %d, %d; want %d, %d", len(in[0]), len(y), inBytes, g.batch*g.oh*g.ow*ldo)
		}
		sc := pool.get()
		defer pool.put(sc)
		img := sc.img.get(imgElems + slack)
		g.pad(img, in[0], g.w*inC, 1, pad, expand)
		tile := int32s(&sc.tile, dwPixels*ocp)
		for b := 0; b < g.batch; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox += dwPixels {
					px := min(dwPixels, g.ow-ox)
					base := ((b*g.hp+oy*g.sh)*g.wp + ox*g.sw) * oc
					_ = img[base+(px-1)*g.sw*oc+lastTap+ocp-1]
					args := dwArgs{
						x: unsafe.Pointer(&img[base]), taps: unsafe.Pointer(&offs[0]), ntaps: uintptr(taps),
						w: unsafe.Pointer(&wp[0]), bias: unsafe.Pointer(&biasP[0]), groups: uintptr(ocp / ks.dwLane),
						pixStride: uintptr(g.sw * oc),
						c:         unsafe.Pointer(&tile[0]), ldc: uintptr(ocp * 4), wStride: uintptr(ocp * 4),
					}
					ks.runDepthwise(&args, px)
					ks.requant(ep, tile, ocp, px, oc, 0, y, ((b*g.oh+oy)*g.ow+ox)*ldo, ldo)
				}
			}
		}
		return nil
	}
}

// maxGatherBytes bounds depthwiseGathered's buffer of taps.
const maxGatherBytes = 1 << 20

// depthwiseGathered is a DepthwiseConv2D without a padded image: for each
// run of up to dwPixels output pixels of one output row and each slice of
// channels, it copies every tap's channels of every pixel (the zero point
// for a tap outside the input, which then adds nothing) into a buffer laid
// out as the kernel reads an image — tap t of pixel p at (t·dwPixels + p)
// channel slices — and runs the same kernel and epilogue over it.
// wp, biasP: the folded weights and bias, ocp (channels rounded up to 16)
// per tap.
func depthwiseGathered(ks *kernelSet, pool *scratchPool, x *inference.Tensor, g *convGeom, dm int, wp, biasP []int32, ep *epilogue, ocp, outBytes, gatherBytes int) reference.NodeFunc {
	oc, inC := g.c, x.Shape[3]
	taps := g.kh * g.kw
	// Channels per slice: whole groups of 16, as many as the buffer holds.
	cs := min(ocp, max(16, gatherBytes/(taps*dwPixels)/16*16))
	offs := make([]int64, taps)
	for t := range offs {
		offs[t] = int64(t * dwPixels * cs)
	}
	ldo := oc * ep.esize
	inBytes := x.Elements()
	pad := []byte{byte(x.ZeroPoint)}
	return func(in [][]byte, y []byte) error {
		if len(in[0]) != inBytes || len(y) != outBytes {
			return fmt.Errorf("cpu: DepthwiseConv2D operand sizes %d, %d; want %d, %d", len(in[0]), len(y), inBytes, outBytes)
		}
		sc := pool.get()
		defer pool.put(sc)
		buf := sc.gather.get(taps * dwPixels * cs)
		tile := int32s(&sc.tile, dwPixels*cs)
		src := in[0]
		for b := 0; b < g.batch; b++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox += dwPixels {
					px := min(dwPixels, g.ow-ox)
					for c0 := 0; c0 < oc; c0 += cs {
						n := min(cs, oc-c0)
						for t := 0; t < taps; t++ {
							ky, kx := t/g.kw, t%g.kw
							iy := oy*g.sh + ky*g.dh - g.pt
							if iy < 0 || iy >= g.h {
								// The whole kernel row reads padding: its
								// taps are consecutive in buf.
								fillPattern(buf[t*dwPixels*cs:(t+g.kw)*dwPixels*cs], pad)
								t += g.kw - 1
								continue
							}
							for p := 0; p < px; p++ {
								d := buf[(t*dwPixels+p)*cs : (t*dwPixels+p)*cs+n]
								ix := (ox+p)*g.sw + kx*g.dw - g.pl
								if ix < 0 || ix >= g.w {
									fillPattern(d, pad)
									continue
								}
								pix := src[((b*g.h+iy)*g.w+ix)*inC : ((b*g.h+iy)*g.w+ix+1)*inC]
								if dm == 1 {
									copy(d, pix[c0:])
									continue
								}
								for i := range d {
									d[i] = pix[(c0+i)/dm]
								}
							}
						}
						args := dwArgs{
							x: unsafe.Pointer(&buf[0]), taps: unsafe.Pointer(&offs[0]), ntaps: uintptr(taps),
							w: unsafe.Pointer(&wp[c0]), bias: unsafe.Pointer(&biasP[c0]), groups: uintptr(roundUp(n, 16) / ks.dwLane),
							pixStride: uintptr(cs),
							c:         unsafe.Pointer(&tile[0]), ldc: uintptr(cs * 4), wStride: uintptr(ocp * 4),
						}
						ks.runDepthwise(&args, px)
						ks.requant(ep, tile, cs, px, n, c0, y, ((b*g.oh+oy)*g.ow+ox)*ldo+c0*ep.esize, ldo)
					}
				}
			}
		}
		return nil
	}
}
