package bft

import (
	"context"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// testApp is an App on an in-memory chain with funded dev accounts.
type testApp struct {
	*App
	keys   []devkeys.Account
	haltMu sync.Mutex
	halted error
}

func (ta *testApp) haltedErr() error {
	ta.haltMu.Lock()
	defer ta.haltMu.Unlock()
	return ta.halted
}

func newTestApp(t *testing.T, genesisTime uint64) *testApp {
	return newTestAppWith(t, genesisTime, nil, nil)
}

// newTestAppWith adds predeploys and an EVM factory (nil: plain EVMs).
func newTestAppWith(t *testing.T, genesisTime uint64, extra []core.Predeploy, factory func(*params.ChainConfig) *vm.Factory) *testApp {
	t.Helper()
	keys, err := devkeys.Derive(params.DevnetMnemonic, 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := params.DevnetConfig(1337)
	spec := core.GenesisSpec{Config: cfg, Funded: []common.Address{keys[0].Address, keys[1].Address}, Balance: big.NewInt(1e18), GasLimit: 30_000_000, BaseFee: big.NewInt(1e9), Timestamp: genesisTime, Predeploys: append(core.StandardPredeploys(), extra...)}
	g, err := spec.Genesis()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := core.OpenChain(rawdb.NewMemoryDatabase(), cfg, g, false)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := core.NewPool(chain)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close(); chain.Close() })
	f := vm.NewFactory()
	if factory != nil {
		f = factory(cfg)
	}
	exec := core.NewExecutor(chain.Config(), f, chain, chain.Senders())
	ta := &testApp{keys: keys}
	ta.App = NewApp(chain, exec, pool, nil, func(err error) { ta.haltMu.Lock(); ta.halted = err; ta.haltMu.Unlock() })
	return ta
}

var proposer = []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e}

func (ta *testApp) transfer(t *testing.T, nonce uint64) *types.Transaction {
	t.Helper()
	to := common.HexToAddress("0xdead")
	tx, err := types.SignNewTx(ta.keys[0].Key, types.LatestSignerForChainID(big.NewInt(1337)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(10e9), Gas: 21000, To: &to, Value: big.NewInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	return tx
}

func (ta *testApp) prepare(t *testing.T, height int64, at time.Time) [][]byte {
	t.Helper()
	res, err := ta.PrepareProposal(context.Background(), &abci.RequestPrepareProposal{Height: height, Time: at, ProposerAddress: proposer, MaxTxBytes: 1 << 22})
	if err != nil {
		t.Fatal(err)
	}
	return res.Txs
}

func (ta *testApp) process(height int64, at time.Time, txs [][]byte) abci.ResponseProcessProposal_ProposalStatus {
	res, err := ta.ProcessProposal(context.Background(), &abci.RequestProcessProposal{Height: height, Time: at, ProposerAddress: proposer, Txs: txs})
	if err != nil {
		return abci.ResponseProcessProposal_UNKNOWN
	}
	return res.Status
}

func (ta *testApp) finalizeCommit(t *testing.T, height int64, at time.Time, txs [][]byte) {
	t.Helper()
	if _, err := ta.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: height, Time: at, ProposerAddress: proposer, Txs: txs}); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
}

// A validator re-executes the proposer's block, accepts it, and both
// commit the same block; its time is the agreed time in whole seconds.
func TestProposeProcessCommit(t *testing.T) {
	const genesisTime = 1_800_000_000
	a, b := newTestApp(t, genesisTime), newTestApp(t, genesisTime)
	tx := a.transfer(t, 0)
	at := time.Unix(genesisTime+3, 700_000_000)
	txs := a.prepare(t, 1, at)
	if len(txs) != 1 {
		t.Fatalf("proposal carries %d CometBFT txs, want 1", len(txs))
	}
	if got := b.process(1, at, txs); got != abci.ResponseProcessProposal_ACCEPT {
		t.Fatalf("validator: %v, want ACCEPT", got)
	}
	a.finalizeCommit(t, 1, at, txs)
	b.finalizeCommit(t, 1, at, txs)
	ha, hb := a.chain.HeadHeader(), b.chain.HeadHeader()
	if ha.Hash() != hb.Hash() || ha.Number.Uint64() != 1 {
		t.Fatalf("heads differ: %d %x vs %d %x", ha.Number, ha.Hash(), hb.Number, hb.Hash())
	}
	if ha.Time != genesisTime+3 {
		t.Fatalf("block time %d, want the agreed time truncated, %d", ha.Time, genesisTime+3)
	}
	if ha.Coinbase != common.BytesToAddress(proposer) {
		t.Fatalf("coinbase %x, want the proposer's address", ha.Coinbase)
	}
	if _, _, err := b.chain.Receipt(tx.Hash()); err != nil {
		t.Fatalf("receipt on the validator: %v", err)
	}
	// An idle height: no transaction, no EVM block, AppHash unchanged.
	empty := a.prepare(t, 2, at.Add(time.Second))
	if len(empty) != 0 {
		t.Fatalf("idle proposal carries %d txs", len(empty))
	}
	res, err := b.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: 2, Time: at.Add(time.Second), ProposerAddress: proposer})
	if err != nil || common.BytesToHash(res.AppHash) != hb.Root {
		t.Fatalf("empty block: app hash %x, err %v; want the head's root %x", res.AppHash, err, hb.Root)
	}
}

