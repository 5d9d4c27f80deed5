package dev

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/consensus"
	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

type fixture struct {
	seq   *Sequencer
	chain *core.Chain
	key   *ecdsaKey
	wall  *fakeWall
}

type ecdsaKey = struct {
	addr common.Address
	sign func(*types.Transaction) *types.Transaction
}

type fakeWall struct{ t time.Time }

func (w *fakeWall) now() time.Time { return w.t }

func newFixture(t *testing.T, blockTime time.Duration) *fixture {
	t.Helper()
	return newFixtureWith(t, blockTime, vm.NewFactory(), nil)
}

// newFixtureWith is newFixture with the EVM factory and log given.
func newFixtureWith(t *testing.T, blockTime time.Duration, factory *vm.Factory, log *slog.Logger) *fixture {
	t.Helper()
	key, _ := crypto.HexToECDSA("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
	addr := crypto.PubkeyToAddress(key.PublicKey)
	cfg := params.DevnetConfig(params.DevnetChainID)
	wall := &fakeWall{t: time.Unix(1_700_000_000, 0)}
	spec := core.GenesisSpec{
		Config: cfg, Funded: []common.Address{addr}, Balance: big.NewInt(1e18),
		GasLimit: params.DevnetGasLimit, BaseFee: big.NewInt(1e9), Timestamp: uint64(wall.t.Unix()),
		Predeploys: core.StandardPredeploys(),
	}
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
	t.Cleanup(func() { pool.Close() })
	exec := core.NewExecutor(cfg, factory, chain, chain.Senders())
	engine := NewEngine(NewClock(wall.now, cfg.Infergeth.MaxTimestampDrift), common.Address{})
	seq := NewSequencer(chain, exec, pool, engine, Config{BlockTime: blockTime, Log: log})
	signer := types.LatestSigner(cfg.Ethereum)
	return &fixture{seq: seq, chain: chain, wall: wall, key: &ecdsaKey{addr: addr, sign: func(tx *types.Transaction) *types.Transaction {
		s, err := types.SignTx(tx, signer, key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}}
}

func (f *fixture) transfer(nonce uint64) *types.Transaction {
	to := common.HexToAddress("0x1234")
	return f.key.sign(types.NewTx(&types.DynamicFeeTx{
		ChainID: big.NewInt(int64(params.DevnetChainID)), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9),
		Gas: 21000, To: &to, Value: big.NewInt(1),
	}))
}

func TestAutomineBlockPerTransaction(t *testing.T) {
	f := newFixture(t, 0)
	ctx := context.Background()
	for i := uint64(0); i < 3; i++ {
		tx := f.transfer(i)
		if err := f.seq.Submit(ctx, tx); err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		r, block, err := f.chain.Receipt(tx.Hash())
		if err != nil {
			t.Fatalf("tx %d: receipt: %v", i, err)
		}
		if r.Status != types.ReceiptStatusSuccessful || block.NumberU64() != i+1 || len(block.Transactions()) != 1 {
			t.Fatalf("tx %d: status %d in block %d with %d txs", i, r.Status, block.NumberU64(), len(block.Transactions()))
		}
		if r.BlockHash != block.Hash() {
			t.Fatalf("receipt block hash %x, block %x", r.BlockHash, block.Hash())
		}
	}
	if err := f.seq.Submit(ctx, f.transfer(1)); err == nil || err.Error() != "nonce too low: next nonce 3, tx nonce 1" {
		t.Fatalf("replayed nonce: %v", err)
	}
}

// TestImportChecksTimestamps: a block from another sequencer is imported
// after re-execution, unless its timestamp is beyond the drift.
func TestImportChecksTimestamps(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		ahead   time.Duration // how far the producer's clock runs ahead
		refused bool
	}{
		{"on time", 0, false},
		{"within drift", 10 * time.Second, false},
		{"beyond drift", 60 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			producer, importer := newFixture(t, 0), newFixture(t, 0)
			producer.wall.t = producer.wall.t.Add(tc.ahead)
			if err := producer.seq.Submit(ctx, producer.transfer(0)); err != nil {
				t.Fatal(err)
			}
			block, _ := producer.chain.Head()
			err := importer.seq.Import(ctx, block)
			if tc.refused != (err != nil) {
				t.Fatalf("import error %v, refused want %v", err, tc.refused)
			}
			if tc.refused && !errors.Is(err, consensus.ErrFutureBlock) {
				t.Fatalf("error %v, want ErrFutureBlock", err)
			}
			if !tc.refused {
				if head, _ := importer.chain.Head(); head.Hash() != block.Hash() {
					t.Fatalf("importer head %x, want %x", head.Hash(), block.Hash())
				}
			}
		})
	}
}

// TestIntervalMining: with a block time, transactions wait for the next
// block, which holds all of them.
func TestIntervalMining(t *testing.T) {
	f := newFixture(t, 50*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.seq.Run(ctx)
	for i := uint64(0); i < 3; i++ {
		if err := f.seq.Submit(ctx, f.transfer(i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, err := f.chain.Receipt(f.transfer(2).Hash()); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	total := 0
	head, _ := f.chain.Head()
	for n := uint64(1); n <= head.NumberU64(); n++ {
		total += len(f.chain.BlockByNumber(n).Transactions())
	}
	if total != 3 {
		t.Fatalf("%d transactions mined in %d blocks", total, head.NumberU64())
	}
}
