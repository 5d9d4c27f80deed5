package dev

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/consensus"
	"github.com/infergeth/infergeth/core"
)

// Engine is the dev consensus engine.
type Engine struct {
	clock    *Clock
	coinbase common.Address
}

var _ consensus.Engine = (*Engine)(nil)

// NewEngine returns the dev engine; blocks pay fees to coinbase.
func NewEngine(clock *Clock, coinbase common.Address) *Engine {
	return &Engine{clock: clock, coinbase: coinbase}
}

// Name implements consensus.Engine.
func (e *Engine) Name() string { return "dev" }

// Clock is the engine's clock.
func (e *Engine) Clock() *Clock { return e.clock }

// Prepare implements consensus.Engine. PREVRANDAO is derived from the
// parent hash: deterministic, and different in every block.
func (e *Engine) Prepare(parent *types.Header) (core.BuildAttrs, error) {
	ts, _ := e.clock.Next(parent.Time)
	return e.attrs(parent, ts), nil
}

func (e *Engine) attrs(parent *types.Header, ts uint64) core.BuildAttrs {
	return core.BuildAttrs{
		Timestamp: ts,
		Coinbase:  e.coinbase,
		Random:    crypto.Keccak256Hash(parent.MixDigest[:], parent.Hash().Bytes()),
	}
}

// VerifyHeader implements consensus.Engine: the common rules, with "now"
// being the clock's time (time control moves it on purpose).
func (e *Engine) VerifyHeader(parent, header *types.Header) error {
	if err := consensus.VerifyCommon(parent, header); err != nil {
		return err
	}
	return consensus.VerifyNotFuture(header, e.clock.Now(), e.clock.Drift())
}
