package node

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
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
	return st, b.Header(), nil
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
