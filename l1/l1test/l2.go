// Package l1test is the L1 tests' in-process L2: a chain with inference,
// blocks made on demand with a dev engine's rules, and a sequencer whose
// inference results can be made wrong on purpose (the tampering the
// verifier must catch). Only tests import it.
package l1test

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/inference"
	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// RecorderAddress holds a contract that forwards its calldata to the
// inference precompile and stores keccak256 of the answer in slot 0, so
// that an inference result reaches the state root.
var RecorderAddress = common.HexToAddress("0x00000000000000000000000000000000000Bee01")

// recorderCode: CALLDATACOPY(0,0,size); CALL(gas, 0x0A00, 0, 0, size, 0, 0);
// RETURNDATACOPY(0,0,rsize); SSTORE(0, KECCAK256(0, rsize)).
var recorderCode = common.FromHex("365f5f375f5f365f5f610a005af1503d5f5f3e3d5f205f5500")

// UserKey is the funded L2 account the tests send from.
var UserKey, _ = crypto.HexToECDSA("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")

// L2 is an in-process chain.
type L2 struct {
	Config  *params.ChainConfig
	Genesis *gethcore.Genesis
	Chain   *core.Chain
	Exec    *core.Executor
	Builder *core.Builder
	// Tamper, when set, makes this chain's inference answers wrong (the
	// first output byte flipped).
	Tamper atomic.Bool
	// Model is the registered model's id, Input a valid input for it.
	Model common.Hash
	Input []byte

	// Users are the funded accounts; Users[0] is UserKey.
	Users []*ecdsa.PrivateKey

	signer types.Signer
	nonces []uint64
}

// NewL2 makes a chain with a funded UserKey, the cnn vector model and the
// recorder contract, executing on the reference backend.
func NewL2() (*L2, error) { return NewL2Users(1) }

// NewL2Users is NewL2 with n funded users (UserKey, then keys derived from
// their index).
func NewL2Users(n int) (*L2, error) {
	users := []*ecdsa.PrivateKey{UserKey}
	for i := 1; i < n; i++ {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("l1test user %d", i))))
		if err != nil {
			return nil, err
		}
		users = append(users, k)
	}
	funded := make([]common.Address, len(users))
	for i, k := range users {
		funded[i] = crypto.PubkeyToAddress(k.PublicKey)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "tests", "vectors", "cnn")
	raw, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		return nil, err
	}
	inHex, err := os.ReadFile(filepath.Join(dir, "input.hex"))
	if err != nil {
		return nil, err
	}
	input, err := hex.DecodeString(strings.TrimSpace(string(inHex)))
	if err != nil {
		return nil, err
	}
	config := params.DevnetConfig(params.DevnetChainID)
	spec := core.GenesisSpec{
		Config: config, Funded: funded, Balance: new(big.Int).Mul(big.NewInt(1e18), big.NewInt(1000)),
		GasLimit: 30_000_000, BaseFee: big.NewInt(1e9), Timestamp: 1_700_000_000,
		Predeploys: append(core.StandardPredeploys(),
			core.InferenceGenesis{Models: []core.GenesisModel{{Bytes: raw, Metadata: "cnn"}}}.Predeploy(),
			core.PredeployFunc{Label: "recorder", Fn: func(*params.ChainConfig) (types.GenesisAlloc, error) {
				return types.GenesisAlloc{RecorderAddress: {Code: recorderCode, Nonce: 1, Balance: new(big.Int)}}, nil
			}}),
	}
	g, err := spec.Genesis()
	if err != nil {
		return nil, err
	}
	l := &L2{Config: config, Genesis: g, Model: common.Hash(inference.ID(raw)), Input: input, Users: users, nonces: make([]uint64, len(users))}
	chain, exec, err := OpenVerifierChain(config, g, &l.Tamper)
	if err != nil {
		return nil, err
	}
	l.Chain, l.Exec, l.Builder = chain, exec, core.NewBuilder(chain, exec)
	l.signer = types.LatestSigner(config.Ethereum)
	return l, nil
}

