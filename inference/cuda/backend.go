package cuda

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Backend runs the dense nodes of a model on a GPU and every other node on
// the CPU. It gives the reference backend's bytes for every model and
// input; whenever the GPU cannot compute a node (out of memory, a driver
// error, a lost device) the CPU computes that node instead and the failure
// is logged: the caller sees a slower call, never an error or a different
// result. Backend is safe for concurrent use.
type Backend struct {
	cfg    Config
	log    *slog.Logger
	info   DeviceInfo
	budget int64

	lock     *devLock
	ex       *executor // used under lock only
	disabled atomic.Bool
	faults   atomic.Int64
}

// referenceMinNodeMACs is the GPU threshold for the dense nodes of a model
// that already runs on the GPU when the CPU side of its program is the
// reference backend (Config.CompileNode nil): at about 1 GMAC/s the
// reference spends the GPU's fixed 10-30 µs per node on 2^14 MACs.
const referenceMinNodeMACs = 1 << 14

// open makes the device, its context current on the calling thread.
type openFunc func() (device, DeviceInfo, error)

func newBackend(cfg Config, open openFunc) (*Backend, error) {
	b := &Backend{cfg: cfg, log: cfg.Log}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.cfg.Name == "" {
		b.cfg.Name = "cuda"
	}
	if b.cfg.MinNodeMACs == 0 {
		b.cfg.MinNodeMACs = DefaultMinNodeMACs
	}
	start := func() error {
		d, info, err := open()
		if err != nil {
			return err
		}
		b.info = info
		b.budget = cfg.WeightBudget
		if b.budget <= 0 {
			b.budget = info.FreeMemory / 2
		}
		b.ex = newExecutor(d, b.budget)
		b.ex.kernel = cfg.kernel
		return nil
	}
	bind := func() error { return b.ex.dev.bind() }
	stop := func() {
		b.ex.close()
		b.ex.dev.close()
	}
	lock, err := startDevLock(start, bind, stop)
	if err != nil {
		return nil, err
	}
	b.lock = lock
	return b, nil
}

// Name implements inference.Backend.
func (b *Backend) Name() string { return b.cfg.Name }

// Device describes the GPU.
func (b *Backend) Device() DeviceInfo { return b.info }

// Faults counts the GPU failures that sent a node to the CPU.
func (b *Backend) Faults() int64 { return b.faults.Load() }

// Close releases the device. Programs prepared earlier keep working, on
// the CPU.
func (b *Backend) Close() {
	b.disabled.Store(true)
	b.lock.close()
}

// Prepare implements inference.Backend. Nodes of at least MinNodeMACs
// multiply-accumulates (every dense node with Force) run on the GPU; a model
// without such a node is prepared on the CPU backend whole.
func (b *Backend) Prepare(m *inference.Model) (inference.Program, error) {
	return b.prepare(m, b.cfg.Force)
}

// Forced is the same device with every dense node on the GPU, whatever its
// size: what `--backend cuda` selects for tests and benchmarks, while the
// thresholded backend itself is what `auto` picks.
func (b *Backend) Forced(name string) inference.Backend { return forcedBackend{b, name} }

type forcedBackend struct {
	b    *Backend
	name string
}

func (f forcedBackend) Name() string { return f.name }

func (f forcedBackend) Prepare(m *inference.Model) (inference.Program, error) {
	return f.b.prepare(m, true)
}

func (b *Backend) prepare(m *inference.Model, force bool) (inference.Program, error) {
	plans := map[int]*densePlan{}
	var weightBytes int64
	plan := func(min uint64) {
		for i := range m.Nodes {
			if plans[i] != nil || (!force && m.NodeMACs(i) < min) {
				continue
			}
			if p := planNode(m, i); p != nil {
				plans[i] = p
				weightBytes += int64(len(p.blob))
			}
		}
	}
	if !b.disabled.Load() {
		plan(b.cfg.MinNodeMACs)
	}
	if len(plans) == 0 {
		return b.cpuProgram(m)
	}
	if b.cfg.CompileNode == nil {
		// The other nodes of this program run on the reference, about 1
		// GMAC/s: from referenceMinNodeMACs on, the GPU is faster for them.
		plan(referenceMinNodeMACs)
	}
	if weightBytes > b.budget {
		b.log.Warn("cuda: model weights exceed the GPU weight budget; running the model on the CPU",
			"weightBytes", weightBytes, "budget", b.budget)
		return b.cpuProgram(m)
	}
	raw, err := inference.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	id := inference.ID(raw)
	overrides := make([]reference.NodeFunc, len(m.Nodes))
	for i := range m.Nodes {
		cpu, err := b.compileNode(m, i)
		if err != nil {
			return nil, err
		}
		overrides[i] = cpu
		if p := plans[i]; p != nil {
			overrides[i] = b.gpuNode(id, p, cpu)
		}
	}
	prog, err := reference.NewProgram(m, overrides)
	if err != nil {
		return nil, err
	}
	return &gpuProgram{Program: prog, held: int(weightBytes)}, nil
}

// gpuProgram is a program with GPU nodes. It keeps their weight blobs in
// host memory (uploaded to the device on first use, again after an
// eviction); the device copies are the weight cache's, bounded apart.
type gpuProgram struct {
	*reference.Program
	held int
}

// HeldBytes implements inference.Holder.
func (p *gpuProgram) HeldBytes() int { return p.Program.HeldBytes() + p.held }

func (b *Backend) cpuProgram(m *inference.Model) (inference.Program, error) {
	if b.cfg.CPU != nil {
		return b.cfg.CPU.Prepare(m)
	}
	return reference.Backend{}.Prepare(m)
}

func (b *Backend) compileNode(m *inference.Model, i int) (reference.NodeFunc, error) {
	if b.cfg.CompileNode != nil {
		return b.cfg.CompileNode(m, i)
	}
	return reference.Compile(m, i)
}

// gpuNode runs node p on the GPU, and on the CPU (cpu) when the GPU fails.
func (b *Backend) gpuNode(id inference.ModelID, p *densePlan, cpu reference.NodeFunc) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		if b.disabled.Load() {
			return cpu(in, out)
		}
		err := b.lock.do(func() error {
			if b.disabled.Load() {
				return errDisabled
			}
			return b.ex.run(id, p, in, out)
		})
		if err == nil {
			return nil
		}
		b.fault(id, p, err)
		clear(out)
		return cpu(in, out)
	}
}

// fault logs a GPU failure; one that may have broken the device takes the
// GPU out of use for the rest of the process.
func (b *Backend) fault(id inference.ModelID, p *densePlan, err error) {
	if err == errDisabled || err == errClosed {
		return
	}
	b.faults.Add(1)
	attrs := []any{"model", fmt.Sprintf("%x", id[:8]), "node", p.node, "op", p.kind.String(), "err", err}
	if transient(err) {
		b.log.Warn("cuda: node computed on the CPU", attrs...)
		return
	}
	if b.disabled.CompareAndSwap(false, true) {
		b.log.Error("cuda: device fault; the GPU stays unused until the process restarts, every node runs on the CPU", attrs...)
	}
}
