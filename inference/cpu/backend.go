package cpu

import (
	"fmt"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Backend is the `cpu` backend: the reference program with the dense ops
// (FullyConnected, Conv2D, DepthwiseConv2D, MatMul) replaced by kernels of
// one Path, and every other op except Reshape (a single copy already) by
// typed Go loops computing the reference's integers. It is stateless;
// Prepare's programs own their packed weights.
type Backend struct {
	path Path
}

// New returns the backend with the fastest path this CPU supports (CPUID,
// read once by golang.org/x/sys/cpu at start).
func New() *Backend { return &Backend{path: Supported()[0]} }

// NewPath returns the backend forced to path, which this CPU must support.
// Tests and benchmarks use it to run every path on one machine.
func NewPath(path Path) (*Backend, error) {
	for _, p := range Supported() {
		if p == path {
			return &Backend{path: path}, nil
		}
	}
	return nil, fmt.Errorf("cpu: kernel path %s is not supported by this CPU (supported: %v)", path, Supported())
}

// Name implements inference.Backend.
func (b *Backend) Name() string { return "cpu" }

// Path is the instruction set the backend's kernels use.
func (b *Backend) Path() Path { return b.path }

func (b *Backend) kernels() *kernelSet {
	switch b.path {
	case PathVNNI:
		return &vnniSet
	case PathAVX2:
		return &avx2Set
	}
	return nil
}

// Prepare implements inference.Backend: it packs every dense node's weights
// once and returns a program whose Run is safe for concurrent use. On a
// kernel path every node of a valid model runs on the backend's own code
// (TestEveryOpOnEveryPath); PathGeneric is the reference program itself.
func (b *Backend) Prepare(m *inference.Model) (inference.Program, error) {
	ks := b.kernels()
	if ks == nil {
		return reference.NewProgram(m, nil)
	}
	pool := newScratchPool()
	p, err := reference.NewProgram(m, overridesWithin(ks, pool, m, defaultBounds))
	if err != nil {
		return nil, fmt.Errorf("cpu: prepare: %w", err)
	}
	return &program{Program: p, held: pool.held}, nil
}

// program is the reference program with the kernels' nodes, and what those
// nodes keep (packed weights, folded constants, tables).
type program struct {
	*reference.Program
	held int
}

// HeldBytes implements inference.Holder.
func (p *program) HeldBytes() int { return p.Program.HeldBytes() + p.held }

// CompileNode is the backend's implementation of node i of a valid model m,
// for a backend that runs the other nodes elsewhere (the cuda backend
// computes its nodes below the GPU threshold with it). On PathGeneric it is
// the reference's.
func (b *Backend) CompileNode(m *inference.Model, i int) (reference.NodeFunc, error) {
	if ks := b.kernels(); ks != nil {
		if f := prepareNode(ks, newScratchPool(), m, &m.Nodes[i], defaultBounds); f != nil {
			return f, nil
		}
	}
	return reference.Compile(m, i)
}

// overridesWithin prepares every node of m for ks within bd; pool counts
// what the nodes keep. A nil entry would leave its node to the reference
// code, which is two orders of magnitude slower per unit of gas on the dense
// ops: within the limits of a valid model there is none.
func overridesWithin(ks *kernelSet, pool *scratchPool, m *inference.Model, bd bounds) []reference.NodeFunc {
	out := make([]reference.NodeFunc, len(m.Nodes))
	for i := range m.Nodes {
		out[i] = prepareNode(ks, pool, m, &m.Nodes[i], bd)
	}
	return out
}

// prepareNode is the backend's implementation of node n.
func prepareNode(ks *kernelSet, pool *scratchPool, m *inference.Model, n *inference.Node, bd bounds) reference.NodeFunc {
	ts := make([]*inference.Tensor, len(n.Inputs))
	for k, t := range n.Inputs {
		ts[k] = &m.Tensors[t]
	}
	out := &m.Tensors[n.Output]
	switch a := n.Attrs.(type) {
	case *inference.FullyConnectedAttrs:
		return fullyConnected(ks, pool, ts, out, a)
	case *inference.Conv2DAttrs:
		if n.Op == inference.OpConv2D {
			return conv2D(ks, pool, ts, out, a, bd)
		}
	case *inference.DepthwiseConv2DAttrs:
		return depthwiseConv2D(ks, pool, ts, out, a, bd)
	case *inference.MatMulAttrs:
		return matMul(ks, pool, ts, out, a)
	case *inference.Pool2DAttrs:
		return pool2D(pool, ts, out, a, n.Op == inference.OpAvgPool2D)
	case *inference.TransposeAttrs:
		return transpose(pool, ts, out, a)
	case *inference.AddAttrs:
		return add(pool, ts, out, a)
	case *inference.MulAttrs:
		return mul(pool, ts, out, a)
	case *inference.RequantizeAttrs:
		return requantize(ts, out, a)
	case *inference.ClampAttrs:
		return clamp(ts, a)
	case *inference.MeanAttrs:
		return mean(pool, ts, out, a)
	case *inference.ConcatAttrs:
		return concat(ts, out, a)
	case *inference.ArgMaxAttrs:
		return argMax(ts, a)
	case *inference.SoftmaxAttrs:
		return softmax(ts, out, a)
	case *inference.NormAttrs:
		return norm(pool, ts, out, a, n.Op == inference.OpRMSNorm)
	case *inference.NoAttrs:
		switch n.Op {
		case inference.OpLookup:
			return lookup(ts)
		case inference.OpGather:
			return gather(ts, out)
		case inference.OpReshape:
			return reshape
		}
	}
	return nil
}

// reshape: the bytes are unchanged, as in the reference.
func reshape(in [][]byte, y []byte) error {
	copy(y, in[0])
	return nil
}
