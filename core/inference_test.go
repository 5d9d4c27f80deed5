package core

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

func readVector(t *testing.T, name string) (raw, input, output []byte) {
	t.Helper()
	dir := "../tests/vectors/" + name + "/"
	raw, err := os.ReadFile(dir + "model.bin")
	if err != nil {
		t.Fatal(err)
	}
	hexFile := func(f string) []byte {
		b, err := os.ReadFile(dir + f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return raw, hexFile("input.hex"), hexFile("output.hex")
}

func inferCalldata(id common.Hash, input []byte) []byte {
	word := func(v uint64) []byte { var w [32]byte; binary.BigEndian.PutUint64(w[24:], v); return w[:] }
	sel := crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]
	out := append(append(append([]byte(nil), sel...), id[:]...), word(64)...)
	out = append(append(out, word(uint64(len(input)))...), input...)
	return append(out, make([]byte, (32-len(input)%32)%32)...)
}

// TestGenesisModelsAreCallable: a model registered by InferenceGenesis is
// found by the precompile in the genesis state and gives the vector's bytes,
// in a transaction and in a call.
func TestGenesisModelsAreCallable(t *testing.T) {
	raw, input, want := readVector(t, "cnn")
	config := params.DevnetConfig(31337)
	spec := testGenesisSpec(config)
	spec.Predeploys = append(spec.Predeploys, InferenceGenesis{Models: []GenesisModel{{Bytes: raw, Metadata: "cnn"}}}.Predeploy())
	g, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenChain(rawdb.NewMemoryDatabase(), config, g, false)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := vm.NewInference(config, vm.InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exec := NewExecutor(config, vm.NewFactory(pre), c, c.Senders())
	head, root := c.Head()
	st, err := c.StateAt(root)
	if err != nil {
		t.Fatal(err)
	}
	if code := st.GetCode(params.InferencePrecompileAddress); len(code) == 0 {
		t.Fatal("no stub code at the precompile's address")
	}
	if code := st.GetCode(params.ModelRegistryAddress); len(code) < 100 {
		t.Fatal("no registry code")
	}
	id := common.Hash(inference.ID(raw))
	evm := exec.NewEVM(head.Header(), st, gethvm.Config{})
	ret, _, err := evm.Call(crypto.PubkeyToAddress(testKey.PublicKey), params.InferencePrecompileAddress, inferCalldata(id, input), gethvm.NewGasBudget(1_000_000, 0), new(uint256.Int))
	if err != nil {
		t.Fatalf("infer: %v %x", err, ret)
	}
	if n := binary.BigEndian.Uint64(ret[56:64]); !bytes.Equal(ret[64:64+n], want) {
		t.Fatalf("output %x, want %x", ret[64:64+n], want)
	}

	// In a transaction: the receipt succeeds and uses the quoted gas plus
	// the transaction's own.
	tx, _ := types.SignNewTx(testKey, types.LatestSigner(config.Ethereum), &types.DynamicFeeTx{
		ChainID: config.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 200_000,
		To: &params.InferencePrecompileAddress, Data: inferCalldata(id, input),
	})
	built, err := NewBuilder(c, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, []*types.Transaction{tx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Receipts) != 1 || built.Receipts[0].Status != types.ReceiptStatusSuccessful {
		t.Fatalf("receipts %+v refused %v", built.Receipts, built.Refused)
	}
}

// faultyPrecompile stands for a precompile whose result this node could
// not compute: each call records a node fault, and succeeds as far as the
// EVM can tell (as a contract that caught the failed call would).
type faultyPrecompile struct{}

func (p *faultyPrecompile) Address() common.Address { return common.HexToAddress("0x0bad") }
func (p *faultyPrecompile) Active(uint64) bool      { return true }
func (p *faultyPrecompile) Bind(_ *gethvm.EVM, faults *vm.FaultSlot) gethvm.PrecompiledContract {
	return faultyContract{faults}
}

type faultyContract struct{ faults *vm.FaultSlot }

func (c faultyContract) RequiredGas([]byte) uint64 { return 100 }
func (c faultyContract) Name() string              { return "FAULTY" }
func (c faultyContract) Run([]byte) ([]byte, error) {
	c.faults.Record(&vm.NodeFault{Backend: "fake", Err: vm.ErrNodeFault})
	return nil, nil
}

// TestNodeFaultStopsTheBlock: a node fault during a transaction means the
// block is not finished, so nothing derived from it is committed
// (ARCHITECTURE.md decision 4).
func TestNodeFaultStopsTheBlock(t *testing.T) {
	c := openTestChain(t, rawdb.NewMemoryDatabase())
	config := c.Config()
	faulty := &faultyPrecompile{}
	exec := NewExecutor(config, vm.NewFactory(faulty), c, c.Senders())
	to := faulty.Address()
	tx, _ := types.SignNewTx(testKey, types.LatestSigner(config.Ethereum), &types.DynamicFeeTx{
		ChainID: config.ChainID(), Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 100_000, To: &to,
	})
	head, _ := c.Head()
	_, err := NewBuilder(c, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, []*types.Transaction{tx}, nil)
	if !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("Build: %v, want a node fault", err)
	}
	if after, _ := c.Head(); after.Hash() != head.Hash() {
		t.Fatal("the head moved")
	}
}
