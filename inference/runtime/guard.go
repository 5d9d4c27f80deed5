package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// ErrNodeFault means this node could not compute a result that every node
// must agree on (every backend of the chain failed, or decoding panicked).
// It is never the caller's fault: the node must stop processing the block
// rather than commit or reject anything derived from it (ARCHITECTURE.md
// decision 4).
var ErrNodeFault = errors.New("inference node fault")

// Chain is the order in which a node tries backends on one model: each
// backend is tried when every one before it failed (an error, a panic, or
// a Prepare that did not work). The last one is the judge: only its
// refusal of an input (inference.ErrBadInput) is the caller's fault, which
// every node must agree on; another backend's refusal is that backend's
// fault, and the call goes to the judge. Every chain the node builds
// (DefaultChain) ends with the reference backend; tests build others to
// inject faults. A Chain is itself a backend, named after its first.
type Chain []inference.Backend

// DefaultChain is the fastest path that works after primary fails: the
// CPU kernels (when primary is not them and this CPU has them; a second
// view of a failed GPU would fail too), then the reference. A Chain is
// returned as it is.
func DefaultChain(primary inference.Backend) Chain {
	if c, ok := primary.(Chain); ok {
		return c
	}
	ref := reference.Backend{}
	if primary.Name() == ref.Name() {
		return Chain{primary}
	}
	c := Chain{primary}
	if cpu := cpuFallback(); cpu != nil && cpu.Name() != primary.Name() {
		c = append(c, cpu)
	}
	return append(c, ref)
}

// Name implements inference.Backend.
func (c Chain) Name() string {
	if len(c) == 0 {
		return "empty chain"
	}
	return c[0].Name()
}

// Prepare implements inference.Backend.
func (c Chain) Prepare(m *inference.Model) (inference.Program, error) {
	return c.prepare(m, inference.ModelID{}, slog.Default())
}

// prepare readies m on the first backend of the chain that can prepare it;
// the backends after it are prepared when a call first needs them. A
// failure of every backend is a node fault: a valid model that another
// node runs must never be refused here as if it were invalid.
func (c Chain) prepare(m *inference.Model, id inference.ModelID, log *slog.Logger) (*chainProgram, error) {
	var failures []string
	for i, b := range c {
		prog, err := guardPrepare(b, m)
		if err != nil {
			log.Warn("inference backend cannot prepare model; trying the next backend", "backend", b.Name(), "model", short(id), "err", err)
			failures = append(failures, b.Name()+": "+err.Error())
			continue
		}
		p := &chainProgram{model: m, id: id, log: log, stages: make([]*stage, 0, len(c)-i)}
		first := &stage{backend: b}
		first.once.Do(func() { first.prog = prog; first.done.Store(true) })
		p.stages = append(p.stages, first)
		for _, next := range c[i+1:] {
			p.stages = append(p.stages, &stage{backend: next})
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: no backend can prepare model %s: %s", ErrNodeFault, short(id), strings.Join(failures, "; "))
}

// chainProgram runs a model on its chain's backends in order.
type chainProgram struct {
	model  *inference.Model
	id     inference.ModelID
	log    *slog.Logger
	stages []*stage // stages[0] is prepared; the last is the judge
}

// stage is one backend of a chain, prepared once, when first needed.
type stage struct {
	backend inference.Backend
	once    sync.Once
	prog    inference.Program
	err     error
	done    atomic.Bool // once has run: prog and err are set
}

func (s *stage) program(m *inference.Model) (inference.Program, error) {
	s.once.Do(func() {
		s.prog, s.err = guardPrepare(s.backend, m)
		s.done.Store(true)
	})
	return s.prog, s.err
}

// prepared is the stage's program if it has been prepared, without
// preparing it.
func (s *stage) prepared() inference.Program {
	if !s.done.Load() {
		return nil
	}
	return s.prog
}

// Backend is the name of the backend that runs the model when nothing fails.
func (p *chainProgram) Backend() string { return p.stages[0].backend.Name() }

// Run implements inference.Program: the first backend's output, else the
// next's, down to the judge. A refusal of the input by the judge is
// returned as it is (errors.Is inference.ErrBadInput); a refusal by any
// other backend goes straight to the judge. When the judge fails too, the
// error matches ErrNodeFault and lists what each backend said.
func (p *chainProgram) Run(input []byte) ([]byte, error) {
	judge := len(p.stages) - 1
	var failures []string
	refused := "" // the backend whose refusal sent the call to the judge
	for i := 0; i <= judge; i++ {
		s := p.stages[i]
		prog, err := s.program(p.model)
		if err == nil {
			var out []byte
			if out, err = guardRun(prog, input); err == nil {
				if refused != "" {
					p.log.Warn("inference backend refused an input the reference accepts", "backend", refused, "model", short(p.id))
				}
				return out, nil
			}
			if errors.Is(err, inference.ErrBadInput) {
				if i == judge {
					return nil, err // the caller's fault, the same on every node
				}
				// Not this backend's call to make: usually the judge
				// agrees, and then nothing is wrong but the input.
				refused = s.backend.Name()
				failures = append(failures, s.backend.Name()+": "+err.Error())
				i = judge - 1
				continue
			}
		}
		failures = append(failures, s.backend.Name()+": "+err.Error())
		if i < judge {
			p.log.Warn("inference backend failed; trying the next backend", "backend", s.backend.Name(),
				"next", p.stages[i+1].backend.Name(), "model", short(p.id), "err", err)
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNodeFault, strings.Join(failures, "; "))
}

// guardRun runs prog, turning a panic (a bug in a backend, never the
// caller's input) into an error, so that the call takes the next backend
// instead of taking the node down. The error never matches
// inference.ErrBadInput, whatever the panic's value.
func guardRun(prog inference.Program, input []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("backend panicked: %v", r)
		}
	}()
	return prog.Run(input)
}

// guardPrepare is b.Prepare(m) with a panic turned into an error. A
// failure to prepare is never the model's fault (the model was validated),
// so the error does not wrap what Prepare returned.
func guardPrepare(b inference.Backend, m *inference.Model) (prog inference.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("prepare panicked: %v", r)
		}
	}()
	prog, err = b.Prepare(m)
	if err != nil {
		return nil, fmt.Errorf("prepare: %v", err)
	}
	if prog == nil {
		return nil, errors.New("prepare returned no program")
	}
	return prog, nil
}

// decode is inference.Decode behind the guard.
func decode(raw []byte) (*inference.Model, error) { return guardDecode(inference.Decode, raw) }

// guardDecode runs dec on raw. An error is a deterministic refusal of the
// bytes, the same on every node; a panic is a bug in this node's decoder,
// which must neither take the node down nor be taken for a verdict on the
// model: it is a node fault.
func guardDecode(dec func([]byte) (*inference.Model, error), raw []byte) (m *inference.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: decoding panicked: %v", ErrNodeFault, r)
		}
	}()
	return dec(raw)
}

// short is a model ID as logs show it.
func short(id inference.ModelID) string { return fmt.Sprintf("%x", id[:8]) }

// Run computes the output on the model's chain of backends (Chain.Run): a
// caller fault matches inference.ErrBadInput, a failure of every backend
// matches ErrNodeFault.
func (p *Prepared) Run(input []byte) ([]byte, error) { return p.run.Run(input) }
