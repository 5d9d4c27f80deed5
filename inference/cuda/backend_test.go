package cuda

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// goBackend is a Backend on a goDevice of capacity bytes.
func goBackend(t *testing.T, cfg Config, capacity int) (*Backend, *goDevice) {
	t.Helper()
	dev := newGoDevice(capacity)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b, err := newBackend(cfg, func() (device, DeviceInfo, error) {
		return dev, DeviceInfo{Name: "go", Major: 9, TotalMemory: int64(capacity), FreeMemory: int64(capacity)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, dev
}

func TestDifferentialGoDevice(t *testing.T) {
	for _, kernel := range []kernelID{kernelAuto, kernelIMMA, kernelDP4A} {
		t.Run(kernel.String(), func(t *testing.T) {
			b, dev := goBackend(t, Config{Force: true, kernel: kernel}, 256<<20)
			checkCases(t, b, randomCases(uint64(kernel)+1, 12, smallSizes))
			if dev.launches[kernelIm2col] == 0 || dev.launches[kernelDepthwise] == 0 {
				t.Errorf("launches %v: some kernel never ran", dev.launches)
			}
		})
	}
}

func TestVectorsGoDevice(t *testing.T) {
	b, _ := goBackend(t, Config{Force: true}, 256<<20)
	checkCases(t, b, vectorCases(t))
}

// Conv2D larger than one im2col chunk runs in chunks of rows.
func TestConvChunksGoDevice(t *testing.T) {
	b, _ := goBackend(t, Config{Force: true}, 256<<20)
	var cases []diffCase
	for _, c := range randomCases(7, 10, smallSizes) {
		if c.model.Nodes[0].Op == inference.OpConv2D {
			cases = append(cases, c)
		}
	}
	for _, chunk := range []int{1, 200, 5000} {
		b.lock.do(func() error { b.ex.chunkBytes = chunk; return nil })
		checkCases(t, b, cases)
	}
}

// A model whose dense nodes are all below the threshold never touches the
// device; one above it does.
func TestThreshold(t *testing.T) {
	b, dev := goBackend(t, Config{MinNodeMACs: 1000}, 64<<20)
	var small, large diffCase
	for _, c := range randomCases(3, 20, smallSizes) {
		macs := c.model.Cost().MACs
		if macs < 1000 && small.model == nil {
			small = c
		}
		if macs >= 1000 && large.model == nil {
			large = c
		}
	}
	checkCases(t, b, []diffCase{small})
	if n := len(dev.launches); n != 0 {
		t.Fatalf("a model below the threshold launched kernels: %v", dev.launches)
	}
	if _, ok := mustPrepare(t, b, small.model).(*reference.Program); !ok {
		t.Errorf("a model below the threshold is not the CPU backend's program")
	}
	checkCases(t, b, []diffCase{large})
	if len(dev.launches) == 0 {
		t.Fatalf("a model above the threshold launched nothing")
	}
}

func mustPrepare(t *testing.T, b *Backend, m *inference.Model) inference.Program {
	t.Helper()
	p, err := b.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// logRecorder collects log lines.
type logRecorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logRecorder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Out of memory, and driver errors at every step of a node, give the
// reference's bytes; an out-of-memory leaves the device in use, any other
// error takes it out of use, and both are logged.
func TestFaultsFallBackToCPU(t *testing.T) {
	cases := randomCases(11, 3, smallSizes)
	for _, op := range []string{"alloc", "upload", "download", "ig_gemm_imma", "ig_gemm_dp4a", "ig_im2col", "ig_depthwise"} {
		for _, oom := range []bool{true, false} {
			if oom && op != "alloc" {
				continue
			}
			t.Run(fmt.Sprintf("%s/oom=%v", op, oom), func(t *testing.T) {
				var logs logRecorder
				cfg := Config{Force: true, Log: slog.New(slog.NewTextHandler(&logs, nil))}
				switch op {
				case "ig_gemm_imma":
					cfg.kernel = kernelIMMA
				case "ig_gemm_dp4a":
					cfg.kernel = kernelDP4A
				}
				b, dev := goBackend(t, cfg, 64<<20)
				var failed atomic.Int64
				dev.fail = func(got string) error {
					if got != op {
						return nil
					}
					failed.Add(1)
					if oom {
						return errOutOfMemory
					}
					return errors.New("CUDA_ERROR_LAUNCH_FAILED (injected)")
				}
				checkCasesAllowingFaults(t, b, cases)
				if failed.Load() == 0 {
					t.Fatalf("no %s happened", op)
				}
				if b.Faults() == 0 || !strings.Contains(logs.String(), "cuda:") {
					t.Errorf("faults %d, log %q: the fallback was not counted and logged", b.Faults(), logs.String())
				}
				if got := b.disabled.Load(); got == oom {
					t.Errorf("disabled = %v after oom=%v", got, oom)
				}
			})
		}
	}
}

// checkCasesAllowingFaults is checkCases for backends whose device fails on
// purpose: the bytes must still be the reference's.
func checkCasesAllowingFaults(t *testing.T, b *Backend, cases []diffCase) {
	t.Helper()
	for _, err := range runParallel(cases, func(c diffCase) error { return compareCase(b, c) }) {
		t.Error(err)
	}
}

// The weight cache holds what fits its budget and evicts the least
// recently used model; a model larger than the budget runs on the CPU.
func TestWeightCacheEviction(t *testing.T) {
	cases := randomCases(5, 6, smallSizes)
	var largest int64
	for _, c := range cases {
		var sum int64
		for i := range c.model.Nodes {
			if p := planNode(c.model, i); p != nil {
				sum += int64(len(p.blob))
			}
		}
		largest = max(largest, sum)
	}
	budget := largest + 1
	b, dev := goBackend(t, Config{Force: true, WeightBudget: budget}, 64<<20)
	for round := 0; round < 2; round++ {
		checkCases(t, b, cases)
	}
	var used int64
	b.lock.do(func() error { used = b.ex.weights.used; return nil })
	if used > budget {
		t.Errorf("weights in use %d exceed the budget %d", used, budget)
	}
	// What the device holds is the cache plus the scratch buffer.
	var scratch int
	b.lock.do(func() error { scratch = b.ex.scratchSize; return nil })
	if got := dev.inUse(); int64(got) != used+int64(scratch) {
		t.Errorf("device holds %d bytes; cache %d + scratch %d", got, used, scratch)
	}

	small, _ := goBackend(t, Config{Force: true, WeightBudget: 1}, 64<<20)
	prog := mustPrepare(t, small, cases[0].model)
	if _, ok := prog.(*reference.Program); !ok {
		t.Fatalf("a model over the weight budget should run on the CPU")
	}
}

// Out of device memory with models cached: the cache gives way.
func TestOutOfMemoryEvicts(t *testing.T) {
	cases := randomCases(9, 8, smallSizes)
	b, _ := goBackend(t, Config{Force: true}, 1<<20+64<<10)
	checkCasesAllowingFaults(t, b, cases)
	if b.disabled.Load() {
		t.Fatalf("out of memory disabled the device")
	}
}

// Many goroutines share one backend and one device.
func TestConcurrentRuns(t *testing.T) {
	b, _ := goBackend(t, Config{Force: true}, 128<<20)
	runConcurrently(t, b, randomCases(13, 4, smallSizes), 8)
}

// runConcurrently runs the cases from g goroutines at once, each in its own
// order, and compares every output with the reference.
func runConcurrently(t *testing.T, b *Backend, cases []diffCase, g int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, g)
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range cases {
				c := cases[(i+w)%len(cases)]
				prog, err := b.Prepare(c.model)
				if err != nil {
					errs <- err
					return
				}
				ref, _ := reference.Backend{}.Prepare(c.model)
				in := c.inputs[w%len(c.inputs)]
				got, err := prog.Run(in)
				want, _ := ref.Run(in)
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("%s: got %x (%v), want %x", c.name, clip(got), err, clip(want))
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A backend whose device does not open is an error (runtime logs it and
// goes on without the GPU).
func TestOpenFailure(t *testing.T) {
	_, err := newBackend(Config{}, func() (device, DeviceInfo, error) {
		return nil, DeviceInfo{}, errors.New("no CUDA-capable device is detected")
	})
	if err == nil {
		t.Fatal("no error")
	}
}

// After Close, programs keep giving the reference's bytes, on the CPU.
func TestClosedBackend(t *testing.T) {
	b, _ := goBackend(t, Config{Force: true}, 64<<20)
	cases := randomCases(17, 1, smallSizes)
	progs := make([]inference.Program, len(cases))
	for i, c := range cases {
		progs[i] = mustPrepare(t, b, c.model)
	}
	b.Close()
	for i, c := range cases {
		ref, _ := reference.Backend{}.Prepare(c.model)
		want, _ := ref.Run(c.inputs[0])
		got, err := progs[i].Run(c.inputs[0])
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s after Close: %x (%v)", c.name, clip(got), err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, on, err := ConfigFromEnv(env())
	if err != nil || !on || cfg.Force || cfg.MinNodeMACs != 0 {
		t.Errorf("empty env: %+v %v %v", cfg, on, err)
	}
	cfg, on, err = ConfigFromEnv(env(EnvMinNodeMACs, "0", EnvWeightBudget, "1048576", EnvDevice, "1"))
	if err != nil || !on || !cfg.Force || cfg.WeightBudget != 1<<20 || cfg.Device != 1 {
		t.Errorf("forced: %+v %v %v", cfg, on, err)
	}
	if _, on, err = ConfigFromEnv(env(EnvDisable, "off")); on || err != nil {
		t.Errorf("off: %v %v", on, err)
	}
	for _, bad := range [][]string{{EnvDisable, "maybe"}, {EnvMinNodeMACs, "-1"}, {EnvWeightBudget, "0"}, {EnvDevice, "x"}} {
		if _, _, err := ConfigFromEnv(env(bad...)); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestEdgesGoDevice(t *testing.T) {
	for _, kernel := range []kernelID{kernelIMMA, kernelDP4A} {
		b, _ := goBackend(t, Config{Force: true, kernel: kernel}, 256<<20)
		checkCases(t, b, append(edgeCases(1, 1<<30), maxKCase(2), maxKCase(17)))
	}
}

// chainModel is FullyConnected layers of the given widths over one row.
func chainModel(t *testing.T, widths ...int) *inference.Model {
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, Shape: []int{1, widths[0]}})
	for i := 1; i < len(widths); i++ {
		k, n := widths[i-1], widths[i]
		w := make([]int64, n*k)
		for j := range w {
			w[j] = int64(j%255 - 127)
		}
		ones := make([]int64, n)
		for c := range ones {
			ones[c] = 1
		}
		x = b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127},
			inference.Spec{DType: inference.Int8, Shape: []int{1, n}},
			x, b.Const(inference.Int8, 0, []int{n, k}, w), b.Const(inference.Int32, 0, []int{n}, make([]int64, n)),
			b.Const(inference.Int32, 0, []int{n}, ones), b.Const(inference.Int8, 0, []int{n}, ones))
	}
	b.Output(x)
	m, _, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// In a model with a node above the threshold, the other dense nodes follow
// it to the GPU down to referenceMinNodeMACs when the CPU side is the
// reference, and stay on the CPU when a CPU node compiler is plugged in.
func TestNodeRouting(t *testing.T) {
	// Node MACs: 2048·1024 = 2^21, 1024·32 = 2^15, 32·8 = 2^8.
	m := chainModel(t, 2048, 1024, 32, 8)
	gpuNodes := func(cfg Config) int {
		b, dev := goBackend(t, cfg, 64<<20)
		prog := mustPrepare(t, b, m)
		if _, err := prog.Run(make([]byte, m.InputBytes())); err != nil {
			t.Fatal(err)
		}
		return dev.launches[kernelDP4A] + dev.launches[kernelIMMA]
	}
	if n := gpuNodes(Config{MinNodeMACs: 1 << 21}); n != 2 {
		t.Errorf("reference CPU side: %d nodes on the GPU, want 2 (2^21 and 2^15 MACs)", n)
	}
	if n := gpuNodes(Config{MinNodeMACs: 1 << 21, CompileNode: reference.Compile}); n != 1 {
		t.Errorf("CPU node compiler: %d nodes on the GPU, want 1", n)
	}
	if n := gpuNodes(Config{MinNodeMACs: 1 << 22}); n != 0 {
		t.Errorf("all below the threshold: %d nodes on the GPU", n)
	}
	if n := gpuNodes(Config{Force: true}); n != 3 {
		t.Errorf("forced: %d nodes on the GPU, want 3", n)
	}
}
