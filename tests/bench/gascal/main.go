// Command gascal calibrates inference gas against ecrecover: for model
// shapes chosen to be as slow per gas as each op allows (the dense ops,
// every elementwise op at the largest size the limits allow and at tiny
// sizes, a graph of thousands of tiny nodes, a first call that must load a
// large model, and registration's validate), it measures nanoseconds per gas
// through the inference precompile in one process, side by side with the
// ecrecover precompile (3000 gas), and prints a markdown table. The worst
// shape must not exceed ecrecover's ns/gas (INFERENCE.md, "Cost and gas").
//
// Every shape runs on every path a node can take (-backend all, the
// default): each backend of this binary, and the cpu backend once per
// kernel path the CPU supports (AVX-512 VNNI, AVX2). The reference code,
// the last resort after faults and on CPUs below the validator minimum, is
// measured and reported but is outside the calibration (docs/spec.md,
// section 9). -rounds repeats the measurements interleaved, for noisy
// machines, and reports medians.
//
//	go run ./tests/bench/gascal [-budget 300ms] [-rounds 3] [-backend all|auto|cpu|reference] [-path vnni,avx2]
//	go run ./tests/bench/gascal -worst-block   # blocks of the worst (worstblock.go)
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/big"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

func main() {
	budget := flag.Duration("budget", 300*time.Millisecond, "time spent measuring each shape on each path, per round")
	backendName := flag.String("backend", "all", "backend to calibrate: all (every backend and cpu kernel path this machine has), auto, cpu, reference, cuda")
	pathNames := flag.String("path", "", "with -backend cpu: the kernel paths to measure, comma-separated (vnni, avx2, generic); default: every supported one")
	rounds := flag.Int("rounds", 1, "measure every shape on every path this many times, interleaved; each ratio is the median over rounds")
	only := flag.String("only", "", "measure only shapes whose name contains this")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measurements to this file")
	worstBlock := flag.Bool("worst-block", false, "measure blocks of the worst instead (worstblock.go)")
	gasLimit := flag.Uint64("gas-limit", params.DevnetGasLimit, "the block gas limit for -worst-block")
	flag.Parse()
	if *worstBlock {
		runWorstBlocks(*gasLimit)
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	engines, err := selectEngines(*backendName, *pathNames)
	if err != nil {
		fail(err)
	}
	b := newBench(engines)

	type shapeRun struct {
		s     shape
		m     *inference.Model
		id    common.Hash
		input []byte
		gas   uint64
		ratio [][]float64 // [engine][round]
		nsGas [][]float64
	}
	var runs []*shapeRun
	for _, s := range shapes() {
		if *only != "" && !contains(s.name, *only) {
			continue
		}
		m, raw, err := s.build.Build()
		if err != nil {
			fail(fmt.Errorf("%s: %v", s.name, err))
		}
		r := &shapeRun{s: s, m: m, id: b.register(raw), input: randomInput(m)}
		r.ratio, r.nsGas = make([][]float64, len(engines)), make([][]float64, len(engines))
		runs = append(runs, r)
	}
	ecIn := ecrecoverInput()
	ecrecover := func() (uint64, error) {
		return b.call(engines[0], common.BytesToAddress([]byte{1}), ecIn)
	}
	var ecPerGas []float64
	for round := 0; round < *rounds; round++ {
		for _, r := range runs {
			for i, e := range engines {
				fmt.Fprintf(os.Stderr, "gascal: round %d/%d %s on %s\n", round+1, *rounds, r.s.name, e.name)
				// Garbage left by the previous shape is collected here, not
				// on this shape's or ecrecover's time.
				goruntime.GC()
				m, ec := b.run(e, r.s.mode, r.id, r.input, *budget, ecrecover)
				r.gas = m.gas
				r.ratio[i] = append(r.ratio[i], m.perGas()/ec.perGas())
				r.nsGas[i] = append(r.nsGas[i], m.perGas())
				ecPerGas = append(ecPerGas, ec.perGas())
			}
		}
	}
	worstOf := func(r *shapeRun) float64 {
		w := 0.0
		for i, e := range engines {
			if e.calibrated {
				w = max(w, median(r.ratio[i]))
			}
		}
		return w
	}
	sort.SliceStable(runs, func(i, j int) bool { return worstOf(runs[i]) > worstOf(runs[j]) })

	fmt.Printf("Each shape is called through the inference precompile on every path a node can take, in one process, each call followed by ecrecover calls (3000 gas each) for as long as it took, so that both figures of a ratio come from the same moments: %d round(s), interleaved, %v of shape calls per shape and path per round; each figure is the median over rounds. ns/gas is the time a node spends per unit of gas charged; the target is that no shape on a validator path exceeds ecrecover's (÷ ecrecover ≤ 1.00). ecrecover: %.2f ns/gas (median).\n\n",
		*rounds, *budget, median(ecPerGas))
	head := "| shape | what it stresses | gas per call |"
	rule := "| --- | --- | ---: |"
	for _, e := range engines {
		head += fmt.Sprintf(" %s ns/gas | %s ÷ ecrecover |", e.name, e.name)
		rule += " ---: | ---: |"
	}
	fmt.Println(head)
	fmt.Println(rule)
	worst := make([]float64, len(engines))
	worstShape := make([]string, len(engines))
	for _, r := range runs {
		line := fmt.Sprintf("| %s | %s | %d |", r.s.name, r.s.what, r.gas)
		for i := range engines {
			ratio := median(r.ratio[i])
			if ratio > worst[i] {
				worst[i], worstShape[i] = ratio, r.s.name
			}
			line += fmt.Sprintf(" %.2f | %.2f |", median(r.nsGas[i]), ratio)
		}
		fmt.Println(line)
	}
	fmt.Println()
	calibrated := 0.0
	for i, e := range engines {
		role := "a validator path: must be ≤ 1.00"
		if !e.calibrated {
			role = "the last-resort fallback, outside the calibration (docs/spec.md, section 9)"
		}
		verdict := ""
		if e.calibrated {
			calibrated = max(calibrated, worst[i])
			verdict = " (met)"
			if worst[i] > 1 {
				verdict = " (MISSED)"
			}
		}
		fmt.Printf("- `%s` (%s): worst %.2f× ecrecover's ns/gas%s, %s.\n", e.name, role, worst[i], verdict, worstShape[i])
	}
	fmt.Printf("\ngascal_worst_ratio=%.3f\n", calibrated)
}

// median of vs (not empty); it reorders vs.
func median(vs []float64) float64 {
	sort.Float64s(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// engine is one path a node can take: a backend, and for the cpu backend
// one kernel path.
type engine struct {
	name    string
	backend inference.Backend
	// calibrated: a validator may run on it, so gas must hold on it. The
	// reference code (cpu.PathGeneric included) is the last resort.
	calibrated bool
	pre        *vm.Inference
	factory    *vm.Factory
}

// selectEngines lists the paths to measure: with "all", every backend of
// this binary, the cpu backend once per kernel path the CPU supports
// (PathGeneric is the reference code, measured as "reference").
func selectEngines(backend, paths string) ([]*engine, error) {
	var out []*engine
	add := func(b inference.Backend) {
		name, calibrated := b.Name(), b.Name() != "reference"
		if cb, ok := b.(*cpu.Backend); ok {
			name = "cpu/" + cb.Path().String()
			calibrated = cb.Path() != cpu.PathGeneric
		}
		out = append(out, &engine{name: name, backend: b, calibrated: calibrated})
	}
	addCPU := func() error {
		if paths == "" {
			for _, p := range cpu.Supported() {
				if p == cpu.PathGeneric && backend == "all" {
					continue // the reference code: measured as "reference"
				}
				b, _ := cpu.NewPath(p)
				add(b)
			}
			return nil
		}
		for _, name := range strings.Split(paths, ",") {
			p, err := cpu.ParsePath(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			b, err := cpu.NewPath(p)
			if err != nil {
				return err
			}
			add(b)
		}
		return nil
	}
	if backend == "all" {
		for _, b := range runtime.Backends() {
			if _, ok := b.(*cpu.Backend); ok {
				if err := addCPU(); err != nil {
					return nil, err
				}
				continue
			}
			add(b)
		}
		return out, nil
	}
	b, err := runtime.Select(backend)
	if err != nil {
		return nil, err
	}
	if _, ok := b.(*cpu.Backend); ok && paths != "" {
		return out, addCPU()
	}
	add(b)
	return out, nil
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gascal:", err)
	os.Exit(1)
}

type mode int

const (
	warm     mode = iota // the model is in the node's cache
	cold                 // every call loads and prepares the model from state
	validate             // registration: validate(chunks)
)

type shape struct {
	name, what string
	mode       mode
	build      *inference.Builder
}

type measurement struct {
	calls int
	gas   uint64
	total time.Duration
}

func (m measurement) perCall() float64 { return float64(m.total.Nanoseconds()) / float64(m.calls) }
func (m measurement) perGas() float64  { return m.perCall() / float64(m.gas) }

// bench is an EVM over an in-memory state holding the models, with one
// inference precompile (and model cache) per engine.
type bench struct {
	state   *state.StateDB
	engines []*engine
	chunks  map[common.Hash][]common.Address
}

var caller = common.HexToAddress("0x00000000000000000000000000000000000c0ffe")

func newBench(engines []*engine) *bench {
	db := state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil)
	st, err := state.New(common.Hash{}, db)
	if err != nil {
		fail(err)
	}
	st.AddBalance(caller, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	b := &bench{state: st, engines: engines, chunks: map[common.Hash][]common.Address{}}
	for _, e := range engines {
		b.resetCache(e)
	}
	return b
}

// resetCache gives e an empty model cache.
func (b *bench) resetCache(e *engine) {
	pre, err := vm.NewInference(params.DevnetConfig(params.DevnetChainID), vm.InferenceOptions{
		Cache: runtime.NewCache(e.backend, 1<<30, nil),
	})
	if err != nil {
		fail(err)
	}
	e.pre, e.factory = pre, vm.NewFactory(pre)
}

// run measures one shape on e. A warm shape's model stays in e's cache
// between rounds; once measured, it is dropped so that the caches of all
// shapes never sit in memory at once.
func (b *bench) run(e *engine, mode mode, id common.Hash, input []byte, budget time.Duration, anchor func() (uint64, error)) (measurement, measurement) {
	defer b.resetCache(e)
	switch mode {
	case cold:
		data := inferCalldata(id, input)
		return b.measure(budget, func() (uint64, error) {
			b.resetCache(e)
			return b.call(e, params.InferencePrecompileAddress, data)
		}, anchor)
	case validate:
		data := validateCalldata(b.chunks[id])
		return b.measure(budget, func() (uint64, error) { return b.call(e, params.InferencePrecompileAddress, data) }, anchor)
	}
	data := inferCalldata(id, input)
	return b.measure(budget, func() (uint64, error) { return b.call(e, params.InferencePrecompileAddress, data) }, anchor)
}

func (b *bench) register(raw []byte) common.Hash {
	alloc, storage, err := vm.GenesisModel(raw)
	if err != nil {
		fail(err)
	}
	id := common.Hash(inference.ID(raw))
	for addr, acct := range alloc {
		b.state.SetCode(addr, acct.Code, tracing.CodeChangeUnspecified)
	}
	for k, v := range storage {
		b.state.SetState(params.ModelRegistryAddress, k, v)
	}
	b.chunks[id] = orderedChunks(raw) // validate() takes them in order
	return id
}

func orderedChunks(raw []byte) []common.Address {
	var out []common.Address
	for off := 0; off < len(raw); off += vm.MaxDataPayload {
		payload := raw[off:min(off+vm.MaxDataPayload, len(raw))]
		out = append(out, vm.DataContractAddress(crypto.Keccak256Hash(payload), payload))
	}
	return out
}

// call runs data against addr and returns the gas used.
func (b *bench) call(e *engine, addr common.Address, data []byte) (uint64, error) {
	const gas = 100_000_000
	ctx := gethvm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer, BlockNumber: big.NewInt(1), Time: 1_700_000_000,
		GasLimit: gas, BaseFee: big.NewInt(0), Random: &common.Hash{}, Difficulty: big.NewInt(0),
	}
	evm := e.factory.NewEVM(ctx, b.state, params.DevnetConfig(params.DevnetChainID).Ethereum, gethvm.Config{})
	_, left, err := evm.Call(caller, addr, data, gethvm.NewGasBudget(gas, 0), new(uint256.Int))
	return gas - left.ExecutionGas, err
}

// measure calls f repeatedly until its calls have taken about budget (at
// least 3 calls) after one warm-up call, and after each call runs anchor
// for about as long as the call took: a machine that slows down (other
// processes, frequency changes) slows both sides of the ratio alike.
func (b *bench) measure(budget time.Duration, f, anchor func() (uint64, error)) (m, a measurement) {
	gas, err := f()
	if err != nil {
		fail(fmt.Errorf("warm-up: %v", err))
	}
	agas, err := anchor()
	if err != nil {
		fail(fmt.Errorf("anchor: %v", err))
	}
	m, a = measurement{gas: gas}, measurement{gas: agas}
	for m.calls < 3 || m.total < budget {
		start := time.Now()
		if _, err := f(); err != nil {
			fail(err)
		}
		took := time.Since(start)
		m.total += took
		m.calls++
		start = time.Now()
		for {
			if _, err := anchor(); err != nil {
				fail(err)
			}
			a.calls++
			if time.Since(start) >= took {
				break
			}
		}
		a.total += time.Since(start)
	}
	return m, a
}

func word(v uint64) []byte {
	var w [32]byte
	binary.BigEndian.PutUint64(w[24:], v)
	return w[:]
}

func inferCalldata(id common.Hash, input []byte) []byte {
	out := append(crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4:4], id[:]...)
	out = append(append(out, word(64)...), word(uint64(len(input)))...)
	out = append(out, input...)
	return append(out, make([]byte, (32-len(input)%32)%32)...)
}

func validateCalldata(chunks []common.Address) []byte {
	out := append(crypto.Keccak256([]byte("validate(address[])"))[:4:4], word(32)...)
	out = append(out, word(uint64(len(chunks)))...)
	for _, c := range chunks {
		out = append(out, common.LeftPadBytes(c[:], 32)...)
	}
	return out
}

// ecrecoverInput is a valid (hash, v, r, s).
func ecrecoverInput() []byte {
	key, _ := crypto.HexToECDSA("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
	hash := crypto.Keccak256([]byte("calibration"))
	sig, err := crypto.Sign(hash, key)
	if err != nil {
		fail(err)
	}
	in := append([]byte(nil), hash...)
	in = append(in, word(uint64(sig[64])+27)...)
	return append(in, sig[:64]...)
}

func randomInput(m *inference.Model) []byte {
	in := make([]byte, m.InputBytes())
	s := uint64(0x9E3779B97F4A7C15)
	for i := range in {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		in[i] = byte(s)
	}
	// Gather indices must be in range: the shapes that gather use int32
	// index inputs and keep them small.
	for _, t := range m.Inputs {
		if m.Tensors[t].DType == inference.Int32 {
			off := 0
			for _, u := range m.Inputs {
				if u == t {
					break
				}
				off += m.Tensors[u].Bytes()
			}
			for i := 0; i < m.Tensors[t].Elements(); i++ {
				binary.LittleEndian.PutUint32(in[off+4*i:], uint32(i%7))
			}
		}
	}
	return in
}
