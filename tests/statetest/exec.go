package statetest

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/crypto/keccak"
	gethparams "github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	gethtests "github.com/ethereum/go-ethereum/tests"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/vm"
)

// ErrUnsupportedFork is returned for a fork name geth has no configuration
// for; such subtests are skipped, not failed.
var ErrUnsupportedFork = errors.New("fork not supported by go-ethereum")

// Subtest names one subtest of a Test: a fork and an index into its post
// states.
type Subtest struct {
	Fork  string
	Index int
}

func (s Subtest) String() string { return fmt.Sprintf("%s/%d", s.Fork, s.Index) }

// Subtests lists every subtest of t, in a stable order: forks by name, then
// indexes.
func (t *Test) Subtests() []Subtest {
	var subs []Subtest
	for _, fork := range sortedKeys(t.Post) {
		for i := range t.Post[fork] {
			subs = append(subs, Subtest{Fork: fork, Index: i})
		}
	}
	return subs
}

// Run executes one subtest with an EVM from factory and checks it the way
// geth's StateTest.Run does: an expected exception must occur (and then the
// state must be unchanged if the test names a root); otherwise the post-state
// root and the logs hash must match exactly. vmConfig may carry a tracer.
func (t *Test) Run(factory *vm.Factory, sub Subtest, vmConfig gethvm.Config) error {
	posts, ok := t.Post[sub.Fork]
	if !ok || sub.Index < 0 || sub.Index >= len(posts) {
		return fmt.Errorf("no post state %s", sub)
	}
	post := posts[sub.Index]
	config, eips, err := gethtests.GetChainConfig(sub.Fork)
	if err != nil {
		var unsupported gethtests.UnsupportedForkError
		if errors.As(err, &unsupported) {
			return fmt.Errorf("%w: %s", ErrUnsupportedFork, unsupported.Name)
		}
		return fmt.Errorf("fork %q: %w", sub.Fork, err)
	}
	vmConfig.ExtraEips = eips

	st := gethtests.MakePreState(rawdb.NewMemoryDatabase(), t.Pre, false, rawdb.HashScheme)
	defer st.Close()
	root, err := t.execute(factory, config, post, st.StateDB, vmConfig)

	switch {
	case err == nil && post.ExpectException != "":
		return fmt.Errorf("expected exception %q, got none", post.ExpectException)
	case err != nil && post.ExpectException == "":
		return fmt.Errorf("unexpected error: %w", err)
	case err != nil:
		// Expected (geth does not compare the message). The state was reverted;
		// if the test names a root it must be the pre-state's.
		if post.Root != (common.UnprefixedHash{}) {
			root := st.StateDB.IntermediateRoot(t.rules(config))
			if root != common.Hash(post.Root) {
				return fmt.Errorf("post-state root does not match the pre-state root, indicates an error in the test: got %x, want %x", root, post.Root)
			}
		}
		return nil
	}
	if root != common.Hash(post.Root) {
		return fmt.Errorf("post state root mismatch: got %x, want %x", root, post.Root)
	}
	if logs := rlpHash(st.StateDB.Logs()); logs != common.Hash(post.Logs) {
		return fmt.Errorf("post state logs hash mismatch: got %x, want %x", logs, post.Logs)
	}
	return nil
}

// GasLimit is the transaction gas limit of a subtest (0 if out of range).
func (t *Test) GasLimit(sub Subtest) uint64 {
	posts := t.Post[sub.Fork]
	if sub.Index < 0 || sub.Index >= len(posts) {
		return 0
	}
	if g := posts[sub.Index].Indexes.Gas; g >= 0 && g < len(t.Tx.GasLimit) {
		return uint64(t.Tx.GasLimit[g])
	}
	return 0
}

// rules are the fork rules of the test's block.
func (t *Test) rules(config *gethparams.ChainConfig) gethparams.Rules {
	number := new(big.Int).SetUint64(t.Env.Number)
	return config.Rules(number, t.isMerge(config), t.Env.Timestamp)
}

// isMerge: the env's random is what makes the block post-merge.
func (t *Test) isMerge(config *gethparams.ChainConfig) bool {
	return config.IsLondon(new(big.Int)) && t.Env.Random != nil
}

