package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
)

// denseModel is a FullyConnected model of n×n int8 weights, seed making
// the weights (and so the model) differ.
func denseModel(t testing.TB, n int, seed int64) []byte {
	t.Helper()
	b := &inference.Builder{}
	x := b.Input(inference.Spec{DType: inference.Int8, Shape: []int{1, n}})
	w := make([]int64, n*n)
	for i := range w {
		w[i] = (int64(i)*7+seed)%255 - 127
	}
	ones := func(v int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	wt := b.Const(inference.Int8, 0, []int{n, n}, w)
	bias := b.Const(inference.Int32, 0, []int{n}, ones(0))
	mult := b.Const(inference.Int32, 0, []int{n}, ones(1<<30))
	shift := b.Const(inference.Int8, 0, []int{n}, ones(45))
	b.Output(b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127},
		inference.Spec{DType: inference.Int8, Shape: []int{1, n}}, x, wt, bias, mult, shift))
	_, raw, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Item 4 of issue 11: an entry holds more than the model's canonical bytes
// (the decoded constants, the backend's packed weights, the reference
// program): the budget bounds what the entries really hold.
func TestCacheBudgetCountsWhatEntriesHold(t *testing.T) {
	rawA, rawB := denseModel(t, 256, 1), denseModel(t, 256, 2)
	backend := cpuBackend()
	// Room for both models' canonical bytes, not for what they hold.
	c := NewCache(backend, len(rawA)+len(rawB), nil)
	for _, raw := range [][]byte{rawA, rawB} {
		if _, err := c.Load(inference.ID(raw), func() ([]byte, error) { return raw, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := c.Get(inference.ID(rawA)); ok {
		t.Fatalf("both models stayed cached in a budget of their canonical bytes (%d): the cache does not count what they hold", len(rawA)+len(rawB))
	}
	if _, ok := c.Get(inference.ID(rawB)); !ok {
		t.Fatal("the most recent model was evicted")
	}
}

// HeldBytes counts the decoded constants, the backend program's own
// memory and the reference program's; Used is the sum over the entries and
// stays within the budget.
func TestCacheUsedIsWhatEntriesHold(t *testing.T) {
	raws := [][]byte{denseModel(t, 256, 1), denseModel(t, 256, 2), denseModel(t, 256, 3)}
	backend := cpuBackend()
	p, err := Prepare(backend, raws[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	weights := 256 * 256
	held := p.HeldBytes()
	if held <= len(raws[0]) {
		t.Fatalf("a model of %d canonical bytes holds %d", len(raws[0]), held)
	}
	if b, ok := backend.(*cpu.Backend); ok && b.Path() != cpu.PathGeneric {
		// The kernels pack the weights: the decoded model and the program
		// each keep a copy.
		if kept := p.run.stages[0].prepared().(inference.Holder).HeldBytes(); kept < weights || held < 2*weights {
			t.Fatalf("%d weight bytes: the cpu program reports %d, the entry %d", weights, kept, held)
		}
	}
	c := NewCache(backend, 2*held+held/2, nil) // room for two
	for _, raw := range raws {
		if _, err := c.Load(inference.ID(raw), func() ([]byte, error) { return raw, nil }); err != nil {
			t.Fatal(err)
		}
		if c.Used() > 2*held+held/2 {
			t.Fatalf("the cache holds %d bytes in a budget of %d", c.Used(), 2*held+held/2)
		}
	}
	if c.Len() != 2 || c.Used() != 2*held {
		t.Fatalf("%d models holding %d bytes cached; want 2 holding %d", c.Len(), c.Used(), 2*held)
	}
}

// countingBackend counts Prepare calls and blocks each until release is
// closed.
type countingBackend struct {
	inner    inference.Backend
	prepares atomic.Int32
	release  chan struct{}
}

func (b *countingBackend) Name() string { return b.inner.Name() }
func (b *countingBackend) Prepare(m *inference.Model) (inference.Program, error) {
	b.prepares.Add(1)
	<-b.release
	return b.inner.Prepare(m)
}

// Item 4 of issue 11: N concurrent misses on one model read and prepare it
// once; every caller gets the same prepared model.
func TestConcurrentMissesLoadOnce(t *testing.T) {
	raw := denseModel(t, 64, 1)
	const n = 8
	backend := &countingBackend{inner: cpuBackend(), release: make(chan struct{})}
	c := NewCache(backend, 1<<30, nil)
	var reads atomic.Int32
	src := Stored(inference.ID(raw), [][32]byte{inference.ID(raw)})
	got := make([]*Prepared, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := c.LoadFrom(src, func() ([]byte, error) { reads.Add(1); return raw, nil })
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	// Release the load once every other caller waits for it.
	for c.waiters(src) < n-1 {
		goruntime.Gosched()
	}
	close(backend.release)
	wg.Wait()
	if r, p := reads.Load(), backend.prepares.Load(); r != 1 || p != 1 {
		t.Fatalf("%d concurrent misses read the model %d times and prepared it %d times; want once", n, r, p)
	}
	for _, p := range got[1:] {
		if p != got[0] {
			t.Fatal("concurrent callers got different prepared models")
		}
	}
}

// Many callers loading and running several models at once through a cache
// that holds one or two of them: every result is its model's (run it under
// -race: the cache is shared by every execution on a node).
func TestCacheUnderConcurrentLoadsAndEvictions(t *testing.T) {
	raws := [][]byte{denseModel(t, 64, 1), denseModel(t, 64, 2), denseModel(t, 64, 3)}
	input := make([]byte, 64)
	for i := range input {
		input[i] = byte(i * 3)
	}
	want := make([][]byte, len(raws))
	for i, raw := range raws {
		want[i] = referenceRun(t, raw, input)
	}
	p, err := Prepare(cpuBackend(), raws[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(cpuBackend(), p.HeldBytes()*3/2, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				i := (g + k) % len(raws)
				raw := raws[i]
				src := Stored(inference.ID(raw), [][32]byte{inference.ID(raw)})
				p, _, err := c.LoadFrom(src, func() ([]byte, error) { return raw, nil })
				if err != nil {
					t.Error(err)
					return
				}
				out, err := p.Run(input)
				if err != nil || string(out) != string(want[i]) {
					t.Errorf("model %d computed %x, %v; want %x", i, out, err, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	if c.Used() > p.HeldBytes()*3/2 {
		t.Fatalf("the cache holds %d bytes in a budget of %d", c.Used(), p.HeldBytes()*3/2)
	}
}
