package cuda

import (
	"github.com/infergeth/infergeth/inference"
)

// im2colChunkBytes bounds Conv2D's A matrix on the device: larger
// convolutions are computed in chunks of output rows.
const im2colChunkBytes = 32 << 20

// executor runs dense nodes on a device: one node per call, synchronously.
// Its state (the weight cache, the scratch buffer, the staging buffer)
// is used under the device lock only.
type executor struct {
	dev     device
	weights *weightCache
	kernel  kernelID // a forced GEMM kernel (tests); kernelAuto picks by shape

	scratch     devPtr // inputs, intermediates and outputs of the node in flight
	scratchSize int
	staging     []byte // host side of the upload
	chunkBytes  int    // im2colChunkBytes, smaller in tests
}

func newExecutor(d device, weightBudget int64) *executor {
	return &executor{dev: d, weights: newWeightCache(weightBudget), chunkBytes: im2colChunkBytes}
}

// run computes node p of model id: in are its operands' bytes, out its
// output buffer. On error out may hold anything.
func (e *executor) run(id inference.ModelID, p *densePlan, in [][]byte, out []byte) error {
	res, err := e.weights.resident(e.dev, id, p.node, p.blob)
	if err != nil {
		return err
	}
	switch {
	case p.kind == kindDepthwise:
		return e.runDepthwise(id, p, res, in[0], out)
	case p.kind == kindConv && !p.pointwise():
		return e.runConv(id, p, res, in[0], out)
	default: // FullyConnected, MatMul, 1x1 Conv2D
		return e.runGEMM(id, p, res, in, out)
	}
}

// ensureScratch returns a device buffer of at least n bytes, growing the
// one it keeps (and evicting cached weights of other models when the
// device is full).
func (e *executor) ensureScratch(n int, keep inference.ModelID) (devPtr, error) {
	if n <= e.scratchSize {
		return e.scratch, nil
	}
	if e.scratchSize > 0 {
		_ = e.dev.free(e.scratch)
		e.scratch, e.scratchSize = 0, 0
	}
	size := roundUp(n, 1<<20)
	p, err := e.weights.alloc(e.dev, size, keep)
	if err != nil {
		return 0, err
	}
	e.scratch, e.scratchSize = p, size
	return p, nil
}

func (e *executor) stage(n int) []byte {
	if cap(e.staging) < n {
		e.staging = make([]byte, n)
	}
	return e.staging[:n]
}

// runGEMM: FullyConnected, MatMul and pointwise Conv2D. Their A operand
// (and a MatMul's activation b) is packed on the host and uploaded in one
// copy together with its folded terms.
func (e *executor) runGEMM(id inference.ModelID, p *densePlan, res devPtr, in [][]byte, out []byte) error {
	rowTerms := p.kind == kindMatMul && p.zb != 0
	bPerCall := p.offB < 0
	sizes := []int{p.batch * p.m * p.kp, 0, 0, 0}
	if rowTerms {
		sizes[1] = 4 * p.batch * p.m
	}
	if bPerCall {
		sizes[2], sizes[3] = p.batch*p.n*p.kp, 4*p.batch*p.n
	}
	offs, staged := blobLayout(sizes...)
	base, err := e.ensureScratch(staged+len(out), id)
	if err != nil {
		return err
	}
	buf := e.stage(staged)
	var row []byte
	if rowTerms {
		row = buf[offs[1]:]
	}
	p.packA(buf[offs[0]:], row, in[0])
	if bPerCall {
		p.packB(buf[offs[2]:], buf[offs[3]:], in[1])
	}
	if err := e.dev.upload(base, buf); err != nil {
		return err
	}
	g := gemmArgs{
		a: base + devPtr(offs[0]), mult: res + devPtr(p.offMult), shift: res + devPtr(p.offShift),
		out: base + devPtr(staged),
		m:   p.m, n: p.n, kp: p.kp, batch: p.batch,
		strideA: p.m * p.kp, strideB: p.n * p.kp, strideRow: p.m, strideOut: p.m * p.n,
		zy: p.zy, qmin: p.qmin, qmax: p.qmax, outSize: p.outSize,
	}
	if rowTerms {
		g.rowTerm = base + devPtr(offs[1])
	}
	if bPerCall {
		g.b, g.colTerm = base+devPtr(offs[2]), base+devPtr(offs[3])
	} else {
		g.b, g.colTerm = res+devPtr(p.offB), res+devPtr(p.offCol)
	}
	if p.kind == kindMatMul {
		g.strideCol = p.n // a MatMul's colTerm is per batch
	}
	if err := e.dev.launch(gemmLaunch(g, e.kernel)); err != nil {
		return err
	}
	return e.dev.download(out, g.out)
}

