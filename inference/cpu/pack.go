package cpu

import "unsafe"

// packedB is a weight matrix B (K × N, value b[k][n]) in the layout of a
// kernel set: N is cut into panels of ks.panelCols() columns (the last one
// has only the blocks it needs); within a panel, for each group g of
// ks.kAlign consecutive k and each block j, one vector of lanes × kAlign
// elements, lane l holding b[g·kAlign + e][col(j, l)] for e = 0..kAlign-1.
// K is padded with zeros up to a multiple of kAlign and N up to whole
// blocks, so padding contributes nothing to any sum.
type packedB struct {
	k, n   int // true sizes
	kg     int // k groups: ceil(K / kAlign)
	slice  int // k groups per slice of a sliced GEMM (gemmSliced)
	panels []panel
	data   []byte // 64-byte aligned
}

type panel struct {
	off    int // byte offset into data
	blocks int
}

// layoutB computes the panels of a K × N matrix and the bytes they take.
func layoutB(ks *kernelSet, k, n int) (packedB, int) {
	pb := packedB{k: k, n: n, kg: (k + ks.kAlign - 1) / ks.kAlign, slice: ks.sliceGroups()}
	pc := ks.panelCols()
	off := 0
	for c0 := 0; c0 < n; c0 += pc {
		blocks := (min(pc, n-c0) + ks.lanes - 1) / ks.lanes
		pb.panels = append(pb.panels, panel{off: off, blocks: blocks})
		off += pb.kg * blocks * ks.lanes * ks.kAlign
	}
	return pb, off
}

// colsPadded is the column count rounded up to whole panels: the length of
// every per-column array the kernels read.
func (pb *packedB) colsPadded(ks *kernelSet) int { return len(pb.panels) * ks.panelCols() }

// packNK packs B given as src[n·K + k] (FullyConnected weights [N, K],
// Conv2D OHWI weights, MatMul with transposeB) into dst, and adds Σ_k b[k][n]
// to colsum[n] when colsum is not nil. A whole group of one column is kAlign
// consecutive bytes of its row: they move as one word, group by group, so
// the stores run sequentially through each panel; whole 16-column blocks
// go through the transpose kernel where there is one.
func (pb *packedB) packNK(ks *kernelSet, dst, src []byte, colsum []int64) {
	K, N, ka, lanes := pb.k, pb.n, ks.kAlign, ks.lanes
	pc := ks.panelCols()
	full := K / ka // groups with no padding
	_ = src[N*K-1]
	if colsum != nil {
		for n := 0; n < N; n++ {
			colsum[n] += sumInt8(src[n*K : n*K+K])
		}
	}
	for p, pn := range pb.panels {
		c0 := p * pc
		cols := pn.blocks * lanes
		valid := min(cols, N-c0)
		gstride := cols * ka // bytes between groups
		_ = dst[pn.off+pb.kg*gstride-1]
		d, r := unsafe.Pointer(&dst[pn.off]), unsafe.Pointer(&src[c0*K])
		// The transpose kernel covers columns below cDone of groups below gDone.
		quads := full / 4
		gDone, cDone := 4*quads, 0
		for cDone+16 <= valid && quads > 0 && ks.packNKBlocks(dst[pn.off+cDone*ka:], src[(c0+cDone)*K:], K, quads, gstride) {
			cDone += 16
		}
		for g := 0; g < full; g++ {
			dg := unsafe.Add(d, g*gstride)
			from := 0
			if g < gDone {
				from = cDone
			}
			if ka == 4 {
				for c := from; c < valid; c++ {
					*(*uint32)(unsafe.Add(dg, c*4)) = *(*uint32)(unsafe.Add(r, c*K+g*4))
				}
			} else {
				for c := from; c < valid; c++ {
					*(*uint16)(unsafe.Add(dg, c*2)) = *(*uint16)(unsafe.Add(r, c*K+g*2))
				}
			}
			clear(dst[pn.off+g*gstride+valid*ka : pn.off+(g+1)*gstride])
		}
		for g := full; g < pb.kg; g++ {
			for c := 0; c < cols; c++ {
				cell := dst[pn.off+g*gstride+c*ka:]
				if c < valid {
					n := c0 + c
					pb.packCell(ks, cell, g, func(k int) byte { return src[n*K+k] })
				} else {
					clear(cell[:ka])
				}
			}
		}
	}
}

// packCell writes group g of one column (its kAlign values, zero past K) at
// d, from at(k).
func (pb *packedB) packCell(ks *kernelSet, d []byte, g int, at func(k int) byte) {
	for e := 0; e < ks.kAlign; e++ {
		d[e] = 0
		if k := g*ks.kAlign + e; k < pb.k {
			d[e] = at(k)
		}
	}
}

// packKN packs B given as src[k·N + n] (MatMul without transposeB): whole
// blocks of whole groups with the interleaving kernels, the edges in Go.
func (pb *packedB) packKN(ks *kernelSet, dst, src []byte, colsum []int64) {
	K, N, ka, lanes := pb.k, pb.n, ks.kAlign, ks.lanes
	pc := ks.panelCols()
	full := K / ka
	if colsum != nil {
		colSums(src[:K*N], N, K, colsum)
	}
	for p, pn := range pb.panels {
		gstride := pn.blocks * lanes * ka
		for j := 0; j < pn.blocks; j++ {
			c0 := p*pc + j*lanes
			o := pn.off + j*lanes*ka
			if c0+lanes <= N {
				ks.packKNBlocks(dst[o:], src[c0:], N, full, gstride)
				if full < pb.kg {
					for l := 0; l < lanes; l++ {
						pb.packCell(ks, dst[o+full*gstride+l*ka:], full, func(k int) byte { return src[k*N+c0+l] })
					}
				}
				continue
			}
			for g := 0; g < pb.kg; g++ {
				for l := 0; l < lanes; l++ {
					d := dst[o+g*gstride+l*ka:]
					if c := c0 + l; c < N {
						pb.packCell(ks, d, g, func(k int) byte { return src[k*N+c] })
					} else {
						clear(d[:ka])
					}
				}
			}
		}
	}
}