// execute applies the subtest's message to statedb and commits, returning
// the post-state root. On a refused message the state is reverted and the
// error returned. It mirrors geth's StateTest.RunNoVerify, with the EVM
// from factory.
func (t *Test) execute(factory *vm.Factory, config *gethparams.ChainConfig, post PostState, statedb *state.StateDB, vmConfig gethvm.Config) (common.Hash, error) {
	block := t.genesis(config).ToBlock()
	rules := config.Rules(block.Number(), t.isMerge(config), block.Time())

	var baseFee *big.Int
	if config.IsLondon(new(big.Int)) {
		baseFee = t.Env.BaseFee
		if baseFee == nil {
			// retesteth uses 0x10 for the genesis base fee, so 0x0a for this block.
			baseFee = big.NewInt(0x0a)
		}
	}
	msg, err := t.Tx.toMessage(post, baseFee)
	if err != nil {
		return common.Hash{}, err
	}
	// State tests skip the header and body checks that bound blobs per block.
	if config.IsCancun(new(big.Int), block.Time()) {
		if len(msg.BlobHashes) > eip4844.MaxBlobsPerBlock(config, block.Time()) {
			return common.Hash{}, errors.New("blob gas exceeds maximum")
		}
	}
	if len(post.TxBytes) != 0 {
		var tx types.Transaction
		if err := tx.UnmarshalBinary(post.TxBytes); err != nil {
			return common.Hash{}, err
		}
		if _, err := types.Sender(types.LatestSigner(config), &tx); err != nil {
			return common.Hash{}, err
		}
	}

	blockCtx := core.NewEVMBlockContext(block.Header(), headerlessChain{config}, &t.Env.Coinbase)
	blockCtx.GetHash = vmTestBlockHash
	blockCtx.BaseFee = baseFee
	blockCtx.Random = nil
	if t.Env.Difficulty != nil {
		blockCtx.Difficulty = new(big.Int).Set(t.Env.Difficulty)
	}
	if t.isMerge(config) {
		rnd := common.BigToHash(t.Env.Random)
		blockCtx.Random = &rnd
		blockCtx.Difficulty = big.NewInt(0)
	}
	if config.IsCancun(new(big.Int), block.Time()) && t.Env.ExcessBlobGas != nil {
		header := &types.Header{Time: block.Time(), ExcessBlobGas: t.Env.ExcessBlobGas}
		blockCtx.BlobBaseFee = eip4844.CalcBlobFee(config, header)
	}

	evm := factory.NewEVM(blockCtx, statedb, config, vmConfig)
	tracer := vmConfig.Tracer
	if tracer != nil && tracer.OnTxStart != nil {
		tracer.OnTxStart(evm.GetVMContext(), nil, msg.From)
	}
	snapshot := statedb.Snapshot()
	result, err := core.ApplyMessage(evm, msg, core.NewGasPool(block.GasLimit()))
	if err != nil {
		statedb.RevertToSnapshot(snapshot)
		if tracer != nil && tracer.OnTxEnd != nil {
			tracer.OnTxEnd(nil, err)
		}
		return common.Hash{}, err
	}
	// A zero-value reward touches the coinbase after any self-destruct, as
	// geth's runner does (it matters when the coinbase self-destructed or
	// got no fee).
	statedb.AddBalance(block.Coinbase(), new(uint256.Int), tracing.BalanceChangeUnspecified)
	root, err := statedb.Commit(rules, block.NumberU64())
	if err != nil {
		return common.Hash{}, fmt.Errorf("commit: %w", err)
	}
	if tracer != nil && tracer.OnTxEnd != nil {
		tracer.OnTxEnd(&types.Receipt{GasUsed: result.UsedGas}, nil)
	}
	return root, nil
}

// genesis is the block the transaction runs in, built as geth's runner
// builds it.
func (t *Test) genesis(config *gethparams.ChainConfig) *core.Genesis {
	g := &core.Genesis{
		Config:     config,
		Coinbase:   t.Env.Coinbase,
		Difficulty: t.Env.Difficulty,
		GasLimit:   t.Env.GasLimit,
		Number:     t.Env.Number,
		Timestamp:  t.Env.Timestamp,
		SlotNumber: t.Env.SlotNumber,
		Alloc:      t.Pre,
	}
	if t.Env.Random != nil {
		g.Mixhash = common.BigToHash(t.Env.Random)
		g.Difficulty = big.NewInt(0)
	}
	return g
}

// vmTestBlockHash is the BLOCKHASH of the state tests: keccak of the decimal
// block number.
func vmTestBlockHash(n uint64) common.Hash {
	return common.BytesToHash(crypto.Keccak256([]byte(new(big.Int).SetUint64(n).String())))
}

func rlpHash(x any) (h common.Hash) {
	hw := keccak.NewLegacyKeccak256()
	if err := rlp.Encode(hw, x); err != nil {
		panic(fmt.Sprintf("rlp encode: %v", err))
	}
	hw.Sum(h[:0])
	return h
}

// headerlessChain is the chain context of a state test: a config and no
// headers (BLOCKHASH is replaced by vmTestBlockHash).
type headerlessChain struct{ config *gethparams.ChainConfig }

func (c headerlessChain) Engine() consensus.Engine                    { return nil }
func (c headerlessChain) Config() *gethparams.ChainConfig             { return c.config }
func (c headerlessChain) CurrentHeader() *types.Header                { return nil }
func (c headerlessChain) GetHeader(common.Hash, uint64) *types.Header { return nil }
func (c headerlessChain) GetHeaderByNumber(uint64) *types.Header      { return nil }
func (c headerlessChain) GetHeaderByHash(common.Hash) *types.Header   { return nil }
