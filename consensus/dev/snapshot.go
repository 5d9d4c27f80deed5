package dev

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// snapshot is what evm_revert goes back to.
type snapshot struct {
	number uint64
	root   common.Hash
	clock  ClockState
}

// maxSnapshots bounds the snapshot stack.
const maxSnapshots = 1 << 16

// Snapshot records the head, its state and the time control settings, and
// returns the snapshot's id (evm_snapshot). Ids count up from 1.
func (s *Sequencer) Snapshot() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.snapshots) >= maxSnapshots {
		return 0, fmt.Errorf("too many snapshots (%d)", maxSnapshots)
	}
	head, root := s.chain.Head()
	s.snapshots = append(s.snapshots, snapshot{number: head.NumberU64(), root: root, clock: s.engine.Clock().State()})
	return uint64(len(s.snapshots)), nil
}

// Revert goes back to snapshot id (evm_revert): blocks after it leave the
// chain, the pool is emptied, and the id and every later one are used up,
// as in Hardhat and anvil. It reports false for an unknown id.
func (s *Sequencer) Revert(id uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || id > uint64(len(s.snapshots)) {
		return false, nil
	}
	snap := s.snapshots[id-1]
	if err := s.chain.Rewind(snap.number, snap.root); err != nil {
		return false, err
	}
	s.snapshots = s.snapshots[:id-1]
	s.engine.Clock().Restore(snap.clock)
	for _, tx := range s.forced {
		s.chain.Senders().Forget(tx.Hash())
	}
	s.forced, s.baseFee = nil, nil
	s.pool.Sync()
	s.pool.Clear()
	return true, nil
}
