package l1_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/l1/batcher"
	"github.com/infergeth/infergeth/l1/l1test"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/l1/submit"
	"github.com/infergeth/infergeth/l1/verifier"
)

var (
	batcherKey = l1test.Key("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
	otherKey   = l1test.Key("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a")
)

// l1Sim is geth's simulated L1, mining every few milliseconds.
type l1Sim struct {
	backend *simulated.Backend
	client  l1.Client
	stop    chan struct{}
	done    chan struct{}
}

func newL1(t *testing.T, autoMine bool) *l1Sim {
	t.Helper()
	funded := new(big.Int).Mul(big.NewInt(1e18), big.NewInt(1000))
	backend := simulated.NewBackend(map[common.Address]types.Account{
		crypto.PubkeyToAddress(batcherKey.PublicKey): {Balance: funded},
		crypto.PubkeyToAddress(otherKey.PublicKey):   {Balance: funded},
	})
	s := &l1Sim{backend: backend, client: backend.Client(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(5 * time.Millisecond):
				if autoMine {
					backend.Commit()
				}
			}
		}
	}()
	t.Cleanup(func() { close(s.stop); <-s.done; backend.Close() })
	return s
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	l1     *l1Sim
	l2     *l1test.L2
	oracle common.Address
	set    oracle.Settings
}

// newFixture deploys an oracle (outputs every interval blocks) for a fresh
// in-process L2.
func newFixture(t *testing.T, interval uint64) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	l2, err := l1test.NewL2()
	if err != nil {
		t.Fatal(err)
	}
	sim := newL1(t, true)
	sender, err := submit.New(ctx, sim.client, submit.Config{Key: batcherKey, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	set := oracle.Settings{
		L2GenesisHash: l2.Chain.Genesis().Hash(), Batcher: sender.From(), Proposer: sender.From(),
		Inbox: l1.InboxFor(l2.Config.ChainID().Uint64()), Interval: interval,
	}
	addr, err := oracle.Deploy(ctx, sender, set)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := oracle.New(sim.client, addr)
	if set, err = o.Settings(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, l1: sim, l2: l2, oracle: addr, set: set}
}

func (f *fixture) mine(txs ...*types.Transaction) *types.Block {
	f.t.Helper()
	b, err := f.l2.Mine(txs...)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// traffic mines n blocks alternating transfers and inference calls.
func (f *fixture) traffic(n int) {
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			f.mine(f.l2.Transfer(common.HexToAddress("0x1234"), int64(i+1)), f.l2.Transfer(common.HexToAddress("0x5678"), 1))
		} else {
			f.mine(f.l2.InferenceTx())
		}
	}
}