// Bad proposals are refused (a nil prevote), never a crash, never a halt.
func TestProcessProposalRefusesBadInput(t *testing.T) {
	const genesisTime = 1_800_000_000
	a := newTestApp(t, genesisTime)
	at := time.Unix(genesisTime+5, 0)
	a.transfer(t, 0)
	good := a.prepare(t, 1, at)
	p, err := decodeProposal(good[0])
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(edit func(h *types.Header)) [][]byte {
		h := p.Block.Header()
		edit(h)
		enc, err := rlp.EncodeToBytes(&proposal{Block: p.Block.WithSeal(h), Receipts: p.Receipts})
		if err != nil {
			t.Fatal(err)
		}
		return [][]byte{append([]byte{proposalVersion}, enc...)}
	}
	other := newTestApp(t, genesisTime+1) // another genesis: an unknown parent
	other.transfer(t, 0)
	foreign := other.prepare(t, 1, at)

	for _, tc := range []struct {
		name   string
		height int64
		time   time.Time
		txs    [][]byte
		want   error
	}{
		{"garbage", 1, at, [][]byte{{proposalVersion, 0xff, 0x00, 0x13}}, ErrBadProposal},
		{"unknown version", 1, at, [][]byte{append([]byte{9}, good[0][1:]...)}, ErrBadProposal},
		{"oversized", 1, at, [][]byte{make([]byte, MaxProposalBytes+1)}, ErrBadProposal},
		{"two transactions", 1, at, [][]byte{good[0], good[0]}, ErrBadProposal},
		{"wrong timestamp", 1, at.Add(2 * time.Second), good, ErrMismatch},
		{"wrong height", 2, at, good, ErrMismatch},
		{"unknown parent", 1, at, foreign, ErrMismatch},
		{"claimed state root", 1, at, reencode(func(h *types.Header) { h.Root[0] ^= 1 }), ErrMismatch},
		{"claimed gas used", 1, at, reencode(func(h *types.Header) { h.GasUsed++ }), ErrMismatch},
		{"claimed receipts root", 1, at, reencode(func(h *types.Header) { h.ReceiptHash[5] ^= 1 }), ErrMismatch},
		{"coinbase", 1, at, reencode(func(h *types.Header) { h.Coinbase[0] ^= 1 }), ErrMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestApp(t, genesisTime)
			v.mu.Lock()
			_, err := v.execute(context.Background(), consensusData{height: tc.height, time: tc.time, proposer: proposer}, tc.txs)
			v.mu.Unlock()
			if !errors.Is(err, tc.want) {
				t.Fatalf("execute: %v, want %v", err, tc.want)
			}
			if got := v.process(tc.height, tc.time, tc.txs); got != abci.ResponseProcessProposal_REJECT {
				t.Fatalf("ProcessProposal: %v, want REJECT", got)
			}
			if err := v.haltedErr(); err != nil {
				t.Fatalf("a bad proposal halted the validator: %v", err)
			}
		})
	}
}

// A decided block this node executes differently halts it, with the block
// and the differing root in the error.
func TestFinalizeMismatchHalts(t *testing.T) {
	const genesisTime = 1_800_000_000
	a, b := newTestApp(t, genesisTime), newTestApp(t, genesisTime)
	at := time.Unix(genesisTime+1, 0)
	a.transfer(t, 0)
	p, err := decodeProposal(a.prepare(t, 1, at)[0])
	if err != nil {
		t.Fatal(err)
	}
	h := p.Block.Header()
	h.Root[0] ^= 1
	enc, _ := rlp.EncodeToBytes(&proposal{Block: p.Block.WithSeal(h), Receipts: p.Receipts})
	_, err = b.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: 1, Time: at, ProposerAddress: proposer, Txs: [][]byte{append([]byte{proposalVersion}, enc...)}})
	var mismatch *MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("FinalizeBlock: %v, want a MismatchError", err)
	}
	if mismatch.Number != 1 || len(mismatch.Differs) == 0 {
		t.Fatalf("mismatch %+v does not name the block and root", mismatch)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.haltedErr() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.haltedErr() == nil {
		t.Fatal("the validator did not halt")
	}
}
