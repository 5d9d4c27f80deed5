package oracle

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/infergeth/infergeth/l1/submit"
)

// TestOracleRules: only the proposer posts, only for the next block due,
// never a zero root; the settings read back are those deployed.
func TestOracleRules(t *testing.T) {
	proposerKey, _ := crypto.GenerateKey()
	strangerKey, _ := crypto.GenerateKey()
	fund := new(big.Int).Mul(big.NewInt(1e18), big.NewInt(10))
	backend := simulated.NewBackend(types.GenesisAlloc{
		crypto.PubkeyToAddress(proposerKey.PublicKey): {Balance: fund},
		crypto.PubkeyToAddress(strangerKey.PublicKey): {Balance: fund},
	})
	defer backend.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				backend.Commit()
			}
		}
	}()
	client := backend.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	proposer, err := submit.New(ctx, client, submit.Config{Key: proposerKey, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := submit.New(ctx, client, submit.Config{Key: strangerKey, PollInterval: 5 * time.Millisecond})
	want := Settings{L2GenesisHash: common.HexToHash("0x9e"), Batcher: common.HexToAddress("0xba"), Inbox: common.HexToAddress("0xff01"), Proposer: proposer.From(), Interval: 5}
	if _, err := Deploy(ctx, proposer, Settings{Batcher: want.Batcher, Inbox: want.Inbox, Proposer: want.Proposer, Interval: 5}); err == nil {
		t.Fatal("deployed with a zero genesis hash")
	}
	addr, err := Deploy(ctx, proposer, want)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := New(client, addr)
	got, err := o.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want.StartBlock = got.StartBlock
	if got != want || got.StartBlock == 0 {
		t.Fatalf("settings %+v, want %+v", got, want)
	}
	post := func(s *submit.Sender, out Output) error {
		data, err := o.ProposeCalldata(out)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Send(ctx, &addr, data)
		return err
	}
	root, hash := common.HexToHash("0x01"), common.HexToHash("0x02")
	if err := post(stranger, Output{L2Block: 5, StateRoot: root, BlockHash: hash}); err == nil {
		t.Fatal("a stranger posted an output")
	}
	for _, n := range []uint64{0, 4, 10} {
		if err := post(proposer, Output{L2Block: n, StateRoot: root, BlockHash: hash}); err == nil {
			t.Fatalf("output for block %d accepted; only 5 is due", n)
		}
	}
	if err := post(proposer, Output{L2Block: 5, BlockHash: hash}); err == nil {
		t.Fatal("zero state root accepted")
	}
	if err := post(proposer, Output{L2Block: 5, StateRoot: root, BlockHash: hash}); err != nil {
		t.Fatal(err)
	}
	if err := post(proposer, Output{L2Block: 5, StateRoot: root, BlockHash: hash}); err == nil {
		t.Fatal("block 5 posted twice")
	}
	next, _ := o.NextBlockNumber(ctx)
	outs, err := o.Outputs(ctx)
	if err != nil || next != 10 || len(outs) != 1 || outs[0] != (Output{L2Block: 5, StateRoot: root, BlockHash: hash}) {
		t.Fatalf("next %d, outputs %+v, %v", next, outs, err)
	}
}
