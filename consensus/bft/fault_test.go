package bft

import (
	"context"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/vectors"
	"github.com/infergeth/infergeth/vm"
)

// brokenHardware is a backend that can compute nothing, not even as the
// reference: every result this node would vote on is a local fault.
type brokenHardware struct{}

func (brokenHardware) Name() string { return reference.Backend{}.Name() }
func (brokenHardware) Prepare(*inference.Model) (inference.Program, error) {
	return brokenProgram{}, nil
}

type brokenProgram struct{}

func (brokenProgram) Run([]byte) ([]byte, error) { return nil, errors.New("device lost") }

var forwarderAddr = common.HexToAddress("0x00000000000000000000000000000000f0f0f0f0")

// inferenceApp is a test app whose genesis has the demo MLP and a contract
// at forwarderAddr passing its calldata to the precompile.
func inferenceApp(t *testing.T, genesisTime uint64, backend inference.Backend) (*testApp, []byte) {
	t.Helper()
	mlp := vectors.Demos()[0]
	runtimeCode := []byte{0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73}
	runtimeCode = append(runtimeCode, params.InferencePrecompileAddress.Bytes()...)
	runtimeCode = append(runtimeCode, 0x5a, 0xf1, 0x50, 0x3d, 0x5f, 0x5f, 0x3e, 0x3d, 0x5f, 0xa0, 0x00)
	extra := []core.Predeploy{
		core.InferenceGenesis{Models: []core.GenesisModel{{Bytes: mlp.Bytes}}}.Predeploy(),
		core.PredeployFunc{Label: "forwarder", Fn: func(*params.ChainConfig) (types.GenesisAlloc, error) {
			return types.GenesisAlloc{forwarderAddr: {Code: runtimeCode, Balance: new(big.Int)}}, nil
		}},
	}
	app := newTestAppWith(t, genesisTime, extra, func(cfg *params.ChainConfig) *vm.Factory {
		pre, err := vm.NewInference(cfg, vm.InferenceOptions{Cache: runtime.NewCache(backend, params.InferenceCacheBytes, nil)})
		if err != nil {
			t.Fatal(err)
		}
		return vm.NewFactory(pre)
	})
	m, err := inference.Decode(mlp.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	id := inference.ID(mlp.Bytes)
	data := append([]byte{}, crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]...)
	data = append(data, id[:]...)
	data = append(data, word32(64)...)
	data = append(data, word32(uint64(m.InputBytes()))...)
	input := make([]byte, (m.InputBytes()+31)/32*32)
	data = append(data, input...)
	return app, data
}

func word32(v uint64) []byte {
	w := make([]byte, 32)
	binary.BigEndian.PutUint64(w[24:], v)
	return w
}

func (ta *testApp) call(t *testing.T, to common.Address, data []byte) {
	t.Helper()
	tx, err := types.SignNewTx(ta.keys[0].Key, types.LatestSignerForChainID(big.NewInt(1337)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(10e9), Gas: 3_000_000, To: &to, Data: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.pool.Add(tx); err != nil {
		t.Fatal(err)
	}
}

// A validator whose hardware cannot compute a proposal's inference neither
// accepts nor rejects it: it answers CometBFT with an error (no vote) and
// halts, and the reason is a node fault, not a verdict on the block.
func TestLocalFaultHaltsInsteadOfVoting(t *testing.T) {
	const genesisTime = 1_800_000_000
	healthy, data := inferenceApp(t, genesisTime, reference.Backend{})
	broken, _ := inferenceApp(t, genesisTime, brokenHardware{})
	at := time.Unix(genesisTime+1, 0)
	healthy.call(t, forwarderAddr, data)
	txs := healthy.prepare(t, 1, at)
	if len(txs) != 1 {
		t.Fatal("the healthy proposer proposed nothing")
	}
	res, err := broken.ProcessProposal(context.Background(), &abci.RequestProcessProposal{Height: 1, Time: at, ProposerAddress: proposer, Txs: txs})
	if !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("ProcessProposal on broken hardware: response %v, err %v; want no vote and a node fault", res, err)
	}
	waitHalt(t, broken)
	if !errors.Is(broken.haltedErr(), vm.ErrNodeFault) {
		t.Fatalf("halted for %v, want a node fault", broken.haltedErr())
	}

	// The same hardware as proposer: it proposes nothing it computed.
	proposerBroken, _ := inferenceApp(t, genesisTime, brokenHardware{})
	proposerBroken.call(t, forwarderAddr, data)
	if _, err := proposerBroken.PrepareProposal(context.Background(), &abci.RequestPrepareProposal{Height: 1, Time: at, ProposerAddress: proposer, MaxTxBytes: 1 << 22}); !errors.Is(err, vm.ErrNodeFault) {
		t.Fatalf("PrepareProposal on broken hardware: %v, want a node fault", err)
	}
	waitHalt(t, proposerBroken)
}

func waitHalt(t *testing.T, ta *testApp) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ta.haltedErr() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ta.haltedErr() == nil {
		t.Fatal("the validator did not halt")
	}
}
