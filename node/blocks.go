package node

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/rpc"
)

// errHeaderNotFound is geth's answer to a state query on an unknown block.
var errHeaderNotFound = errors.New("header not found")

// latest is the default block argument.
func orLatest(bnh *rpc.BlockNumberOrHash) rpc.BlockNumberOrHash {
	if bnh == nil {
		return rpc.BlockNumberOrHashWithNumber(rpc.LatestBlockNumber)
	}
	return *bnh
}

// blockByNumber resolves a block tag or number to a canonical block. The
// devnet has no separate pending, safe or finalized block: each is the head
// (a sequencer's blocks are final when made).
func (n *Node) blockByNumber(number rpc.BlockNumber) *types.Block {
	switch number {
	case rpc.LatestBlockNumber, rpc.PendingBlockNumber, rpc.SafeBlockNumber, rpc.FinalizedBlockNumber:
		head, _ := n.chain.Head()
		return head
	case rpc.EarliestBlockNumber:
		return n.chain.Genesis()
	}
	if number < 0 {
		return nil
	}
	return n.chain.BlockByNumber(uint64(number))
}

// blockByNumberOrHash resolves a block argument; nil when unknown.
func (n *Node) blockByNumberOrHash(bnh rpc.BlockNumberOrHash) (*types.Block, error) {
	if number, ok := bnh.Number(); ok {
		return n.blockByNumber(number), nil
	}
	if hash, ok := bnh.Hash(); ok {
		b := n.chain.BlockByHash(hash)
		if b == nil {
			return nil, nil
		}
		if bnh.RequireCanonical && !n.chain.IsCanonical(hash, b.NumberU64()) {
			return nil, fmt.Errorf("hash %x is not currently canonical", hash)
		}
		return b, nil
	}
	return nil, errors.New("invalid arguments; neither block nor hash specified")
}

// stateAt opens the state after a block. The head's state is its current
// one, which includes devnet state edits made since it was mined.
func (n *Node) stateAt(bnh rpc.BlockNumberOrHash) (*state.StateDB, *types.Header, error) {
	st, b, err := n.stateAndBlock(bnh)
	if err != nil {
		return nil, nil, err
	}
	return st, b.Header(), nil
}

// stateAndBlock is stateAt returning the block itself (no header copy).
func (n *Node) stateAndBlock(bnh rpc.BlockNumberOrHash) (*state.StateDB, *types.Block, error) {
	b, err := n.blockByNumberOrHash(bnh)
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, errHeaderNotFound
	}
	root := b.Root()
	if head, headRoot := n.chain.Head(); head.Hash() == b.Hash() {
		root = headRoot
	}
	st, err := n.chain.StateAt(root)
	if err != nil {
		return nil, nil, fmt.Errorf("state of block %d unavailable: %w", b.NumberU64(), err)
	}
	return st, b, nil
}

// blockContext is a block's EVM context, remembered for the head.
type blockContext struct {
	hash common.Hash
	ctx  gethvm.BlockContext
}

// evmContext returns b's EVM block context. The head's is built once: every
// eth_call at "latest" needs it. Callers get a copy of the struct and
// replace, never modify, what its pointers point to.
func (n *Node) evmContext(b *types.Block) gethvm.BlockContext {
	if c := n.headCtx.Load(); c != nil && c.hash == b.Hash() {
		return c.ctx
	}
	ctx := n.exec.BlockContext(b.Header())
	if head, _ := n.chain.Head(); head.Hash() == b.Hash() {
		n.headCtx.Store(&blockContext{hash: b.Hash(), ctx: ctx})
	}
	return ctx
}

// headState is the current head's state and header.
func (n *Node) headState() (*state.StateDB, *types.Header, error) {
	head, root := n.chain.Head()
	st, err := n.chain.StateAt(root)
	if err != nil {
		return nil, nil, err
	}
	return st, head.Header(), nil
}

func hashOf(b *types.Block) common.Hash {
	if b == nil {
		return common.Hash{}
	}
	return b.Hash()
}
