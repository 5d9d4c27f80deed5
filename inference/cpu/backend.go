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
// once and returns a program whose Run is safe for concurrent use.
func (b *Backend) Prepare(m *inference.Model) (inference.Program, error) {
	ks := b.kernels()
	if ks == nil {
		return reference.NewProgram(m, nil)
	}
	pool := newScratchPool()
	overrides := make([]reference.NodeFunc, len(m.Nodes))
	for i := range m.Nodes {
		n := &m.Nodes[i]
		ts := make([]*inference.Tensor, len(n.Inputs))
		for k, t := range n.Inputs {
			ts[k] = &m.Tensors[t]
		}
		out := &m.Tensors[n.Output]
		switch a := n.Attrs.(type) {
		case *inference.FullyConnectedAttrs:
			overrides[i] = fullyConnected(ks, pool, ts, out, a)
		case *inference.Conv2DAttrs:
			if n.Op == inference.OpConv2D {
				overrides[i] = conv2D(ks, pool, ts, out, a)
			}
		case *inference.DepthwiseConv2DAttrs:
			overrides[i] = depthwiseConv2D(ks, pool, ts, out, a)
		case *inference.MatMulAttrs:
			overrides[i] = matMul(ks, pool, ts, out, a)
		case *inference.Pool2DAttrs:
			overrides[i] = pool2D(pool, ts, out, a, n.Op == inference.OpAvgPool2D)
		case *inference.TransposeAttrs:
			overrides[i] = transpose(pool, ts, out, a)
		case *inference.AddAttrs:
			overrides[i] = add(pool, ts, out, a)
		case *inference.MulAttrs:
			overrides[i] = mul(pool, ts, out, a)
		case *inference.RequantizeAttrs:
			overrides[i] = requantize(ts, out, a)
		case *inference.ClampAttrs:
			overrides[i] = clamp(ts, a)
		case *inference.MeanAttrs:
			overrides[i] = mean(pool, ts, out, a)
		case *inference.ConcatAttrs:
			overrides[i] = concat(ts, out, a)
		case *inference.ArgMaxAttrs:
			overrides[i] = argMax(ts, a)
		case *inference.SoftmaxAttrs:
			overrides[i] = softmax(ts, out, a)
		case *inference.NormAttrs:
			overrides[i] = norm(pool, ts, out, a, n.Op == inference.OpRMSNorm)
		case *inference.NoAttrs:
			switch n.Op {
			case inference.OpLookup:
				overrides[i] = lookup(ts)
			case inference.OpGather:
				overrides[i] = gather(ts, out)
			}
		}
	}
	p, err := reference.NewProgram(m, overrides)
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
