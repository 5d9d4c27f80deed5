package soak

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
	"github.com/infergeth/infergeth/inference/modeltext"
	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/vectors/composed"
)

var (
	duration = flag.Duration("soak.duration", 3*time.Second, "how long to keep drawing cases (at least one pass over every seed model is made)")
	verbose  = flag.Bool("soak.v", false, "print each seed model's time")
	huge     = flag.Bool("soak.huge", false, "also draw from the limit-sized op vectors (minutes per case on the reference backend)")
	seedFlag = flag.Uint64("soak.seed", 0, "the generator's seed; 0 draws one from the clock (printed, so a failure reproduces)")
)

// backend is one engine configuration a case runs on.
type backend struct {
	label string
	b     inference.Backend
}

// backends is every engine this machine runs: the reference, the CPU
// backend on each kernel path the CPU supports, and whatever else the
// runtime offers here (the GPU in a cuda build with a device).
func backends(t *testing.T) []backend {
	var out []backend
	for _, b := range inferenceruntime.Backends() {
		if b.Name() != "cpu" {
			out = append(out, backend{b.Name(), b})
		}
	}
	for _, p := range cpu.Supported() {
		b, err := cpu.NewPath(p)
		if err != nil {
			t.Fatalf("cpu path %s: %v", p, err)
		}
		out = append(out, backend{"cpu/" + p.String(), b})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].label == "reference" && out[j].label != "reference" })
	if out[0].label != "reference" {
		t.Fatal("no reference backend")
	}
	return out
}

// TestSoak draws random valid models and random and adversarial inputs for
// the configured time and runs each on every backend at GOMAXPROCS 1 and
// N: every output must equal the reference's, byte for byte.
//
//	go test ./tests/soak -run TestSoak -v -soak.duration 10m [-soak.seed S]
func TestSoak(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	// Printed before anything can fail, so the line is there to copy.
	fmt.Printf("soak: seed %d (rerun: go test ./tests/soak -run TestSoak -v -soak.seed %d -soak.duration %s)\n", seed, seed, *duration)
	seeds := seedModels(t)
	bs := backends(t)
	labels := make([]string, len(bs))
	for i, b := range bs {
		labels[i] = b.label
	}
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	gomaxprocs := []int{1, max(procs, 2)}

	r := rand.New(rand.NewPCG(seed, 0x50a6))
	var (
		cases, runs, mismatches, refused int
		ops                              = map[inference.Op]int{}
		dtypes                           = map[inference.DType]int{}
	)
	deadline := time.Now().Add(*duration)
	for pass := 0; pass == 0 || time.Now().Before(deadline); pass++ {
		for _, s := range seeds {
			start := time.Now()
			if pass > 0 && !time.Now().Before(deadline) {
				break
			}
			m, raw, ok := randomize(r, s.model, pass == 0)
			if !ok {
				refused++
				continue
			}
			for _, n := range m.Nodes {
				ops[n.Op]++
			}
			for _, tn := range m.Tensors {
				dtypes[tn.DType]++
			}
			progs, err := prepare(bs, m)
			if err != nil {
				mismatches++
				t.Errorf("seed %d, %s (pass %d), model %x: %v", seed, s.name, pass, inference.ID(raw), err)
				continue
			}
			for _, in := range inputs(r, m) {
				cases++
				var want []byte
				var wantErr error
				for _, procs := range gomaxprocs {
					runtime.GOMAXPROCS(procs)
					for k, prog := range progs {
						runs++
						out, err := prog.Run(in)
						if k == 0 && procs == gomaxprocs[0] {
							want, wantErr = out, err
							continue
						}
						if !bytes.Equal(out, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
							mismatches++
							t.Errorf("seed %d, %s (pass %d), model %x, input %x: %s at GOMAXPROCS %d gives %x (%v), reference %x (%v)",
								seed, s.name, pass, inference.ID(raw), in, bs[k].label, procs, out, err, want, wantErr)
						}
					}
				}
				runtime.GOMAXPROCS(gomaxprocs[1])
			}
			if *verbose {
				fmt.Printf("soak: %s pass %d: %s\n", s.name, pass, time.Since(start))
			}
		}
	}
	var opNames []string
	for op := inference.OpFullyConnected; op <= inference.OpRMSNorm; op++ {
		if ops[op] == 0 {
			t.Errorf("op %s never drawn", op)
		}
		opNames = append(opNames, fmt.Sprintf("%s:%d", op, ops[op]))
	}
	for _, dt := range []inference.DType{inference.Int8, inference.Int16, inference.Int32} {
		if dtypes[dt] == 0 {
			t.Errorf("dtype %s never drawn", dt)
		}
	}
	fmt.Printf("soak: seed %d, %s: %d cases (%d runs over %s at GOMAXPROCS %v) from %d seed models, %d random variants refused by validation, %d mismatches\n",
		seed, *duration, cases, runs, strings.Join(labels, ", "), gomaxprocs, len(seeds), refused, mismatches)
	fmt.Printf("soak: nodes drawn per op: %s\n", strings.Join(opNames, " "))
}

