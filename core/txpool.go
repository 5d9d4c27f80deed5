package core

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/txpool/legacypool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/event"
	gethparams "github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// Pool is the transaction pool: geth's legacypool (nonce ordering, price
// bumps, the error strings client libraries parse), kept in step with the
// chain by the node rather than by geth's event loop, so that the pool has
// seen a block before the next transaction arrives.
type Pool struct {
	pool  *legacypool.LegacyPool
	chain *Chain
}

// poolChain is the view of the chain legacypool needs. The head it reports
// carries the head's current state root, which differs from the block's
// root after devnet state edits.
type poolChain struct{ c *Chain }

func (p poolChain) Config() *gethparams.ChainConfig { return p.c.config.Ethereum }

func (p poolChain) CurrentBlock() *types.Header {
	head, root := p.c.Head()
	h := head.Header()
	h.Root = root
	return h
}

func (p poolChain) GetBlock(hash common.Hash, number uint64) *types.Block {
	b := p.c.BlockByHash(hash)
	if b == nil || b.NumberU64() != number {
		return nil
	}
	return b
}

func (p poolChain) StateAt(root common.Hash, _ *big.Int, _ uint64) (*state.StateDB, error) {
	return p.c.StateAt(root)
}

// NewPool starts a pool on chain's head.
func NewPool(chain *Chain) (*Pool, error) {
	cfg := legacypool.DefaultConfig
	cfg.Journal = ""
	cfg.NoLocals = true
	cfg.PriceLimit = 0
	cfg.AccountSlots = 1024
	cfg.GlobalSlots = 8192
	cfg.AccountQueue = 1024
	cfg.GlobalQueue = 4096
	pc := poolChain{chain}
	lp := legacypool.New(cfg, pc)
	if err := lp.Init(0, pc.CurrentBlock(), txpool.NewReservationTracker().NewHandle(0)); err != nil {
		return nil, fmt.Errorf("txpool: %w", err)
	}
	return &Pool{pool: lp, chain: chain}, nil
}

// Add validates tx against the head state and queues it. The error is
// geth's, word for word ("nonce too low", "already known", ...).
func (p *Pool) Add(tx *types.Transaction) error {
	return p.pool.Add([]*types.Transaction{tx}, true)[0]
}

// Get returns a pooled transaction.
func (p *Pool) Get(hash common.Hash) *types.Transaction { return p.pool.Get(hash) }

// Nonce is the next nonce of addr with the pool's executable transactions
// applied: the "pending" nonce.
func (p *Pool) Nonce(addr common.Address) uint64 { return p.pool.Nonce(addr) }

// Pending returns executable transactions payable at baseFee, by sender.
func (p *Pool) Pending(baseFee *big.Int) map[common.Address][]*txpool.LazyTransaction {
	filter := txpool.PendingFilter{}
	if baseFee != nil {
		filter.BaseFee = uint256.MustFromBig(baseFee)
	}
	pending, _ := p.pool.Pending(filter)
	return pending
}

// Content returns pending and queued transactions by sender.
func (p *Pool) Content() (map[common.Address][]*types.Transaction, map[common.Address][]*types.Transaction) {
	return p.pool.Content()
}

// Sync brings the pool onto the chain's current head and head state,
// dropping what the head included. It returns after the pool has done so.
func (p *Pool) Sync() {
	// A nil old head skips legacypool's reorg walk: the devnet's chain only
	// grows, or is rewound on purpose (evm_revert), when Clear follows.
	p.pool.Reset(nil, poolChain{p.chain}.CurrentBlock())
}

// Clear drops every pooled transaction.
func (p *Pool) Clear() { p.pool.Clear() }

// SubscribeNewTxs delivers transactions as they become pooled.
func (p *Pool) SubscribeNewTxs(ch chan<- gethcore.NewTxsEvent) event.Subscription {
	return p.pool.SubscribeTransactions(ch, false)
}

// Close stops the pool.
func (p *Pool) Close() error { return p.pool.Close() }