// OpenVerifierChain opens a fresh in-memory chain on genesis with an
// executor on the reference backend; tamper (may be nil) corrupts its
// inference answers while set.
func OpenVerifierChain(config *params.ChainConfig, g *gethcore.Genesis, tamper *atomic.Bool) (*core.Chain, *core.Executor, error) {
	chain, err := core.OpenChain(rawdb.NewMemoryDatabase(), config, g, false)
	if err != nil {
		return nil, nil, err
	}
	backend, err := inferenceruntime.Select("reference")
	if err != nil {
		return nil, nil, err
	}
	if tamper != nil {
		backend = &tamperedBackend{Backend: backend, on: tamper}
	}
	pre, err := vm.NewInference(config, vm.InferenceOptions{Cache: inferenceruntime.NewCache(backend, params.InferenceCacheBytes, nil)})
	if err != nil {
		return nil, nil, err
	}
	return chain, core.NewExecutor(chain.Config(), vm.NewFactory(pre), chain, chain.Senders()), nil
}

type tamperedBackend struct {
	inference.Backend
	on *atomic.Bool
}

func (b *tamperedBackend) Prepare(m *inference.Model) (inference.Program, error) {
	p, err := b.Backend.Prepare(m)
	if err != nil {
		return nil, err
	}
	return &tamperedProgram{Program: p, on: b.on}, nil
}

type tamperedProgram struct {
	inference.Program
	on *atomic.Bool
}

func (p *tamperedProgram) Run(input []byte) ([]byte, error) {
	out, err := p.Program.Run(input)
	if err == nil && p.on.Load() && len(out) > 0 {
		out = append([]byte{}, out...)
		out[0] ^= 1
	}
	return out, err
}

// Transfer is a signed value transfer from UserKey.
func (l *L2) Transfer(to common.Address, wei int64) *types.Transaction {
	return l.SignFrom(0, &to, big.NewInt(wei), nil, 21000)
}

// InferenceTx calls the recorder with the model and its input: the answer
// lands in the recorder's storage.
func (l *L2) InferenceTx() *types.Transaction {
	to := RecorderAddress
	return l.SignFrom(0, &to, nil, l.InferenceCalldata(l.Input), 2_000_000)
}

// InferenceCalldata calls the model with input (through the recorder).
func (l *L2) InferenceCalldata(input []byte) []byte { return inferCalldata(l.Model, input) }

// SignFrom signs a transaction from Users[user] with the next nonce.
func (l *L2) SignFrom(user int, to *common.Address, value *big.Int, data []byte, gas uint64) *types.Transaction {
	if value == nil {
		value = new(big.Int)
	}
	tx := types.MustSignNewTx(l.Users[user], l.signer, &types.DynamicFeeTx{
		ChainID: l.Config.ChainID(), Nonce: l.nonces[user], GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(50e9), Gas: gas, To: to, Value: value, Data: data,
	})
	l.nonces[user]++
	return tx
}

// Mine makes a block of txs on the head with the dev engine's rules and
// commits it.
func (l *L2) Mine(txs ...*types.Transaction) (*types.Block, error) {
	return l.MineWith(nil, txs...)
}

// MineWith is Mine with the engine's choices edited first (another
// engine's coinbase, gas limit, base fee or randomness).
func (l *L2) MineWith(edit func(*core.BuildAttrs), txs ...*types.Transaction) (*types.Block, error) {
	parent := l.Chain.HeadHeader()
	attrs := core.BuildAttrs{Timestamp: parent.Time + 1, Random: batch.DevRandom(parent)}
	if edit != nil {
		edit(&attrs)
	}
	built, err := l.Builder.Build(context.Background(), attrs, txs, nil)
	if err != nil {
		return nil, err
	}
	if len(built.Refused) > 0 {
		for h, err := range built.Refused {
			return nil, fmt.Errorf("tx %s refused: %w", h, err)
		}
	}
	if err := l.Chain.Commit(built.Block, built.Receipts, built.State); err != nil {
		return nil, err
	}
	return built.Block, nil
}

func inferCalldata(id common.Hash, input []byte) []byte {
	word := func(v uint64) []byte { var w [32]byte; binary.BigEndian.PutUint64(w[24:], v); return w[:] }
	sel := crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]
	out := append(append(append([]byte(nil), sel...), id[:]...), word(64)...)
	out = append(append(out, word(uint64(len(input)))...), input...)
	return append(out, make([]byte, (32-len(input)%32)%32)...)
}

// Key is a helper for tests: a private key from hex.
func Key(hexKey string) *ecdsa.PrivateKey {
	k, err := crypto.HexToECDSA(strings.TrimPrefix(hexKey, "0x"))
	if err != nil {
		panic(err)
	}
	return k
}
