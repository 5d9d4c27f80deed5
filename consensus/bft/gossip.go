package bft

import (
	"context"
	"errors"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/core"
)

// maxGossipQueue bounds the transactions waiting to be handed to CometBFT
// for broadcast; beyond it the oldest are dropped (peers still get them
// from whichever node re-announces them, and the sender can resend).
const maxGossipQueue = 16384

// Result codes of InsertTx and CheckTx.
const (
	codeRejected uint32 = 1
)

// gossip hands the pool's newly executable transactions to CometBFT's app
// mempool, which broadcasts them to peers (ReapTxs), and takes the
// transactions peers send into the pool (InsertTx).
type gossip struct {
	pool *core.Pool

	mu    sync.Mutex
	queue []*types.Transaction
}

func newGossip(pool *core.Pool) *gossip { return &gossip{pool: pool} }

// run queues every transaction the pool promotes until ctx ends.
func (g *gossip) run(ctx context.Context) {
	ch := make(chan gethcore.NewTxsEvent, 256)
	sub := g.pool.SubscribeNewTxs(ch)
	defer sub.Unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Err():
			return
		case ev := <-ch:
			g.mu.Lock()
			g.queue = append(g.queue, ev.Txs...)
			if over := len(g.queue) - maxGossipQueue; over > 0 {
				g.queue = append(g.queue[:0], g.queue[over:]...)
			}
			g.mu.Unlock()
		}
	}
}

// reap takes queued transactions up to maxBytes of encoding (all when
// maxBytes is not positive).
func (g *gossip) reap(maxBytes int64) [][]byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out [][]byte
	var size int64
	n := 0
	for ; n < len(g.queue); n++ {
		enc, err := g.queue[n].MarshalBinary()
		if err != nil {
			continue
		}
		if maxBytes > 0 && size+int64(len(enc)) > maxBytes && len(out) > 0 {
			break
		}
		size += int64(len(enc))
		out = append(out, enc)
	}
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return out
}

// insert decodes a transaction and adds it to the pool, answering an ABCI
// code: already known is success (a peer re-announced it).
func (g *gossip) insert(raw []byte) (uint32, string) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return codeRejected, "decode transaction: " + err.Error()
	}
	if err := g.pool.Add(tx); err != nil {
		if errors.Is(err, txpool.ErrAlreadyKnown) {
			return abci.CodeTypeOK, ""
		}
		return codeRejected, err.Error()
	}
	return abci.CodeTypeOK, ""
}

// InsertTx takes a transaction a peer gossiped.
func (a *App) InsertTx(_ context.Context, req *abci.RequestInsertTx) (*abci.ResponseInsertTx, error) {
	code, _ := a.gossip.insert(req.Tx)
	return &abci.ResponseInsertTx{Code: code}, nil
}

// CheckTx takes a transaction sent through CometBFT's own RPC.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	code, log := a.gossip.insert(req.Tx)
	return &abci.ResponseCheckTx{Code: code, Log: log}, nil
}

// ReapTxs hands CometBFT the transactions to broadcast.
func (a *App) ReapTxs(_ context.Context, req *abci.RequestReapTxs) (*abci.ResponseReapTxs, error) {
	return &abci.ResponseReapTxs{Txs: a.gossip.reap(int64(min(req.MaxBytes, 1<<40)))}, nil
}