// prepare readies m on every backend once; a case then runs each program
// at each GOMAXPROCS (a node's cache also reuses prepared programs).
func prepare(bs []backend, m *inference.Model) ([]inference.Program, error) {
	progs := make([]inference.Program, len(bs))
	for i, b := range bs {
		p, err := b.b.Prepare(m)
		if err != nil {
			return nil, fmt.Errorf("%s: prepare: %w", b.label, err)
		}
		progs[i] = p
	}
	return progs, nil
}

type seedModel struct {
	name  string
	model *inference.Model
}

// maxSeedWork bounds the MACs plus element ops of a seed model without
// -soak.huge: a few limit-sized vectors (tests/vectors/ops/limits.txt) take
// the reference backend minutes per input; TestOps runs them once.
const maxSeedWork = 1 << 22

// seedModels are the structures the soak randomizes: every valid model of
// the op vectors (tests/vectors/ops, which between them use every op and
// dtype of op set v1) and the composed models (MLP, CNN, transformer).
func seedModels(t *testing.T) []seedModel {
	files, err := filepath.Glob("../vectors/ops/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no op vectors: %v", err)
	}
	var out []seedModel
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, block := range modelBlocks(string(text)) {
			p, err := modeltext.Parse(block)
			if err != nil {
				continue // the vectors' refusal cases
			}
			if c := p.Model.Cost(); !*huge && c.MACs+c.ElementOps > maxSeedWork {
				continue // the limit-sized vectors: minutes each on the reference
			}
			out = append(out, seedModel{fmt.Sprintf("%s#%d", filepath.Base(f), i), p.Model})
		}
	}
	for _, v := range composed.All() {
		m, err := inference.Decode(v.Model)
		if err != nil {
			t.Fatalf("composed %s: %v", v.Name, err)
		}
		out = append(out, seedModel{v.Name, m})
	}
	return out
}

// modelBlocks returns the input of each `model` command of a datadriven file.
func modelBlocks(text string) []string {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "model" {
			continue
		}
		var sb strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "----"; i++ {
			sb.WriteString(lines[i])
			sb.WriteByte('\n')
		}
		out = append(out, sb.String())
	}
	return out
}

// randomize returns a copy of m with random constants, zero points and
// attributes, re-encoded and decoded (so validated and canonical). keep
// returns m itself, so the first pass runs every seed as written. A
// variant validation refuses reports ok false.
func randomize(r *rand.Rand, m *inference.Model, keep bool) (*inference.Model, []byte, bool) {
	c := clone(m)
	if !keep {
		for i := range c.Tensors {
			tn := &c.Tensors[i]
			if tn.Kind == inference.Constant && r.IntN(4) != 0 {
				randomValues(r, tn)
			}
			if tn.DType != inference.Int32 && r.IntN(3) == 0 {
				tn.ZeroPoint = int32(between(r, tn.DType.Min(), tn.DType.Max()))
			}
		}
		for i := range c.Nodes {
			if r.IntN(3) == 0 {
				perturbAttrs(r, c.Nodes[i].Attrs)
			}
		}
	}
	raw, err := inference.Encode(c)
	if err != nil {
		return nil, nil, false
	}
	dm, err := inference.Decode(raw)
	if err != nil {
		return nil, nil, false
	}
	return dm, raw, true
}

func clone(m *inference.Model) *inference.Model {
	raw, err := inference.Encode(m)
	if err != nil {
		panic(err) // a decoded model always encodes
	}
	c, err := inference.Decode(raw)
	if err != nil {
		panic(err)
	}
	return c
}

