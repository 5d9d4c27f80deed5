package derive

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
)

// Config says whose data to read.
type Config struct {
	// Inbox is the `to` of batcher transactions; Batcher their only
	// accepted sender. Transactions to the inbox from anyone else are
	// ignored without a word (anyone can send there).
	Inbox, Batcher common.Address
	// StartBlock is the first L1 block read (the oracle's deployment).
	StartBlock uint64
	Log        *slog.Logger
}

// Reader yields the batches in L2 block order, each continuing the last:
// a batch that does not start at the next L2 block is skipped (an older
// one duplicates what is derived, a later one leaves a gap).
type Reader struct {
	client l1.Client
	cfg    Config
	signer types.Signer
	bank   *Bank
	next   uint64 // next L1 block to read
	nextL2 uint64 // next L2 block a batch must start at
	skips  []Skip
}

// NewReader reads client's L1 from cfg.StartBlock.
func NewReader(ctx context.Context, client l1.Client, cfg Config) (*Reader, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("l1 chain id: %w", err)
	}
	return &Reader{client: client, cfg: cfg, signer: types.LatestSignerForChainID(id), bank: NewBank(), next: cfg.StartBlock, nextL2: 1}, nil
}

// NextL2 is the L2 block the next batch must start at: one past the last
// derived block.
func (r *Reader) NextL2() uint64 { return r.nextL2 }

// L1Next is the next L1 block to read.
func (r *Reader) L1Next() uint64 { return r.next }

// Incomplete counts the channels with frames on the L1 that are not (yet)
// complete.
func (r *Reader) Incomplete() int { return len(r.bank.channels) }

// Skips returns what was refused so far, in L1 order.
func (r *Reader) Skips() []Skip { return r.skips }

// ReadTo reads L1 blocks up to and including l1Head and calls fn with each
// batch that continues the derived chain, in order. An error (from the L1
// or from fn) stops the read, and leaves the Reader unusable: start a new
// one, which reads from the start again.
func (r *Reader) ReadTo(ctx context.Context, l1Head uint64, fn func(*batch.Batch) error) error {
	for ; r.next <= l1Head; r.next++ {
		block, err := r.client.BlockByNumber(ctx, new(big.Int).SetUint64(r.next))
		if err != nil {
			return fmt.Errorf("l1 block %d: %w", r.next, err)
		}
		var batches []*batch.Batch
		r.bank.Expire(r.next)
		for _, tx := range block.Transactions() {
			if tx.To() == nil || *tx.To() != r.cfg.Inbox {
				continue
			}
			if from, err := types.Sender(r.signer, tx); err != nil || from != r.cfg.Batcher {
				continue
			}
			frames, err := batch.ParseFrames(tx.Data())
			if err != nil {
				r.bank.skip(r.next, "tx %s: %v", tx.Hash(), err)
				continue
			}
			batches = append(batches, r.bank.Add(r.next, frames)...)
		}
		for _, bt := range batches {
			switch {
			case bt.First < r.nextL2:
				r.bank.skip(r.next, "batch of L2 blocks %d-%d: already derived up to %d", bt.First, bt.Last(), r.nextL2-1)
			case bt.First > r.nextL2:
				r.bank.skip(r.next, "batch of L2 blocks %d-%d: gap, the next block is %d", bt.First, bt.Last(), r.nextL2)
			default:
				if err := fn(bt); err != nil {
					return err
				}
				r.nextL2 = bt.Last() + 1
			}
		}
		for _, s := range r.bank.TakeSkips() {
			r.cfg.Log.Warn("l1: skipped batcher data", "l1Block", s.L1Block, "reason", s.Reason)
			r.skips = append(r.skips, s)
		}
	}
	return nil
}
