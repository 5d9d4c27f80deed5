package cpu

import (
	"encoding/binary"
	"slices"
	"unsafe"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// transpose: output axis i is input axis perm[i]. Walking either tensor in
// order strides through the other, and with power-of-two strides every
// line of such a walk falls into the same cache set, so a plain loop keeps
// missing the cache (a rank-6 int8 transpose of 16^6 elements took 12 ns
// per element that way). Instead the axes are simplified, then the tensor
// is moved in blocks through a small contiguous buffer:
//
//   - axes of size 1 are dropped, and neighbouring output axes that are
//     also neighbours, in order, in the input are merged;
//   - a run contiguous on both sides (the last output axis, if it is the
//     input's last) is moved as words of 8, 4, 2 or 1 bytes;
//   - a block spans, on the output side, the last output axes up to a cache
//     line of words (Po, contiguous in the output) and, on the input side,
//     the other axes with the smallest input strides up to a line (Qi);
//   - each block is read row by row (one row per Po position, its Qi words
//     from the input, contiguous when Qi is a prefix of the input's axes)
//     into the buffer, then written from the buffer, one contiguous output
//     row per Qi position. Both the input and the output are thus touched
//     a line at a time, and the buffer's transposition stays in L1.
func transpose(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.TransposeAttrs) reference.NodeFunc {
	x := ts[0]
	inStride := rowMajor(x.Shape)
	var dims, xs []int // output axes: size and input stride (elements)
	for i, n := range out.Shape {
		if n == 1 {
			continue
		}
		s := inStride[a.Perm[i]]
		if l := len(dims) - 1; l >= 0 && xs[l] == s*n {
			dims[l] *= n
			xs[l] = s
			continue
		}
		dims = append(dims, n)
		xs = append(xs, s)
	}
	if len(dims) <= 1 {
		// At most one axis left: the output is the input.
		return func(in [][]byte, y []byte) error {
			copy(y, in[0])
			return nil
		}
	}
	// Words: the element, or a run contiguous on both sides split into the
	// widest words that divide it.
	size, w := x.DType.Size(), x.DType.Size()
	if l := len(dims) - 1; xs[l] == 1 {
		run := dims[l] * size
		for w = 8; run%w != 0; w /= 2 {
		}
		// Every other input stride is a multiple of the run.
		for d := 0; d < l; d++ {
			xs[d] = xs[d] * size / w
		}
		if dims[l] = run / w; dims[l] == 1 {
			dims, xs = dims[:l], xs[:l]
		}
		if len(dims) <= 1 {
			return func(in [][]byte, y []byte) error {
				copy(y, in[0])
				return nil
			}
		}
	}
	switch w {
	case 1:
		return transposeBlocks[uint8](pool, newTransposePlan(dims, xs, 1))
	case 2:
		return transposeBlocks[uint16](pool, newTransposePlan(dims, xs, 2))
	case 4:
		return transposeBlocks[uint32](pool, newTransposePlan(dims, xs, 4))
	}
	return transposeBlocks[uint64](pool, newTransposePlan(dims, xs, 8))
}

// transposePlan is the block walk of a transpose over words.
type transposePlan struct {
	np, nq     int   // a whole block's Po and Qi positions
	xp, xq, yq []int // a block's input offsets per Po and Qi position, output offsets per Qi position (per Po: the position)
	xqContig   bool  // xq[i] == i
	// The blocks: outer axes (outermost first) with their block counts
	// and offset steps. clip marks the two axes whose last block may be
	// short (Po's and Qi's partial axis), with the block's extent and the
	// axis size.
	counts, ysteps, xsteps []int
	clipPo, clipQi         blockClip
}

// blockClip: along outer axis at (−1: none), blocks of ext positions out of
// n; the block's rows are inner times its extent.
type blockClip struct{ at, ext, n, inner int }

func (c *blockClip) rows(idx []int, whole int) int {
	if c.at < 0 {
		return whole
	}
	return c.inner * min(c.ext, c.n-idx[c.at]*c.ext)
}

func newTransposePlan(dims, xs []int, w int) *transposePlan {
	r := len(dims)
	ys := rowMajor(dims)
	target := max(16, 64/w)
	ext := make([]int, r)
	for d := range ext {
		ext[d] = 1
	}
	taken := make([]bool, r)
	// take adds axes, in order, until their positions reach target; it
	// returns the axes (least significant first) and the position count.
	take := func(order []int) ([]int, int) {
		var axes []int
		n := 1
		for _, d := range order {
			if n >= target {
				break
			}
			if taken[d] {
				continue
			}
			ext[d] = min(dims[d], (target+n-1)/n)
			taken[d] = true
			axes = append(axes, d)
			n *= ext[d]
		}
		return axes, n
	}
	var outOrder []int
	for d := r - 1; d >= 0; d-- {
		outOrder = append(outOrder, d)
	}
	po, np := take(outOrder)
	inOrder := slices.Clone(outOrder)
	slices.SortStableFunc(inOrder, func(a, b int) int { return xs[a] - xs[b] })
	qi, nq := take(inOrder)
	offsets := func(axes []int, n int, strides []int) []int {
		t := make([]int, n)
		for i := range t {
			rem := i
			for _, d := range axes {
				t[i] += rem % ext[d] * strides[d]
				rem /= ext[d]
			}
		}
		return t
	}
	p := &transposePlan{np: np, nq: nq, xp: offsets(po, np, xs), xq: offsets(qi, nq, xs), yq: offsets(qi, nq, ys),
		clipPo: blockClip{at: -1}, clipQi: blockClip{at: -1}}
	p.xqContig = true
	for i, o := range p.xq {
		p.xqContig = p.xqContig && o == i
	}
	clip := func(c *blockClip, axes []int, n int) {
		if len(axes) == 0 {
			return
		}
		d := axes[len(axes)-1] // the most significant, the only one that may be partial
		if ext[d] < dims[d] {
			*c = blockClip{at: d, ext: ext[d], n: dims[d], inner: n / ext[d]}
		}
	}
	clip(&p.clipPo, po, np)
	clip(&p.clipQi, qi, nq)
	// Outer axes: every axis with more than one block, in output order;
	// clip.at becomes the index among them.
	for d := 0; d < r; d++ {
		if ext[d] == dims[d] {
			continue
		}
		if p.clipPo.at == d {
			p.clipPo.at = len(p.counts)
		}
		if p.clipQi.at == d {
			p.clipQi.at = len(p.counts)
		}
		p.counts = append(p.counts, (dims[d]+ext[d]-1)/ext[d])
		p.ysteps = append(p.ysteps, ext[d]*ys[d])
		p.xsteps = append(p.xsteps, ext[d]*xs[d])
	}
	return p
}

func transposeBlocks[W word](pool *scratchPool, p *transposePlan) reference.NodeFunc {
	wsize := int(unsafe.Sizeof(W(0)))
	return func(in [][]byte, out []byte) error {
		sc := pool.get()
		defer pool.put(sc)
		raw := sc.tbuf.get(2 * p.np * p.nq * wsize)
		both := viewWords[W](raw)
		buf, tr := both[:p.np*p.nq], both[p.np*p.nq:]
		bufBytes, trBytes := raw[:p.np*p.nq], raw[p.np*p.nq:]
		x, y := viewWords[W](in[0]), viewWords[W](out)
		var idx [16]int
		outer := len(p.counts)
		yb, xb := 0, 0
		stride, xp, xq, yq, contig := p.nq, p.xp, p.xq, p.yq, p.xqContig
		for {
			np, nq := p.clipPo.rows(idx[:], p.np), p.clipQi.rows(idx[:], p.nq)
			// In: one row of the buffer per Po position.
			for i, o := range xp[:np] {
				row := buf[i*stride : i*stride+nq]
				src := xb + o
				if contig {
					copy(row, x[src:src+nq])
					continue
				}
				for j, q := range xq[:len(row)] {
					row[j] = x[src+q]
				}
			}
			// Out: the buffer transposed into the second buffer (in L1), then
			// one contiguous output row per Qi position, copied with wide
			// stores: storing word by word into output lines not yet in the
			// cache fills the store buffer and stalls on each line.
			if wsize == 1 {
				transposeBytes(trBytes, bufBytes, np, nq, stride)
			} else {
				for j := 0; j < nq; j++ {
					row := tr[j*np : j*np+np]
					k := j
					for i := range row {
						row[i] = buf[k]
						k += stride
					}
				}
			}
			for j, o := range yq[:nq] {
				copy(y[yb+o:yb+o+np], tr[j*np:j*np+np])
			}
			d := outer - 1
			for ; d >= 0; d-- {
				idx[d]++
				yb, xb = yb+p.ysteps[d], xb+p.xsteps[d]
				if idx[d] < p.counts[d] {
					break
				}
				yb, xb = yb-p.ysteps[d]*idx[d], xb-p.xsteps[d]*idx[d]
				idx[d] = 0
			}
			if d < 0 {
				return nil
			}
		}
	}
}

// viewWords is view for the unsigned word types.
func viewWords[W word](b []byte) []W {
	n := len(b) / int(unsafe.Sizeof(W(0)))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// transposeBytes writes tr[j·np + i] = buf[i·stride + j] for i < np,
// j < nq: 8×8 tiles as eight 64-bit words transposed in registers (three
// rounds of masked swaps), the edges byte by byte.
func transposeBytes(tr, buf []byte, np, nq, stride int) {
	le := binary.LittleEndian
	i8, j8 := np&^7, nq&^7
	for i := 0; i < i8; i += 8 {
		for j := 0; j < j8; j += 8 {
			var r [8]uint64
			for k := range r {
				o := (i+k)*stride + j
				r[k] = le.Uint64(buf[o : o+8])
			}
			swapBytes(&r, 1, 0x00FF00FF00FF00FF)
			swapBytes(&r, 2, 0x0000FFFF0000FFFF)
			swapBytes(&r, 4, 0x00000000FFFFFFFF)
			for k, v := range r {
				o := (j+k)*np + i
				le.PutUint64(tr[o:o+8], v)
			}
		}
	}
	// The edges: columns j8.. of every row, then rows i8.. of the first j8
	// columns.
	for j := j8; j < nq; j++ {
		for i := 0; i < np; i++ {
			tr[j*np+i] = buf[i*stride+j]
		}
	}
	for j := 0; j < j8; j++ {
		for i := i8; i < np; i++ {
			tr[j*np+i] = buf[i*stride+j]
		}
	}
}

// swapBytes is one round of the 8×8 byte transpose: for rows k and k+d in
// each pair of d-row groups, the d-byte units at odd unit positions of row
// k trade places with those at even positions of row k+d.
func swapBytes(r *[8]uint64, d int, mask uint64) {
	sh := uint(8 * d)
	for k := 0; k < 8; k++ {
		if k&d != 0 {
			continue
		}
		a, b := r[k], r[k+d]
		t := (a>>sh ^ b) & mask
		r[k], r[k+d] = a^t<<sh, b^t
	}
}
