// Package dev is the devnet's consensus engine: one sequencer, a block per
// transaction by default (or one every --block-time seconds), and the time
// control that anvil and Hardhat users test with.
//
// Start with Sequencer (sequencer.go): it is what the RPC layer calls to
// submit transactions, mine, edit state and take snapshots. Engine
// (engine.go) chooses block fields and checks headers; Clock (clock.go)
// decides timestamps.
//
// Timestamps. Outside explicit time control a block's timestamp is the wall
// clock plus the evm_increaseTime offset, and at least its parent's plus
// one, as in geth --dev and anvil. Unlike them, the chain never runs more
// than the configured drift ahead of that clock: when blocks come faster
// than one a second for long enough to reach the drift, the next block
// takes its parent's timestamp instead (Hardhat's
// allowBlocksWithSameTimestamp, applied only at that ceiling). Block import
// refuses headers further in the future than the drift. An explicit
// timestamp (evm_setNextBlockTimestamp, evm_mine with a timestamp) is
// honoured as given and moves the offset with it, as in Hardhat.
package dev
