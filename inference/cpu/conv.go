package cpu

import (
	"unsafe"

	"github.com/infergeth/infergeth/inference"
)

// maxImageBytes bounds the padded input image a convolution prepares per
// call. Without one (only with extreme padding, dilation or depth
// multipliers) a Conv2D reads its receptive fields from the unpadded input
// (convGeom.field) and a DepthwiseConv2D gathers its taps per pixel.
const maxImageBytes = 64 << 20

// bounds are the scratch limits nodes are prepared under: the package's
// constants, and smaller ones in tests, so that small models take every
// path the large ones do.
type bounds struct {
	imageBytes  int // a padded image (maxImageBytes)
	rowBytes    int // a prepared activation row (maxRowBytes)
	gatherBytes int // depthwiseGathered's taps (maxGatherBytes)
}

var defaultBounds = bounds{imageBytes: maxImageBytes, rowBytes: maxRowBytes, gatherBytes: maxGatherBytes}

// convGeom is a convolution's geometry over NHWC, with the input padded on
// every side so that no tap needs a bounds check: the padded image is hp ×
// wp pixels of c channels, and output pixel (oy, ox)'s tap (ky, kx) reads
// padded pixel (oy·sh + ky·dh, ox·sw + kx·dw).
type convGeom struct {
	batch, h, w, c int
	oh, ow         int
	kh, kw         int
	sh, sw, dh, dw int
	pt, pl         int
	hp, wp         int
}

func newConvGeom(x, out *inference.Tensor, kh, kw int, a *inference.Conv2DAttrs, channels int) convGeom {
	g := convGeom{
		batch: x.Shape[0], h: x.Shape[1], w: x.Shape[2], c: channels,
		oh: out.Shape[1], ow: out.Shape[2], kh: kh, kw: kw,
		sh: int(a.StrideH), sw: int(a.StrideW), dh: int(a.DilationH), dw: int(a.DilationW),
		pt: int(a.PadTop), pl: int(a.PadLeft),
	}
	g.hp = x.Shape[1] + int(a.PadTop) + int(a.PadBottom)
	g.wp = x.Shape[2] + int(a.PadLeft) + int(a.PadRight)
	return g
}

// imageElems is the padded image's element count, or -1 when it exceeds
// limit bytes at elem bytes per element.
func (g *convGeom) imageElems(elem, limit int) int {
	n := int64(g.batch) * int64(g.hp) * int64(g.wp) * int64(g.c)
	if n*int64(elem) > int64(limit) {
		return -1
	}
	return int(n)
}

// pad writes the padded image of x (B × H × W pixels of inRow/W bytes each
// row holding inRow bytes) into dst at elem bytes per element: each
// interior row through interior (which prepares, and may expand channels),
// padding as repetitions of the pattern pad (one element).
func (g *convGeom) pad(dst, x []byte, inRow, elem int, pad []byte, interior func(dst, src []byte)) {
	rowBytes := g.wp * g.c * elem
	left := g.pl * g.c * elem
	mid := g.w * g.c * elem
	for b := 0; b < g.batch; b++ {
		for py := 0; py < g.hp; py++ {
			d := dst[(b*g.hp+py)*rowBytes : (b*g.hp+py+1)*rowBytes]
			iy := py - g.pt
			if iy < 0 || iy >= g.h {
				fillPattern(d, pad)
				continue
			}
			fillPattern(d[:left], pad)
			interior(d[left:left+mid], x[(b*g.h+iy)*inRow:(b*g.h+iy+1)*inRow])
			fillPattern(d[left+mid:], pad)
		}
	}
}

// fillPattern fills d with repetitions of pat (len(d) a multiple of len(pat)).
func fillPattern(d, pat []byte) {
	if len(d) == 0 {
		return
	}
	n := copy(d, pat)
	for n < len(d) {
		n += copy(d[n:], d[:n])
	}
}