// convChunkRows is how many output rows of a Conv2D one im2col pass covers.
func (e *executor) convChunkRows(p *densePlan) int {
	rows := p.m
	if rows*p.kp <= e.chunkBytes {
		return rows
	}
	chunk := max(1, e.chunkBytes/p.kp)
	if chunk >= immaBM {
		chunk -= chunk % immaBM
	}
	return chunk
}

// runConv: Conv2D as im2col (on the device) and GEMM, in chunks of rows.
func (e *executor) runConv(id inference.ModelID, p *densePlan, res devPtr, x, out []byte) error {
	g := &p.geo
	chunk := e.convChunkRows(p)
	offs, total := blobLayout(len(x), chunk*p.kp, len(out))
	base, err := e.ensureScratch(total, id)
	if err != nil {
		return err
	}
	xd, ad, od := base+devPtr(offs[0]), base+devPtr(offs[1]), base+devPtr(offs[2])
	if err := e.dev.upload(xd, x); err != nil {
		return err
	}
	for r0 := 0; r0 < p.m; r0 += chunk {
		rows := min(chunk, p.m-r0)
		im2col := launchSpec{
			kernel: kernelIm2col,
			grid:   elemGrid(rows * p.kp),
			block:  [3]uint32{elemThreads, 1, 1},
			args: []uint64{uint64(xd), uint64(ad), i64(rows), i64(r0), i64(p.kp), i64(p.k),
				i64(g.h), i64(g.w), i64(g.c), i64(g.oh), i64(g.ow), i64(g.kw),
				i64(g.sh), i64(g.sw), i64(g.dh), i64(g.dw), i64(g.padT), i64(g.padL), i64(int(p.zx))},
		}
		if err := e.dev.launch(im2col); err != nil {
			return err
		}
		gemm := gemmArgs{
			a: ad, b: res + devPtr(p.offB), colTerm: res + devPtr(p.offCol),
			mult: res + devPtr(p.offMult), shift: res + devPtr(p.offShift),
			out: od + devPtr(r0*p.n*p.outSize), m: rows, n: p.n, kp: p.kp, batch: 1,
			zy: p.zy, qmin: p.qmin, qmax: p.qmax, outSize: p.outSize,
		}
		if err := e.dev.launch(gemmLaunch(gemm, e.kernel)); err != nil {
			return err
		}
	}
	return e.dev.download(out, od)
}

// runDepthwise: DepthwiseConv2D, one thread per output element.
func (e *executor) runDepthwise(id inference.ModelID, p *densePlan, res devPtr, x, out []byte) error {
	g := &p.geo
	offs, total := blobLayout(len(x), len(out))
	base, err := e.ensureScratch(total, id)
	if err != nil {
		return err
	}
	xd, od := base+devPtr(offs[0]), base+devPtr(offs[1])
	if err := e.dev.upload(xd, x); err != nil {
		return err
	}
	elems := len(out) / p.outSize
	l := launchSpec{
		kernel: kernelDepthwise,
		grid:   elemGrid(elems),
		block:  [3]uint32{elemThreads, 1, 1},
		args: []uint64{uint64(xd), uint64(res + devPtr(p.offB)), uint64(res + devPtr(p.offCol)),
			uint64(res + devPtr(p.offMult)), uint64(res + devPtr(p.offShift)), uint64(od),
			i64(elems), i64(g.h), i64(g.w), i64(g.c), i64(g.oh), i64(g.ow), i64(g.oc),
			i64(g.kh), i64(g.kw), i64(g.dm), i64(g.sh), i64(g.sw), i64(g.dh), i64(g.dw),
			i64(g.padT), i64(g.padL), i64(int(p.zx)), i64(int(p.zy)), i64(int(p.qmin)), i64(int(p.qmax)),
			i64(p.outSize)},
	}
	if err := e.dev.launch(l); err != nil {
		return err
	}
	return e.dev.download(out, od)
}

// close frees the device memory the executor holds.
func (e *executor) close() {
	e.weights.clear(e.dev)
	if e.scratchSize > 0 {
		_ = e.dev.free(e.scratch)
		e.scratch, e.scratchSize = 0, 0
	}
}
