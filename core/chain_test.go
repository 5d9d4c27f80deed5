package core

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/ethdb/pebble"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

var testKey, _ = crypto.HexToECDSA("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")

func testGenesisSpec(config *params.ChainConfig) GenesisSpec {
	return GenesisSpec{
		Config: config, Funded: []common.Address{crypto.PubkeyToAddress(testKey.PublicKey)}, Balance: big.NewInt(1e18),
		GasLimit: 30_000_000, BaseFee: big.NewInt(1e9), Timestamp: 1_700_000_000, Predeploys: StandardPredeploys(),
	}
}

func openPebble(t *testing.T, dir string) ethdb.Database {
	t.Helper()
	kv, err := pebble.New(dir, 16, 16, "test/", false)
	if err != nil {
		t.Fatal(err)
	}
	return rawdb.NewDatabase(kv)
}

func openTestChain(t *testing.T, db ethdb.Database) *Chain {
	t.Helper()
	config := params.DevnetConfig(31337)
	g, err := testGenesisSpec(config).Genesis()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenChain(db, config, g, true)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// buildTransfer builds and commits a block with one transfer.
func buildTransfer(t *testing.T, c *Chain, nonce uint64) (*types.Block, *types.Transaction) {
	t.Helper()
	to := common.HexToAddress("0x1234")
	tx, _ := types.SignNewTx(testKey, types.LatestSigner(c.Config().Ethereum), &types.DynamicFeeTx{
		ChainID: c.Config().ChainID(), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 21000, To: &to, Value: big.NewInt(7),
	})
	exec := NewExecutor(c.Config(), vm.NewFactory(), c, c.Senders())
	head, _ := c.Head()
	built, err := NewBuilder(c, exec).Build(context.Background(), BuildAttrs{Timestamp: head.Time() + 1}, []*types.Transaction{tx}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Refused) > 0 {
		t.Fatalf("refused: %v", built.Refused)
	}
	if err := c.Commit(built.Block, built.Receipts, built.State); err != nil {
		t.Fatal(err)
	}
	return built.Block, tx
}

// TestChainReopens: blocks, receipts, the transaction index and the head
// state written to pebble are all there after closing and reopening.
func TestChainReopens(t *testing.T) {
	dir := t.TempDir()
	db := openPebble(t, dir)
	c := openTestChain(t, db)
	var txs []*types.Transaction
	var last *types.Block
	for i := uint64(0); i < 3; i++ {
		b, tx := buildTransfer(t, c, i)
		txs, last = append(txs, tx), b
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openPebble(t, dir)
	defer db.Close()
	c = openTestChain(t, db)
	head, root := c.Head()
	if head.Hash() != last.Hash() || root != last.Root() {
		t.Fatalf("head %d %x, want %d %x", head.NumberU64(), head.Hash(), last.NumberU64(), last.Hash())
	}
	for i, tx := range txs {
		r, b, err := c.Receipt(tx.Hash())
		if err != nil || r.Status != types.ReceiptStatusSuccessful || b.NumberU64() != uint64(i+1) || r.BlockHash != b.Hash() {
			t.Fatalf("tx %d: receipt %+v in %v: %v", i, r, b, err)
		}
	}
	st, err := c.StateAt(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.GetBalance(common.HexToAddress("0x1234")).Uint64(); got != 21 {
		t.Fatalf("balance %d, want 21", got)
	}
}

// TestOpenRefusesOtherChainID: a datadir keeps its chain.
func TestOpenRefusesOtherChainID(t *testing.T) {
	dir := t.TempDir()
	db := openPebble(t, dir)
	c := openTestChain(t, db)
	c.Close()
	db.Close()
	db = openPebble(t, dir)
	defer db.Close()
	if _, err := OpenChain(db, params.DevnetConfig(1), nil, true); err == nil {
		t.Fatal("opened a chain-id 31337 database as chain 1")
	}
}

// TestProcessRefusesTamperedBlocks: re-execution catches a header that
// lies about the state root or gas used.
func TestProcessRefusesTamperedBlocks(t *testing.T) {
	src := openTestChain(t, rawdb.NewMemoryDatabase())
	block, _ := buildTransfer(t, src, 0)
	for _, tc := range []struct {
		name   string
		tamper func(h *types.Header)
	}{
		{"honest", func(*types.Header) {}},
		{"state root", func(h *types.Header) { h.Root = common.Hash{1} }},
		{"gas used", func(h *types.Header) { h.GasUsed++ }},
		{"timestamp", func(h *types.Header) { h.Time++ }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := openTestChain(t, rawdb.NewMemoryDatabase())
			h := types.CopyHeader(block.Header())
			tc.tamper(h)
			b := types.NewBlockWithHeader(h).WithBody(*block.Body())
			exec := NewExecutor(dst.Config(), vm.NewFactory(), dst, dst.Senders())
			_, root := dst.Head()
			st, _ := dst.StateAt(root)
			_, _, err := exec.Process(context.Background(), b, st)
			if tc.name == "honest" {
				if err != nil {
					t.Fatalf("honest block refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidBlock) {
				t.Fatalf("tampered %s accepted: %v", tc.name, err)
			}
		})
	}
}

var _ = time.Now

// TestReceiptsFromMemoryEqualDisk: receipts a node serves right after
// mining (from its cache) carry the same derived fields as those read back
// from the database.
func TestReceiptsFromMemoryEqualDisk(t *testing.T) {
	dir := t.TempDir()
	db := openPebble(t, dir)
	c := openTestChain(t, db)
	block, tx := buildTransfer(t, c, 0)
	fresh, _, err := c.Receipt(tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	db.Close()
	db = openPebble(t, dir)
	defer db.Close()
	c = openTestChain(t, db)
	stored, _, err := c.Receipt(tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := fresh.MarshalJSON()
	b, _ := stored.MarshalJSON()
	if string(a) != string(b) {
		t.Fatalf("block %d receipt differs:\n memory %s\n disk   %s", block.NumberU64(), a, b)
	}
	if fresh.EffectiveGasPrice == nil || fresh.EffectiveGasPrice.Sign() == 0 {
		t.Fatalf("effective gas price %v", fresh.EffectiveGasPrice)
	}
}
