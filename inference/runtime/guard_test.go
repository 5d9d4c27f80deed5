package runtime

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// mlp returns the mlp vector model's bytes, an input and the reference's
// output for it.
func mlp(t *testing.T) (raw, in, want []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../tests/vectors/mlp/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	in = make([]byte, m.InputBytes())
	ref, _ := reference.Backend{}.Prepare(m)
	if want, err = ref.Run(in); err != nil {
		t.Fatal(err)
	}
	return raw, in, want
}

// fake is a backend with injected faults.
type fake struct {
	name         string
	prepareFails bool // Prepare returns an error
	preparePanic bool // Prepare panics
	runFails     bool // Run returns an error
	runPanics    bool // Run panics
	refuses      bool // Run says the input is bad
	runs         *int // counts Run calls, when set
}

func (f fake) Name() string { return f.name }
func (f fake) Prepare(m *inference.Model) (inference.Program, error) {
	switch {
	case f.preparePanic:
		panic("packing bug")
	case f.prepareFails:
		return nil, errors.New("out of device memory")
	}
	ref, err := reference.Backend{}.Prepare(m)
	return fakeProgram{f, ref}, err
}

type fakeProgram struct {
	f   fake
	ref inference.Program
}

func (p fakeProgram) Run(in []byte) ([]byte, error) {
	if p.f.runs != nil {
		*p.f.runs++
	}
	switch {
	case p.f.runPanics:
		panic("kernel bug")
	case p.f.runFails:
		return nil, errors.New("device lost")
	case p.f.refuses:
		return nil, inference.BadInput("index out of range (a kernel bug)")
	}
	return p.ref.Run(in)
}

// TestPanickingPrepareFallsBack: a backend whose Prepare panics neither
// takes the node down nor fails the model: the next backend prepares it.
func TestPanickingPrepareFallsBack(t *testing.T) {
	raw, in, want := mlp(t)
	p, err := Prepare(fake{name: "gpu", preparePanic: true}, raw, nil)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if got, err := p.Run(in); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Run: %x, %v; want %x", got, err, want)
	}
}

// TestRefusalRetriesOnReference: only the reference decides that an input
// is bad; an accelerated backend's refusal is its fault, retried.
func TestRefusalRetriesOnReference(t *testing.T) {
	raw, in, want := mlp(t)
	p, err := Prepare(fake{name: "cpu", refuses: true}, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Run(in); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Run: %x, %v; want the reference's %x", got, err, want)
	}
}

// TestChainFallsBackInOrder: after a failure the call takes the next
// backend of the chain, not the reference at once; a backend that fails
// twice in a row and one that panics are both passed over; a refusal goes
// straight to the judge.
func TestChainFallsBackInOrder(t *testing.T) {
	raw, in, want := mlp(t)
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		gpu, cpu  fake
		cpuRuns   int // calls that reached the second backend, over two Runs
		judgeRuns int // calls that reached the judge, over two Runs
	}{
		{"gpu fails", fake{runFails: true}, fake{}, 2, 0},
		{"gpu panics", fake{runPanics: true}, fake{}, 2, 0},
		{"gpu cannot prepare", fake{prepareFails: true}, fake{}, 2, 0},
		{"gpu prepare panics", fake{preparePanic: true}, fake{}, 2, 0},
		{"both fail", fake{runFails: true}, fake{runFails: true}, 2, 2},
		{"gpu fails, cpu panics", fake{runFails: true}, fake{runPanics: true}, 2, 2},
		{"cpu prepare panics", fake{runFails: true}, fake{preparePanic: true}, 0, 2},
		{"gpu refuses", fake{refuses: true}, fake{}, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cpuRuns, judgeRuns int
			gpu, cpu := tc.gpu, tc.cpu
			gpu.name, cpu.name = "gpu", "cpu"
			cpu.runs = &cpuRuns
			judge := fake{name: "judge", runs: &judgeRuns}
			p, err := Chain{gpu, cpu, judge}.prepare(m, inference.ID(raw), quietLog())
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if got, err := p.Run(in); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("Run: %x, %v; want %x", got, err, want)
				}
			}
			if cpuRuns != tc.cpuRuns || judgeRuns != tc.judgeRuns {
				t.Fatalf("second backend ran %d times, judge %d; want %d, %d", cpuRuns, judgeRuns, tc.cpuRuns, tc.judgeRuns)
			}
		})
	}
}

