package node

import (
	"context"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/consensus/bft"
	"github.com/infergeth/infergeth/consensus/dev"
)

// producer is what the RPC needs from whatever makes blocks.
type producer interface {
	// Submit takes a signed transaction towards a block.
	Submit(ctx context.Context, tx *types.Transaction) error
	// NextBaseFee is the base fee of the next block.
	NextBaseFee() *big.Int
}

// ErrDevOnly answers the devnet's cheat codes (evm_*, anvil_*, hardhat_*)
// on a node of a validator network, where no single node may mine, edit
// state or move time.
var ErrDevOnly = errors.New("devnet-only method: this node runs in a BFT validator network (blocks, time and state come from consensus)")

// devOnly refuses a devnet-only method on a BFT node.
func (n *Node) devOnly() error {
	if n.seq == nil {
		return ErrDevOnly
	}
	return nil
}

// openEngine makes the block producer the configuration asks for.
func (n *Node) openEngine() error {
	if n.cfg.BFT != nil {
		cfg := *n.cfg.BFT
		if cfg.Log == nil {
			cfg.Log = n.log
		}
		engine, err := bft.New(n.chain, n.exec, n.pool, cfg)
		if err != nil {
			return err
		}
		n.bft, n.producer = engine, engine
		return nil
	}
	clock := dev.NewClock(n.cfg.Now, n.chain.Config().Infergeth.MaxTimestampDrift)
	n.seq = dev.NewSequencer(n.chain, n.exec, n.pool, dev.NewEngine(clock, common.Address{}), dev.Config{BlockTime: n.cfg.BlockTime, Log: n.log})
	n.producer = n.seq
	return nil
}

// startEngine starts making blocks.
func (n *Node) startEngine(ctx context.Context) error {
	if n.bft != nil {
		return n.bft.Start()
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.seq.Run(ctx) }()
	return nil
}

// BFT is the node's CometBFT engine, nil on a devnet.
func (n *Node) BFT() *bft.Engine { return n.bft }
