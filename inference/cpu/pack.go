package cpu

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
	panels []panel
	data   []byte // 64-byte aligned
}

type panel struct {
	off    int // byte offset into data
	blocks int
}

// layoutB computes the panels of a K × N matrix and the bytes they take.
func layoutB(ks *kernelSet, k, n int) (packedB, int) {
	pb := packedB{k: k, n: n, kg: (k + ks.kAlign - 1) / ks.kAlign}
	pc := ks.panelCols()
	off := 0
	for c0 := 0; c0 < n; c0 += pc {
		blocks := (min(pc, n-c0) + ks.lanes - 1) / ks.lanes
		pb.panels = append(pb.panels, panel{off: off, blocks: blocks})
		off += pb.kg * blocks * ks.lanes * ks.kAlign * ks.elem
	}
	return pb, off
}

// colsPadded is the column count rounded up to whole panels: the length of
// every per-column array the kernels read.
func (pb *packedB) colsPadded(ks *kernelSet) int { return len(pb.panels) * ks.panelCols() }

// packNK packs B given as src[n·K + k] (FullyConnected weights [N, K],
// Conv2D OHWI weights, MatMul with transposeB) into dst, and adds Σ_k b[k][n]
// to colsum[n] when colsum is not nil.
func (pb *packedB) packNK(ks *kernelSet, dst, src []byte, colsum []int64) {
	K, N, ka, lanes := pb.k, pb.n, ks.kAlign, ks.lanes
	pc := ks.panelCols()
	for p, pn := range pb.panels {
		gstride := pn.blocks * lanes * ka * ks.elem // bytes between groups
		for j := 0; j < pn.blocks; j++ {
			for l := 0; l < lanes; l++ {
				n := p*pc + j*lanes + l
				o := pn.off + (j*lanes+l)*ka*ks.elem
				if n >= N {
					for g := 0; g < pb.kg; g++ {
						clear(dst[o+g*gstride : o+g*gstride+ka*ks.elem])
					}
					continue
				}
				row := src[n*K : n*K+K]
				if colsum != nil {
					var s int64
					for _, v := range row {
						s += int64(int8(v))
					}
					colsum[n] += s
				}
				if ks.elem == 1 {
					full := K / ka
					for g := 0; g < full; g++ {
						copy(dst[o+g*gstride:o+g*gstride+ka], row[g*ka:g*ka+ka])
					}
					if full < pb.kg {
						d := dst[o+full*gstride : o+full*gstride+ka]
						clear(d)
						copy(d, row[full*ka:])
					}
					continue
				}
				for g := 0; g < pb.kg; g++ {
					d := dst[o+g*gstride : o+g*gstride+ka*2]
					for e := 0; e < ka; e++ {
						var v uint16
						if k := g*ka + e; k < K {
							v = uint16(int16(int8(row[k])))
						}
						d[2*e], d[2*e+1] = byte(v), byte(v>>8)
					}
				}
			}
		}
	}
}

// packKN packs B given as src[k·N + n] (MatMul without transposeB).
func (pb *packedB) packKN(ks *kernelSet, dst, src []byte, colsum []int64) {
	K, N, ka, lanes := pb.k, pb.n, ks.kAlign, ks.lanes
	pc := ks.panelCols()
	for p, pn := range pb.panels {
		c0 := p * pc
		cols := pn.blocks * lanes
		valid := min(cols, N-c0)
		for g := 0; g < pb.kg; g++ {
			d := dst[pn.off+g*cols*ka*ks.elem : pn.off+(g+1)*cols*ka*ks.elem]
			clear(d)
			for e := 0; e < ka; e++ {
				k := g*ka + e
				if k >= K {
					break
				}
				row := src[k*N+c0 : k*N+c0+valid]
				if ks.elem == 1 {
					for c, v := range row {
						d[c*ka+e] = v
					}
				} else {
					for c, v := range row {
						x := uint16(int16(int8(v)))
						d[2*(c*ka+e)], d[2*(c*ka+e)+1] = byte(x), byte(x>>8)
					}
				}
				if colsum != nil {
					cs := colsum[c0 : c0+valid]
					for c, v := range row {
						cs[c] += int64(int8(v))
					}
				}
			}
		}
	}
}
