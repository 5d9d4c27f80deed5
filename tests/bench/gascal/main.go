// Command gascal calibrates inference gas against ecrecover: for model
// shapes chosen to be as slow per gas as each op allows (the dense ops,
// every elementwise op at the largest size the limits allow and at tiny
// sizes, a graph of thousands of tiny nodes, a first call that must load a
// large model, and registration's validate), it measures nanoseconds per gas
// through the inference precompile in one process, side by side with the
// ecrecover precompile (3000 gas), and prints a markdown table. The worst
// shape must not exceed ecrecover's ns/gas (INFERENCE.md, "Cost and gas").
//
//	go run ./tests/bench/gascal [-budget 300ms] [-backend auto]
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/big"
	"os"
	"sort"
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
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

func main() {
	budget := flag.Duration("budget", 300*time.Millisecond, "time spent measuring each shape")
	backendName := flag.String("backend", "auto", "inference backend to calibrate (the standard one is auto)")
	only := flag.String("only", "", "measure only shapes whose name contains this")
	flag.Parse()
	backend, err := runtime.Select(*backendName)
	if err != nil {
		fail(err)
	}
	b := newBench(backend)

	ecIn := ecrecoverInput()
	ecNs := b.measure(*budget, func() (uint64, error) { return b.call(common.BytesToAddress([]byte{1}), ecIn) })
	fmt.Fprintf(os.Stderr, "gascal: ecrecover %.1f ns/gas\n", ecNs.perGas())

	var rows []row
	for _, s := range shapes() {
		if *only != "" && !contains(s.name, *only) {
			continue
		}
		fmt.Fprintf(os.Stderr, "gascal: %s\n", s.name)
		m, raw, err := s.build.Build()
		if err != nil {
			fail(fmt.Errorf("%s: %v", s.name, err))
		}
		id := b.register(raw)
		input := randomInput(m)
		switch s.mode {
		case warm:
			data := inferCalldata(id, input)
			rows = append(rows, row{s, b.measure(*budget, func() (uint64, error) { return b.call(params.InferencePrecompileAddress, data) })})
		case cold:
			data := inferCalldata(id, input)
			rows = append(rows, row{s, b.measure(*budget, func() (uint64, error) {
				b.resetCache()
				return b.call(params.InferencePrecompileAddress, data)
			})})
		case validate:
			data := validateCalldata(b.chunks[id])
			rows = append(rows, row{s, b.measure(*budget, func() (uint64, error) { return b.call(params.InferencePrecompileAddress, data) })})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].m.perGas() > rows[j].m.perGas() })
	fmt.Printf("Each shape is called through the inference precompile (`%s` backend, `%s`), side by side with ecrecover in one process. ns/gas is the time a node spends per unit of gas charged; the target is that no shape exceeds ecrecover's.\n\n", backend.Name(), "go run ./tests/bench/gascal")
	fmt.Println("| shape | what it stresses | gas per call | µs per call | ns/gas | ÷ ecrecover |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: |")
	fmt.Printf("| ecrecover | the anchor | 3000 | %.1f | %.2f | 1.00 |\n", ecNs.perCall()/1e3, ecNs.perGas())
	worst := 0.0
	for _, r := range rows {
		ratio := r.m.perGas() / ecNs.perGas()
		worst = max(worst, ratio)
		fmt.Printf("| %s | %s | %d | %.1f | %.2f | %.2f |\n", r.s.name, r.s.what, r.m.gas, r.m.perCall()/1e3, r.m.perGas(), ratio)
	}
	verdict := "met"
	if worst > 1 {
		verdict = "MISSED"
	}
	fmt.Printf("\nWorst shape: %.2f× ecrecover's ns/gas (target ≤ 1.00: %s).\n", worst, verdict)
	fmt.Printf("gascal_worst_ratio=%.3f\n", worst)
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

type row struct {
	s shape
	m measurement
}

type measurement struct {
	calls int
	gas   uint64
	total time.Duration
}

func (m measurement) perCall() float64 { return float64(m.total.Nanoseconds()) / float64(m.calls) }
func (m measurement) perGas() float64  { return m.perCall() / float64(m.gas) }

// bench is an EVM over an in-memory state holding the models.
type bench struct {
	state   *state.StateDB
	backend inference.Backend
	pre     *vm.Inference
	factory *vm.Factory
	chunks  map[common.Hash][]common.Address
}

var caller = common.HexToAddress("0x00000000000000000000000000000000000c0ffe")

func newBench(backend inference.Backend) *bench {
	db := state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil)
	st, err := state.New(common.Hash{}, db)
	if err != nil {
		fail(err)
	}
	st.AddBalance(caller, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	b := &bench{state: st, backend: backend, chunks: map[common.Hash][]common.Address{}}
	b.resetCache()
	return b
}

func (b *bench) resetCache() {
	pre, err := vm.NewInference(params.DevnetConfig(params.DevnetChainID), vm.InferenceOptions{
		Cache: runtime.NewCache(b.backend, 1<<30, nil),
	})
	if err != nil {
		fail(err)
	}
	b.pre, b.factory = pre, vm.NewFactory(pre)
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
func (b *bench) call(addr common.Address, data []byte) (uint64, error) {
	const gas = 100_000_000
	ctx := gethvm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer, BlockNumber: big.NewInt(1), Time: 1_700_000_000,
		GasLimit: gas, BaseFee: big.NewInt(0), Random: &common.Hash{}, Difficulty: big.NewInt(0),
	}
	evm := b.factory.NewEVM(ctx, b.state, params.DevnetConfig(params.DevnetChainID).Ethereum, gethvm.Config{})
	_, left, err := evm.Call(caller, addr, data, gethvm.NewGasBudget(gas, 0), new(uint256.Int))
	return gas - left.ExecutionGas, err
}

// measure calls f repeatedly for about budget (at least 3 times) after one
// warm-up call.
func (b *bench) measure(budget time.Duration, f func() (uint64, error)) measurement {
	gas, err := f()
	if err != nil {
		fail(fmt.Errorf("warm-up: %v", err))
	}
	m := measurement{gas: gas}
	start := time.Now()
	for m.calls < 3 || time.Since(start) < budget {
		if _, err := f(); err != nil {
			fail(err)
		}
		m.calls++
	}
	m.total = time.Since(start)
	return m
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