// randomValues fills a constant: uniform in its dtype (int8, int16) or in a
// range that keeps int32 biases plausible, with runs of the extremes.
func randomValues(r *rand.Rand, tn *inference.Tensor) {
	n := tn.Elements()
	lo, hi := tn.DType.Min(), tn.DType.Max()
	if tn.DType == inference.Int32 {
		lo, hi = -1<<16, 1<<16
	}
	mode := r.IntN(5)
	for i := range n {
		var v int64
		switch mode {
		case 0:
			v = lo
		case 1:
			v = hi
		default:
			v = between(r, lo, hi)
		}
		store(tn.Data, tn.DType, i, v)
	}
}

// perturbAttrs moves integer attributes a little, or to an extreme; most
// attributes have narrow valid ranges, and validation refuses the rest.
func perturbAttrs(r *rand.Rand, a inference.Attrs) {
	if a == nil {
		return
	}
	v := reflectElem(a)
	if !v.IsValid() {
		return
	}
	walkInts(v, func(get func() int64, set func(int64)) {
		switch r.IntN(6) {
		case 0:
			set(get() + 1)
		case 1:
			set(get() - 1)
		case 2:
			set(get() * 2)
		case 3:
			set(int64(r.IntN(32)))
		}
	})
}

func between(r *rand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

func store(b []byte, dt inference.DType, i int, v int64) {
	switch dt {
	case inference.Int8:
		b[i] = byte(v)
	case inference.Int16:
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	case inference.Int32:
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
}

// inputs are the inputs a model is run on: all minimum (-128 for int8), all
// maximum (127), all zero point, alternating extremes, values one step
// either side of the zero point (where requantization rounds ties), and
// two uniform draws.
func inputs(r *rand.Rand, m *inference.Model) [][]byte {
	fills := []func(tn *inference.Tensor, i int) int64{
		func(tn *inference.Tensor, i int) int64 { return tn.DType.Min() },
		func(tn *inference.Tensor, i int) int64 { return tn.DType.Max() },
		func(tn *inference.Tensor, i int) int64 { return int64(tn.ZeroPoint) },
		func(tn *inference.Tensor, i int) int64 {
			if i%2 == 0 {
				return tn.DType.Min()
			}
			return tn.DType.Max()
		},
		func(tn *inference.Tensor, i int) int64 {
			return min(max(int64(tn.ZeroPoint)+int64(i%3)-1, tn.DType.Min()), tn.DType.Max())
		},
		func(tn *inference.Tensor, i int) int64 { return between(r, tn.DType.Min(), tn.DType.Max()) },
		func(tn *inference.Tensor, i int) int64 { return between(r, tn.DType.Min(), tn.DType.Max()) },
		// Gather indices and token ids must be small to be in range.
		func(tn *inference.Tensor, i int) int64 { return int64(r.IntN(4)) },
	}
	out := make([][]byte, 0, len(fills))
	for _, fill := range fills {
		in := make([]byte, 0, m.InputBytes())
		for _, ti := range m.Inputs {
			tn := &m.Tensors[ti]
			b := make([]byte, tn.Bytes())
			for i := range tn.Elements() {
				store(b, tn.DType, i, fill(tn, i))
			}
			in = append(in, b...)
		}
		out = append(out, in)
	}
	return out
}

// reflectElem is the struct an Attrs pointer points to.
func reflectElem(a inference.Attrs) reflect.Value {
	v := reflect.ValueOf(a)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem()
}

// walkInts calls f for each integer field of v, embedded structs included.
func walkInts(v reflect.Value, f func(get func() int64, set func(int64))) {
	for i := range v.NumField() {
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Struct:
			walkInts(fv, f)
		case reflect.Int32, reflect.Int64:
			f(fv.Int, func(x int64) {
				if !fv.OverflowInt(x) {
					fv.SetInt(x)
				}
			})
		case reflect.Uint32, reflect.Uint64:
			f(func() int64 { return int64(fv.Uint()) }, func(x int64) {
				if x >= 0 && !fv.OverflowUint(uint64(x)) {
					fv.SetUint(uint64(x))
				}
			})
		}
	}
}
