package core

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/txpool/txorder"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	gethparams "github.com/ethereum/go-ethereum/params"
)

// BuildAttrs are the consensus engine's choices for the next block.
type BuildAttrs struct {
	Timestamp uint64
	Coinbase  common.Address
	// Random is the block's PREVRANDAO.
	Random common.Hash
	// GasLimit of the block; zero keeps the parent's.
	GasLimit uint64
	// BaseFee overrides EIP-1559's value when not nil (the devnet's
	// anvil_setNextBlockBaseFeePerGas).
	BaseFee *big.Int
}

// Built is a block ready to commit.
type Built struct {
	Block    *types.Block
	Receipts types.Receipts
	State    *state.StateDB
	// Refused lists transactions left out, with the reason.
	Refused map[common.Hash]error
}

// Builder assembles blocks on the head.
type Builder struct {
	chain *Chain
	exec  *Executor
}

// NewBuilder returns a builder over chain and exec.
func NewBuilder(chain *Chain, exec *Executor) *Builder {
	return &Builder{chain: chain, exec: exec}
}

// NextHeader is the header of a block on parent with attrs, before execution.
func (b *Builder) NextHeader(parent *types.Header, attrs BuildAttrs) *types.Header {
	cfg := b.chain.config.Ethereum
	gasLimit := attrs.GasLimit
	if gasLimit == 0 {
		gasLimit = parent.GasLimit
	}
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number, common.Big1),
		GasLimit:   gasLimit,
		Time:       attrs.Timestamp,
		Coinbase:   attrs.Coinbase,
		Difficulty: new(big.Int),
		MixDigest:  attrs.Random,
		Extra:      []byte{},
	}
	if cfg.IsLondon(header.Number) {
		header.BaseFee = eip1559.CalcBaseFee(cfg, parent)
		if attrs.BaseFee != nil {
			header.BaseFee = new(big.Int).Set(attrs.BaseFee)
		}
	}
	if cfg.IsCancun(header.Number, header.Time) {
		excess := eip4844.CalcExcessBlobGas(cfg, parent, header.Time)
		used := uint64(0)
		header.ExcessBlobGas, header.BlobGasUsed = &excess, &used
		header.ParentBeaconRoot = &common.Hash{}
	}
	return header
}

// Build executes, on the head block and head state, first the forced
// transactions in their order, then the pool's executable transactions by
// price and nonce, until the block is full. A node fault stops it at once:
// nothing more is executed, no block is returned, and the error is the
// *vm.NodeFault (errors.Is vm.ErrNodeFault) naming the block, the
// transaction, the model and the backend.
func (b *Builder) Build(ctx context.Context, attrs BuildAttrs, forced []*types.Transaction, pool *Pool) (*Built, error) {
	head, root := b.chain.Head()
	return b.BuildOn(ctx, head.Header(), root, attrs, forced, pool)
}

// BuildOn is Build on an explicit parent and parent state root rather than
// the head: a BFT proposer builds a candidate that is not committed until
// the validators agree on it. Nothing is written; the result's State is
// what Chain.Commit takes if the block is decided.
func (b *Builder) BuildOn(ctx context.Context, parent *types.Header, root common.Hash, attrs BuildAttrs, forced []*types.Transaction, pool *Pool) (*Built, error) {
	if attrs.Timestamp < parent.Time {
		return nil, fmt.Errorf("timestamp %d before parent's %d", attrs.Timestamp, parent.Time)
	}
	statedb, err := b.chain.StateAt(root)
	if err != nil {
		return nil, err
	}
	header := b.NextHeader(parent, attrs)
	run := b.exec.Begin(ctx, header, statedb, gethvm.Config{})
	refused := make(map[common.Hash]error)
	for _, tx := range forced {
		if run.Fault() != nil {
			break
		}
		if _, err := run.Apply(tx); err != nil {
			refused[tx.Hash()] = err
		}
	}
	if pool != nil && run.Fault() == nil {
		b.fillFromPool(run, header, pool, refused)
	}
	block, receipts, err := run.Finish()
	if err != nil {
		return nil, err
	}
	return &Built{Block: block, Receipts: receipts, State: run.State(), Refused: refused}, nil
}

// fillFromPool is geth's miner loop: the best-paying executable
// transaction first, skipping a sender whose transaction does not fit.
func (b *Builder) fillFromPool(run *BlockRun, header *types.Header, pool *Pool, refused map[common.Hash]error) {
	pending := pool.Pending(header.BaseFee)
	if len(pending) == 0 {
		return
	}
	txs := txorder.NewTransactionsByPriceAndNonce(b.exec.signer, pending, header.BaseFee)
	for {
		if run.GasLeft() < gethparams.TxGas || run.Fault() != nil {
			return
		}
		ltx, _ := txs.Peek()
		if ltx == nil {
			return
		}
		if run.GasLeft() < ltx.Gas {
			txs.Pop()
			continue
		}
		tx := ltx.Resolve()
		if tx == nil {
			txs.Pop()
			continue
		}
		_, err := run.Apply(tx)
		switch {
		case err == nil:
			txs.Shift()
		case errors.Is(err, gethcore.ErrNonceTooLow):
			txs.Shift()
		default:
			refused[tx.Hash()] = err
			txs.Pop()
		}
	}
}
