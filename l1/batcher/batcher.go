// Package batcher is the L1 poster a node starts: it posts every finalized
// L2 block's data to the inbox (package batch's format) and, every
// Interval blocks, the block's output (state root and hash) to the output
// oracle.
//
// It is stateless, as op-batcher is: it keeps nothing on disk. On start it
// waits until none of its L1 transactions is pending, then reads the L1
// through the same derivation the verifiers run (package derive) to learn
// the last L2 block posted, and the oracle for the next output due. A
// channel cut short by a crash never completes, so verifiers ignore it and
// its blocks are posted again in a new channel: nothing is lost, and no
// block is in two complete channels.
package batcher

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/l1/derive"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/l1/submit"
)

// Chain is what the batcher reads of the L2: finalized blocks. On the dev
// engine every committed block is final; on the validator network, every
// block CometBFT committed.
type Chain interface {
	Genesis() *types.Block
	Head() (*types.Block, common.Hash)
	BlockByNumber(number uint64) *types.Block
	// PreStateRoot is the state block was executed on; it differs from
	// the parent's root after a devnet state edit, which the L1 cannot
	// carry.
	PreStateRoot(block *types.Block) (common.Hash, error)
	// Senders knows the transactions sent for an impersonated account
	// (devnet), whose placeholder signatures no verifier can recover.
	Senders() *core.Senders
}

// Config configures the batcher and the proposer.
type Config struct {
	// Oracle is the output oracle; the inbox, the batcher and proposer
	// accounts, the interval and the L2 genesis come from it.
	Oracle common.Address
	// BatcherKey signs batches; ProposerKey outputs (nil: BatcherKey).
	BatcherKey, ProposerKey *ecdsa.PrivateKey
	// MaxFrameData bounds a frame (an L1 transaction's payload); 0 is
	// batch.MaxFrameData.
	MaxFrameData int
	// MaxBlocks bounds the blocks of one channel (default 256).
	MaxBlocks int
	// MaxBatchBytes bounds a channel's batch data before compression
	// (default 12 MiB, below the format's 16 MiB).
	MaxBatchBytes int
	// PollInterval is how often the L2 head is looked at (default 250ms).
	PollInterval time.Duration
	// Submit tunes the L1 senders (keys are set from the fields above).
	Submit submit.Config
	Log    *slog.Logger
}

// Batcher posts batches and outputs.
type Batcher struct {
	client   l1.Client
	chain    Chain
	rule     batch.HeaderRule
	cfg      Config
	log      *slog.Logger
	oracle   *oracle.Oracle
	settings oracle.Settings

	batches, outputs *submit.Sender

	posted   atomic.Uint64 // last L2 block in a complete channel on the L1
	tip      common.Hash   // hash of the block at posted (run goroutine only)
	proposed atomic.Uint64 // last L2 block with an output on the L1
}