// TestChainFaultsAndVerdicts: only the judge's refusal is the caller's
// fault; when the judge fails too, or no backend can prepare the model,
// it is a node fault, never a refusal.
func TestChainFaultsAndVerdicts(t *testing.T) {
	raw, in, _ := mlp(t)
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	run := func(c Chain, input []byte) error {
		p, err := c.prepare(m, inference.ID(raw), quietLog())
		if err != nil {
			return err
		}
		_, err = p.Run(input)
		return err
	}
	// The judge refuses: the caller's fault.
	err = run(Chain{fake{name: "cpu", refuses: true}, fake{name: "judge", refuses: true}}, in)
	if !errors.Is(err, inference.ErrBadInput) || errors.Is(err, ErrNodeFault) {
		t.Fatalf("judge's refusal: %v", err)
	}
	// A real bad input (too short) through the default chain.
	err = run(DefaultChain(fake{name: "cpu", refuses: true}), in[:1])
	if !errors.Is(err, inference.ErrBadInput) {
		t.Fatalf("short input: %v", err)
	}
	for _, tc := range []struct {
		name string
		c    Chain
	}{
		{"every backend fails", Chain{fake{name: "gpu", runFails: true}, fake{name: "cpu", runPanics: true}, fake{name: "judge", runFails: true}}},
		{"the judge panics after a refusal", Chain{fake{name: "cpu", refuses: true}, fake{name: "judge", runPanics: true}}},
		{"the judge cannot prepare", Chain{fake{name: "cpu", runFails: true}, fake{name: "judge", prepareFails: true}}},
		{"no backend can prepare", Chain{fake{name: "cpu", preparePanic: true}, fake{name: "judge", prepareFails: true}}},
	} {
		err := run(tc.c, in)
		if !errors.Is(err, ErrNodeFault) || errors.Is(err, inference.ErrBadInput) {
			t.Errorf("%s: %v, want a node fault", tc.name, err)
		}
	}
}

// TestDecodePanicIsNodeFault: a panic while decoding is a node fault, not
// a verdict that the model is invalid; a decoding error stays a refusal.
func TestDecodePanicIsNodeFault(t *testing.T) {
	_, err := guardDecode(func([]byte) (*inference.Model, error) { panic("index out of range") }, []byte{1})
	if !errors.Is(err, ErrNodeFault) {
		t.Fatalf("panicking decoder: %v", err)
	}
	_, err = decode([]byte("not a model"))
	if err == nil || errors.Is(err, ErrNodeFault) {
		t.Fatalf("bad bytes: %v, want a plain refusal", err)
	}
	// Through the cache, a backend whose Prepare panics: the model loads
	// on the next backend.
	c := NewCache(fake{name: "cpu", preparePanic: true}, 1<<30, quietLog())
	raw, _, _ := mlp(t)
	if _, err := c.Load(inference.ID(raw), func() ([]byte, error) { return raw, nil }); err != nil {
		t.Fatalf("load with a panicking backend: %v", err)
	}
}

// TestDefaultChain: the fallbacks of each backend this machine has.
func TestDefaultChain(t *testing.T) {
	names := func(c Chain) (out []string) {
		for _, b := range c {
			out = append(out, b.Name())
		}
		return out
	}
	ref := reference.Backend{}
	if got := names(DefaultChain(ref)); len(got) != 1 || got[0] != "reference" {
		t.Errorf("reference: %v", got)
	}
	for _, b := range Backends() {
		c := names(DefaultChain(b))
		if c[0] != b.Name() || c[len(c)-1] != "reference" {
			t.Errorf("%s: %v", b.Name(), c)
		}
		seen := map[string]bool{}
		for _, n := range c {
			if seen[n] {
				t.Errorf("%s: %v names a backend twice", b.Name(), c)
			}
			seen[n] = true
		}
	}
	fixed := Chain{fake{name: "a"}, ref}
	if got := DefaultChain(fixed); len(got) != 2 || got[0].Name() != "a" {
		t.Errorf("a chain was not kept: %v", names(got))
	}
}

// TestChainConcurrentFallback: many calls falling back at once prepare
// each backend once and all get the right bytes (run with -race).
func TestChainConcurrentFallback(t *testing.T) {
	raw, in, want := mlp(t)
	m, _ := inference.Decode(raw)
	p, err := Chain{fake{name: "gpu", runFails: true}, fake{name: "cpu", runPanics: true}, reference.Backend{}}.prepare(m, inference.ID(raw), quietLog())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			got, err := p.Run(in)
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("wrong bytes")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
