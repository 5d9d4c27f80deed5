// Package consensus decides who makes blocks, when, and which headers a
// node accepts. Engines share one executor and chain store (package core):
// `dev` is the devnet's single sequencer with time control; `bft`
// (CometBFT) drives the same builder from PrepareProposal and the same
// executor from ProcessProposal. A BFT block's consensus fields come from
// what CometBFT agreed for the height (time, proposer), which Prepare's
// parent-only signature cannot carry: package bft derives them itself
// (bft.attrsFor) and checks them in ProcessProposal.
//
// Start with Engine below, then dev/engine.go.
package consensus

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/core"
)

// Engine is what the node needs from a consensus engine.
type Engine interface {
	// Name says which engine this is, for logs and errors.
	Name() string
	// Prepare chooses the consensus fields (timestamp, coinbase,
	// randomness) of the block the node is about to build on parent.
	Prepare(parent *types.Header) (core.BuildAttrs, error)
	// VerifyHeader checks a header the node did not build against its
	// parent, before the block is executed.
	VerifyHeader(parent, header *types.Header) error
}

// Errors of header verification. Each is wrapped with the values involved.
var (
	ErrUnknownParent    = errors.New("unknown parent")
	ErrInvalidNumber    = errors.New("invalid block number")
	ErrOlderBlock       = errors.New("timestamp older than parent")
	ErrFutureBlock      = errors.New("block in the future")
	ErrInvalidGasLimit  = errors.New("invalid gas limit")
	ErrInvalidExtraData = errors.New("extra data too long")
)

// MaxExtraData bounds a header's extra data (geth's limit).
const MaxExtraData = 32

// VerifyCommon checks what every engine requires of a header: it extends
// parent by one, its timestamp does not go back (equal timestamps are
// allowed: see package dev for why), and its gas limit and extra data are
// in bounds. Engines add VerifyNotFuture with their notion of now.
func VerifyCommon(parent, header *types.Header) error {
	if header.ParentHash != parent.Hash() {
		return fmt.Errorf("%w: header names %x, parent is %x", ErrUnknownParent, header.ParentHash, parent.Hash())
	}
	if want := new(big.Int).Add(parent.Number, big.NewInt(1)); header.Number == nil || header.Number.Cmp(want) != 0 {
		return fmt.Errorf("%w: %v, want %v", ErrInvalidNumber, header.Number, want)
	}
	if header.Time < parent.Time {
		return fmt.Errorf("%w: %d < %d", ErrOlderBlock, header.Time, parent.Time)
	}
	if header.GasLimit < 5000 || header.GasLimit > 1<<63-1 {
		return fmt.Errorf("%w: %d", ErrInvalidGasLimit, header.GasLimit)
	}
	if len(header.Extra) > MaxExtraData {
		return fmt.Errorf("%w: %d bytes", ErrInvalidExtraData, len(header.Extra))
	}
	return nil
}

// VerifyNotFuture refuses a header timestamped more than maxDrift seconds
// after now (Unix seconds): what keeps "now" in the freshness guard honest.
func VerifyNotFuture(header *types.Header, now, maxDrift uint64) error {
	if header.Time > now+maxDrift {
		return fmt.Errorf("%w: timestamp %d, clock %d, allowed drift %ds", ErrFutureBlock, header.Time, now, maxDrift)
	}
	return nil
}