// New checks cfg against the oracle: the keys must be its batcher and
// proposer, and the L2 genesis its genesis.
func New(ctx context.Context, client l1.Client, chain Chain, rule batch.HeaderRule, cfg Config) (*Batcher, error) {
	if cfg.BatcherKey == nil {
		return nil, errors.New("batcher: no batcher key")
	}
	if cfg.ProposerKey == nil {
		cfg.ProposerKey = cfg.BatcherKey
	}
	if cfg.MaxBlocks <= 0 || cfg.MaxBlocks > batch.MaxBlocks {
		cfg.MaxBlocks = 256
	}
	if cfg.MaxBatchBytes <= 0 || cfg.MaxBatchBytes > maxChannelBatch {
		cfg.MaxBatchBytes = maxChannelBatch
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	o, err := oracle.New(client, cfg.Oracle)
	if err != nil {
		return nil, err
	}
	s, err := o.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if g := chain.Genesis().Hash(); g != s.L2GenesisHash {
		return nil, fmt.Errorf("batcher: the oracle at %s is for L2 genesis %s, this chain's is %s", cfg.Oracle, s.L2GenesisHash, g)
	}
	if a := crypto.PubkeyToAddress(cfg.BatcherKey.PublicKey); a != s.Batcher {
		return nil, fmt.Errorf("batcher: key is for %s, the oracle's batcher is %s", a, s.Batcher)
	}
	if a := crypto.PubkeyToAddress(cfg.ProposerKey.PublicKey); a != s.Proposer {
		return nil, fmt.Errorf("batcher: proposer key is for %s, the oracle's proposer is %s", a, s.Proposer)
	}
	b := &Batcher{client: client, chain: chain, rule: rule, cfg: cfg, log: cfg.Log, oracle: o, settings: s}
	sc := cfg.Submit
	sc.Key, sc.Log = cfg.BatcherKey, cfg.Log
	if b.batches, err = submit.New(ctx, client, sc); err != nil {
		return nil, err
	}
	b.outputs = b.batches
	if s.Proposer != s.Batcher {
		sc.Key = cfg.ProposerKey
		if b.outputs, err = submit.New(ctx, client, sc); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Settings are the oracle's.
func (b *Batcher) Settings() oracle.Settings { return b.settings }

// Posted is the last L2 block whose data is on the L1.
func (b *Batcher) Posted() uint64 { return b.posted.Load() }

// Proposed is the last L2 block whose output is on the L1.
func (b *Batcher) Proposed() uint64 { return b.proposed.Load() }

// Run posts until ctx ends. Failures are logged and retried; after one,
// the batcher works out again from the L1 where it stands.
func (b *Batcher) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := b.run(ctx)
		if ctx.Err() != nil {
			break
		}
		b.log.Error("l1 batcher failed; resuming from the L1", "err", err)
		if sleep(ctx, 2*time.Second) != nil {
			break
		}
	}
	return nil
}

func (b *Batcher) run(ctx context.Context) error {
	if err := b.Resume(ctx); err != nil {
		return err
	}
	for {
		if err := b.Step(ctx); err != nil {
			return err
		}
		if err := sleep(ctx, b.cfg.PollInterval); err != nil {
			return err
		}
	}
}

// Resume learns from the L1 what is posted: it waits for the batcher's
// and proposer's pending transactions to be mined, then derives the
// batches on the L1 and checks them against the local chain.
func (b *Batcher) Resume(ctx context.Context) error {
	for _, s := range []*submit.Sender{b.batches, b.outputs} {
		if err := s.WaitIdle(ctx, time.Minute); err != nil {
			return err
		}
	}
	head, err := b.client.BlockNumber(ctx)
	if err != nil {
		return fmt.Errorf("l1 head: %w", err)
	}
	r, err := derive.NewReader(ctx, b.client, derive.Config{Inbox: b.settings.Inbox, Batcher: b.settings.Batcher, StartBlock: b.settings.StartBlock, Log: b.log})
	if err != nil {
		return err
	}
	err = r.ReadTo(ctx, head, func(bt *batch.Batch) error {
		parent := b.chain.BlockByNumber(bt.First - 1)
		if parent == nil || parent.Hash() != bt.ParentHash {
			return fmt.Errorf("the L1 holds L2 blocks %d-%d on parent %s, which this chain does not have", bt.First, bt.Last(), bt.ParentHash)
		}
		for i := range bt.Blocks {
			n := bt.First + uint64(i)
			local := b.chain.BlockByNumber(n)
			if local == nil || local.Root() != bt.Blocks[i].StateRoot {
				return fmt.Errorf("the L1 holds an L2 block %d this chain does not have", n)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	next, err := b.oracle.NextBlockNumber(ctx)
	if err != nil {
		return err
	}
	b.posted.Store(r.NextL2() - 1)
	b.tip = b.chain.BlockByNumber(b.Posted()).Hash()
	b.proposed.Store(next - b.settings.Interval)
	b.log.Info("l1 batcher resumed", "posted", b.Posted(), "proposed", b.Proposed(), "l1Head", head)
	return nil
}

// Step posts what is finalized and not yet posted, then the outputs due.
func (b *Batcher) Step(ctx context.Context) error {
	head, _ := b.chain.Head()
	if at := b.chain.BlockByNumber(b.Posted()); at == nil || at.Hash() != b.tip {
		return fmt.Errorf("L2 block %d, already posted, is no longer on the chain (evm_revert?): the L1 cannot take it back", b.Posted())
	}
	for b.Posted() < head.NumberU64() {
		last := min(head.NumberU64(), b.Posted()+uint64(b.cfg.MaxBlocks))
		if err := b.postBlocks(ctx, b.Posted()+1, last); err != nil {
			return err
		}
	}
	for {
		next := b.Proposed() + b.settings.Interval
		if next > b.Posted() {
			return nil
		}
		if err := b.propose(ctx, next); err != nil {
			return err
		}
	}
}

// maxChannelBatch bounds the batch RLP of one channel, below the format's
// batch.MaxBatchBytes (a block alone is smaller: an L2 block's calldata is
// bounded by its gas limit).
const maxChannelBatch = batch.MaxBatchBytes * 3 / 4

// postBlocks posts L2 blocks first..last (fewer when they are too large for
// one channel) as one channel.
func (b *Batcher) postBlocks(ctx context.Context, first, last uint64) error {
	parent := b.chain.BlockByNumber(first - 1)
	if parent == nil {
		return fmt.Errorf("L2 block %d missing", first-1)
	}
	bt := &batch.Batch{ParentHash: parent.Hash(), First: first}
	size := 0
	for n := first; n <= last; n++ {
		block := b.chain.BlockByNumber(n)
		if block == nil {
			return fmt.Errorf("L2 block %d missing", n)
		}
		if pre, err := b.chain.PreStateRoot(block); err != nil || pre != parent.Root() {
			return fmt.Errorf("L2 block %d was built on an edited state (anvil_set*/hardhat_set*), which the L1 cannot carry", n)
		}
		for _, tx := range block.Transactions() {
			if _, ok := b.chain.Senders().Recorded(tx.Hash()); ok {
				return fmt.Errorf("L2 block %d holds transaction %s sent for an impersonated account, which no verifier can recover", n, tx.Hash())
			}
		}
		blk, err := batch.FromBlock(b.rule, parent.Header(), block)
		if err != nil {
			return err
		}
		blockSize := 128 // time, roots, overrides, list headers
		for _, raw := range blk.Txs {
			blockSize += len(raw) + 8
		}
		if len(bt.Blocks) > 0 && size+blockSize > b.cfg.MaxBatchBytes {
			last = n - 1 // the rest goes in the next channel
			break
		}
		size += blockSize
		bt.Blocks = append(bt.Blocks, blk)
		parent = block
	}
	data, err := batch.Compress(bt)
	if err != nil {
		return fmt.Errorf("L2 blocks %d-%d: %w", first, last, err)
	}
	frames, err := batch.Split(data, b.cfg.MaxFrameData)
	if err != nil {
		return fmt.Errorf("L2 blocks %d-%d: %w", first, last, err)
	}
	inbox := b.settings.Inbox
	for _, f := range frames {
		if _, err := b.batches.Send(ctx, &inbox, batch.MarshalFrames(f)); err != nil {
			return fmt.Errorf("L2 blocks %d-%d, frame %d of %d: %w", first, last, f.Number, len(frames), err)
		}
	}
	b.posted.Store(last)
	b.tip = parent.Hash()
	b.log.Info("l1: posted L2 blocks", "first", first, "last", last, "frames", len(frames), "bytes", len(data))
	return nil
}

func (b *Batcher) propose(ctx context.Context, number uint64) error {
	block := b.chain.BlockByNumber(number)
	if block == nil {
		return fmt.Errorf("L2 block %d missing", number)
	}
	out := oracle.Output{L2Block: number, StateRoot: block.Root(), BlockHash: block.Hash()}
	data, err := b.oracle.ProposeCalldata(out)
	if err != nil {
		return err
	}
	to := b.oracle.Address()
	if _, err := b.outputs.Send(ctx, &to, data); err != nil {
		return fmt.Errorf("output of L2 block %d: %w", number, err)
	}
	b.proposed.Store(number)
	b.log.Info("l1: posted output", "l2Block", number, "stateRoot", block.Root())
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