func (f *fixture) batcher(maxFrame int) *batcher.Batcher {
	f.t.Helper()
	b, err := batcher.New(f.ctx, f.l1.client, f.l2.Chain, f.l2.Builder, batcher.Config{
		Oracle: f.oracle, BatcherKey: batcherKey, MaxFrameData: maxFrame,
		Submit: submit.Config{PollInterval: 5 * time.Millisecond},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := b.Resume(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) verify() *verifier.Report {
	f.t.Helper()
	chain, exec, err := l1test.OpenVerifierChain(f.l2.Config, f.l2.Genesis, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	rep, err := verifier.Verify(f.ctx, f.l1.client, chain, exec, verifier.Config{Oracle: f.oracle, Inbox: f.set.Inbox, Batcher: f.set.Batcher})
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// TestSettlementRoundTrip: blocks with transfers and inference calls are
// posted with outputs every 4 blocks; a verifier with nothing but the L1
// and the genesis rebuilds every block and agrees with every output.
func TestSettlementRoundTrip(t *testing.T) {
	f := newFixture(t, 4)
	f.traffic(9)
	b := f.batcher(300) // small frames: channels of several frames
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.traffic(4)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	if b.Posted() != 13 || b.Proposed() != 12 {
		t.Fatalf("posted %d, proposed %d; want 13, 12", b.Posted(), b.Proposed())
	}
	rep := f.verify()
	if !rep.Agrees() || rep.Head != 13 || rep.Executed != 13 || len(rep.Outputs) != 3 || len(rep.Skips) != 0 {
		t.Fatalf("report: agrees %v head %d executed %d outputs %d skips %v divergence %v", rep.Agrees(), rep.Head, rep.Executed, len(rep.Outputs), rep.Skips, rep.Divergence)
	}
	for i, o := range rep.Outputs {
		want := f.l2.Chain.BlockByNumber(uint64(4 * (i + 1)))
		if !o.Agrees || o.Computed != want.Root() || o.BlockHash != want.Hash() {
			t.Fatalf("output %d: %+v, sequencer's root %s", i, o, want.Root())
		}
	}
}

// TestTamperedInferenceCaught: from block 6 the sequencer's inference
// answers are wrong (its state roots follow them, and it posts them). The
// verifier names block 6 and its inference transaction, and the first
// output that differs, for block 8.
func TestTamperedInferenceCaught(t *testing.T) {
	f := newFixture(t, 4)
	f.traffic(5) // blocks 1-5, honest
	f.l2.Tamper.Store(true)
	transfer := f.l2.Transfer(common.HexToAddress("0x99"), 1)
	bad := f.l2.InferenceTx()
	f.mine(transfer, bad) // block 6
	f.traffic(4)          // blocks 7-10
	b := f.batcher(0)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	rep := f.verify()
	d := rep.Divergence
	if rep.Agrees() || d == nil {
		t.Fatal("tampering not caught")
	}
	if d.Block != 6 || d.Tx != bad.Hash() || d.TxIndex != 1 || d.Posted != f.l2.Chain.BlockByNumber(6).Root() || d.Computed == d.Posted {
		t.Fatalf("divergence %s, want block 6, tx %s", d, bad.Hash())
	}
	if rep.FirstBadOutput == nil || rep.FirstBadOutput.L2Block != 8 {
		t.Fatalf("first bad output %+v, want block 8", rep.FirstBadOutput)
	}
	if !rep.Outputs[0].Agrees {
		t.Fatal("the output of block 4, before the tampering, should agree")
	}
}

// TestGarbageSkippedAlike: the batcher key sends malformed data to the
// inbox between good batches; every verifier skips the same things for the
// same reasons and rebuilds the chain. A well-formed batch of a forged
// block sent by another key is ignored without a trace.
func TestGarbageSkippedAlike(t *testing.T) {
	f := newFixture(t, 2)
	f.traffic(2)
	b := f.batcher(0)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	inbox := f.set.Inbox
	send := func(key any, data []byte) {
		t.Helper()
		s, err := submit.New(f.ctx, f.l1.client, submit.Config{Key: key.(*ecdsa.PrivateKey), PollInterval: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(f.ctx, &inbox, data); err != nil {
			t.Fatal(err)
		}
	}
	// A forged batch for block 3 from another key: well-formed, ignored.
	forged := &batch.Batch{ParentHash: f.l2.Chain.BlockByNumber(2).Hash(), First: 3, Blocks: []batch.Block{{Time: 1, StateRoot: common.HexToHash("0x66")}}}
	data, err := batch.Compress(forged)
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := batch.Split(data, 0)
	send(otherKey, batch.MarshalFrames(frames...))
	// Garbage from the batcher key.
	good := batch.MarshalFrames(batch.Frame{Channel: batch.ChannelID{9}, Data: []byte("not zlib"), IsLast: true})
	garbage := [][]byte{
		{0x01, 0x02},                // unknown version
		good[:len(good)-3],          // truncated
		append(good[:1:1], good...), // junk after the version byte
		good,                        // a complete channel that does not decompress
		{batch.Version0},            // no frames
	}
	for _, g := range garbage {
		send(batcherKey, g)
	}
	f.traffic(2)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	r1, r2 := f.verify(), f.verify()
	if !r1.Agrees() || r1.Head != 4 || len(r1.Outputs) != 2 {
		t.Fatalf("report: agrees %v head %d outputs %d divergence %v", r1.Agrees(), r1.Head, len(r1.Outputs), r1.Divergence)
	}
	if len(r1.Skips) != len(garbage) {
		t.Fatalf("%d skips for %d garbage transactions: %v", len(r1.Skips), len(garbage), r1.Skips)
	}
	for _, s := range r1.Skips {
		if strings.Contains(s.Reason, "0x66") {
			t.Fatalf("the other key's batch was read: %v", s)
		}
	}
	if !reflect.DeepEqual(r1.Skips, r2.Skips) {
		t.Fatalf("two verifiers skipped differently:\n%v\n%v", r1.Skips, r2.Skips)
	}
}

// TestResumeAfterCrashMidChannel: a batcher posts the first frames of a
// channel and dies. A new batcher, knowing nothing, reads the L1, sees no
// complete channel for those blocks, and posts them again in a new one;
// the verifier derives every block exactly once (no gap, no duplicate).
func TestResumeAfterCrashMidChannel(t *testing.T) {
	f := newFixture(t, 3)
	f.traffic(3)
	first := f.batcher(200)
	if err := first.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.traffic(5) // blocks 4-8
	// What the first batcher would post next, cut short after two frames.
	bt := &batch.Batch{ParentHash: f.l2.Chain.BlockByNumber(3).Hash(), First: 4}
	for n := uint64(4); n <= 8; n++ {
		blk, err := batch.FromBlock(f.l2.Builder, f.l2.Chain.BlockByNumber(n-1).Header(), f.l2.Chain.BlockByNumber(n))
		if err != nil {
			t.Fatal(err)
		}
		bt.Blocks = append(bt.Blocks, blk)
	}
	data, _ := batch.Compress(bt)
	frames, _ := batch.Split(data, 200)
	if len(frames) < 3 {
		t.Fatalf("%d frames; the test needs a channel of at least 3", len(frames))
	}
	s, _ := submit.New(f.ctx, f.l1.client, submit.Config{Key: batcherKey, PollInterval: 5 * time.Millisecond})
	inbox := f.set.Inbox
	for _, fr := range frames[:2] {
		if _, err := s.Send(f.ctx, &inbox, batch.MarshalFrames(fr)); err != nil {
			t.Fatal(err)
		}
	}
	// Restart: the new batcher learns from the L1 alone.
	second := f.batcher(200)
	if second.Posted() != 3 || second.Proposed() != 3 {
		t.Fatalf("resumed at posted %d, proposed %d; want 3, 3", second.Posted(), second.Proposed())
	}
	if err := second.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.traffic(1)
	if err := second.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	rep := f.verify()
	if !rep.Agrees() || rep.Head != 9 || rep.Executed != 9 || len(rep.Outputs) != 3 {
		t.Fatalf("report: agrees %v head %d executed %d outputs %d divergence %v", rep.Agrees(), rep.Head, rep.Executed, len(rep.Outputs), rep.Divergence)
	}
	for _, sk := range rep.Skips {
		if strings.Contains(sk.Reason, "already derived") || strings.Contains(sk.Reason, "gap") {
			t.Fatalf("a block was posted twice or skipped: %v", sk)
		}
	}
	// A third start finds everything posted and posts nothing more.
	third := f.batcher(200)
	if third.Posted() != 9 || third.Proposed() != 9 {
		t.Fatalf("third start at posted %d, proposed %d; want 9, 9", third.Posted(), third.Proposed())
	}
}

// TestHeaderFieldsRoundTrip: blocks whose engine chose another coinbase,
// gas limit, base fee, randomness or the parent's timestamp are posted
// with those fields and rebuilt with the sequencer's exact block hashes.
func TestHeaderFieldsRoundTrip(t *testing.T) {
	f := newFixture(t, 5)
	edits := []func(*core.BuildAttrs){
		func(a *core.BuildAttrs) { a.Coinbase = common.HexToAddress("0xc0ffee") },
		func(a *core.BuildAttrs) { a.GasLimit = 25_000_000 },
		func(a *core.BuildAttrs) { a.BaseFee = big.NewInt(7) },
		func(a *core.BuildAttrs) { a.Random = common.HexToHash("0x5eed") },
		func(a *core.BuildAttrs) { a.Timestamp-- }, // same second as the parent
	}
	for _, edit := range edits {
		if _, err := f.l2.MineWith(edit, f.l2.Transfer(common.HexToAddress("0x77"), 1)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.batcher(0)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	rep := f.verify()
	if !rep.Agrees() || rep.Head != 5 || len(rep.Outputs) != 1 || rep.Outputs[0].BlockHash != f.l2.Chain.BlockByNumber(5).Hash() {
		t.Fatalf("report: agrees %v head %d outputs %+v divergence %v", rep.Agrees(), rep.Head, rep.Outputs, rep.Divergence)
	}
}

// TestVerifierContinuesItsChain: a second run on the verifier's own chain
// checks the blocks it has against the L1 and executes only the new ones.
func TestVerifierContinuesItsChain(t *testing.T) {
	f := newFixture(t, 2)
	f.traffic(3)
	b := f.batcher(0)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	chain, exec, err := l1test.OpenVerifierChain(f.l2.Config, f.l2.Genesis, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := verifier.Config{Oracle: f.oracle, Inbox: f.set.Inbox, Batcher: f.set.Batcher}
	first, err := verifier.Verify(f.ctx, f.l1.client, chain, exec, cfg)
	if err != nil || !first.Agrees() || first.Executed != 3 {
		t.Fatalf("first run: %+v, %v", first, err)
	}
	f.traffic(2)
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	second, err := verifier.Verify(f.ctx, f.l1.client, chain, exec, cfg)
	if err != nil || !second.Agrees() || second.Executed != 2 || second.Head != 5 || len(second.Outputs) != 2 {
		t.Fatalf("second run: executed %d head %d outputs %d agrees %v, %v", second.Executed, second.Head, len(second.Outputs), second.Agrees(), err)
	}
}

// TestLargeBlocksSplitAcrossChannels: when blocks do not fit one channel's
// batch budget, the batcher posts them in several channels, in order.
func TestLargeBlocksSplitAcrossChannels(t *testing.T) {
	f := newFixture(t, 3)
	for i := 0; i < 6; i++ {
		f.mine(f.l2.InferenceTx(), f.l2.InferenceTx())
	}
	b, err := batcher.New(f.ctx, f.l1.client, f.l2.Chain, f.l2.Builder, batcher.Config{
		Oracle: f.oracle, BatcherKey: batcherKey, MaxBatchBytes: 1000,
		Submit: submit.Config{PollInterval: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Resume(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	rep := f.verify()
	if !rep.Agrees() || rep.Head != 6 || len(rep.Outputs) != 2 {
		t.Fatalf("report: agrees %v head %d outputs %d divergence %v", rep.Agrees(), rep.Head, len(rep.Outputs), rep.Divergence)
	}
	// Blocks of two ~375-byte transactions (~900 bytes with the block's
	// overhead), a 1000-byte budget: one block per channel, so the L1
	// holds 6 channels after the deployment.
	n, err := f.l1.client.NonceAt(f.ctx, crypto.PubkeyToAddress(batcherKey.PublicKey), nil)
	if err != nil || n < 1+6+2 {
		t.Fatalf("batcher nonce %d (%v); want at least 9 (deploy, 6 channels, 2 outputs)", n, err)
	}
}