// im2col writes rows m0..m1-1 of the convolution's A matrix (row m: the
// receptive field of output pixel m, in (ky, kx, c) order, K = kh·kw·c
// elements) into dst, lda bytes apart. Segments are moved in 8-byte words,
// the last word of each running up to 7 bytes past it (later segments and
// rows overwrite that, and the caller clears what lies between K and the
// padded K), so dst and img need 8 bytes of slack: checked once, up front,
// after which the moves need no bounds checks.
func (g *convGeom) im2col(dst []byte, lda int, img []byte, m0, m1, elem int) {
	ox := m0 % g.ow
	oy := (m0 / g.ow) % g.oh
	b := m0 / (g.ow * g.oh)
	ce := g.c * elem
	seg := g.kw * ce
	rowStride := g.wp * ce        // bytes between image rows
	tapStride := g.dh * rowStride // between kernel rows
	if len(img) < g.batch*g.hp*rowStride+8 || len(dst) < (m1-m0-1)*lda+g.kh*seg+8 {
		panic("cpu: im2col buffers lack their slack (internal error)")
	}
	dp, ip := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(img))
	pix := ((b*g.hp+oy*g.sh)*g.wp + ox*g.sw) * ce
	for m := m0; m < m1; m++ {
		d := unsafe.Add(dp, (m-m0)*lda)
		base := pix
		for ky := 0; ky < g.kh; ky++ {
			if g.dw == 1 && seg <= 8 { // small first layers: one word, no call
				*(*uint64)(unsafe.Add(d, ky*seg)) = *(*uint64)(unsafe.Add(ip, base))
			} else if g.dw == 1 {
				moveWords(unsafe.Add(d, ky*seg), unsafe.Add(ip, base), seg)
			} else {
				for kx := 0; kx < g.kw; kx++ {
					moveWords(unsafe.Add(d, (ky*g.kw+kx)*ce), unsafe.Add(ip, base+kx*g.dw*ce), ce)
				}
			}
			base += tapStride
		}
		// Next output pixel.
		ox++
		pix += g.sw * ce
		if ox == g.ow {
			ox = 0
			oy++
			pix += (g.sh*g.wp - g.ow*g.sw) * ce
			if oy == g.oh {
				oy = 0
				b++
				pix = b * g.hp * rowStride
			}
		}
	}
}

// moveWords copies n bytes from src to dst in 8-byte words; it may read and
// write up to 7 bytes past n (the caller guarantees the room). Long runs go
// through copy.
func moveWords(dst, src unsafe.Pointer, n int) {
	if n > 64 {
		copy(unsafe.Slice((*byte)(dst), n), unsafe.Slice((*byte)(src), n))
		return
	}
	for i := 0; i < n; i += 8 {
		*(*uint64)(unsafe.Add(dst, i)) = *(*uint64)(unsafe.Add(src, i))
	}
}

// field writes elements k0..k1-1 of output pixel m's receptive field (row m
// of the im2col matrix: K = kh·kw·c in (ky, kx, c) order) into dst at
// elem bytes each, prepared, reading the unpadded input x (B × H × W × C):
// a tap outside the input is the prepared padding element pad. Runs that
// are contiguous in x (a tap's channels; with dilationW 1, a kernel row's
// taps inside the input) are prepared in one call.
func (g *convGeom) field(ks *kernelSet, dst, x []byte, m, k0, k1 int, pad []byte) {
	e := ks.elem
	ox := m % g.ow
	oy := (m / g.ow) % g.oh
	b := m / (g.ow * g.oh)
	c, rowK := g.c, g.kw*g.c
	for k := k0; k < k1; {
		ky := k / rowK
		kx := (k - ky*rowK) / c
		ch := k - ky*rowK - kx*c
		iy := oy*g.sh + ky*g.dh - g.pt
		ix := ox*g.sw + kx*g.dw - g.pl
		end := min(k1, (ky+1)*rowK) // this kernel row's last element + 1
		d := dst[(k-k0)*e:]
		var n int
		switch {
		case iy < 0 || iy >= g.h: // the rest of the kernel row is padding
			n = end - k
			fillPattern(d[:n*e], pad)
		case ix < 0 || ix >= g.w:
			n = min(c-ch, end-k)
			fillPattern(d[:n*e], pad)
		default:
			n = c - ch
			if g.dw == 1 { // the following taps read the following pixels
				last := min(g.kw-1, kx+g.w-1-ix)
				n += (last - kx) * c
			}
			n = min(n, end-k)
			at := ((b*g.h+iy)*g.w+ix)*c + ch
			ks.prepare(d[:n*e], x[at:at+n])
		}
		k += n
	}
}
