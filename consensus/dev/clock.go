package dev

import (
	"fmt"
	"sync"
	"time"
)

// Clock chooses block timestamps: the wall clock plus an explicit offset,
// or a timestamp set for the next block.
type Clock struct {
	wall  func() time.Time
	drift uint64

	mu     sync.Mutex
	offset int64   // seconds added by evm_increaseTime and explicit timestamps
	next   *uint64 // timestamp of the next block, when set
}

// NewClock returns a clock on wall (time.Now when nil) that keeps blocks
// within drift seconds of it.
func NewClock(wall func() time.Time, drift uint64) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall, drift: drift}
}

// ClockState is what a snapshot restores.
type ClockState struct {
	Offset int64
	Next   *uint64
}

// State returns the time control settings.
func (c *Clock) State() ClockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ClockState{Offset: c.offset}
	if c.next != nil {
		n := *c.next
		s.Next = &n
	}
	return s
}

// Restore sets the time control settings back.
func (c *Clock) Restore(s ClockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.next = s.Offset, s.Next
}

// Now is the wall clock plus the offset, in seconds.
func (c *Clock) Now() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() uint64 {
	t := c.wall().Unix() + c.offset
	if t < 0 {
		return 0
	}
	return uint64(t)
}

// Drift is the allowed lead over the clock, in seconds.
func (c *Clock) Drift() uint64 { return c.drift }

// Next chooses the timestamp of a block on a parent with timestamp parent.
// explicit reports a timestamp set by time control.
func (c *Clock) Next(parent uint64) (ts uint64, explicit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next != nil {
		return *c.next, true
	}
	now := c.nowLocked()
	switch {
	case now > parent:
		return now, false
	case parent+1 <= now+c.drift:
		return parent + 1, false
	default:
		// At the drift ceiling: same timestamp as the parent rather than
		// a block further in the future.
		return parent, false
	}
}

// Used records that a block with timestamp ts was committed. An explicit
// timestamp becomes the clock's new "now": later blocks continue from it.
func (c *Clock) Used(ts uint64, explicit bool) {
	if !explicit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = nil
	c.offset = int64(ts) - c.wall().Unix()
}

// maxIncrease bounds one evm_increaseTime (about 31,700 years), so that the
// offset and timestamps stay far from overflow.
const maxIncrease = 1 << 40

// IncreaseTime moves the clock forward by seconds and returns the total
// offset. It counts from the head's timestamp when the chain has run ahead
// of the clock (blocks faster than one a second), so that the next block is
// at least seconds after the head, which is what a test that increases
// time and mines expects.
func (c *Clock) IncreaseTime(seconds, head uint64) (int64, error) {
	if seconds > maxIncrease {
		return 0, fmt.Errorf("time increase %d exceeds %d seconds", seconds, uint64(maxIncrease))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.nowLocked(); head > now {
		c.offset += int64(head - now)
	}
	c.offset += int64(seconds)
	return c.offset, nil
}

// SetNext sets the timestamp of the next block, which must not be before
// parent (the head's timestamp).
func (c *Clock) SetNext(ts, parent uint64) error {
	if ts < parent {
		return fmt.Errorf("timestamp %d is lower than the previous block's timestamp %d", ts, parent)
	}
	if ts > 1<<62 {
		return fmt.Errorf("timestamp %d too large", ts)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = &ts
	return nil
}

// SetTime makes the clock read ts now (evm_setTime, anvil_setTime), and
// returns the new offset.
func (c *Clock) SetTime(ts uint64) (int64, error) {
	if ts > 1<<62 {
		return 0, fmt.Errorf("timestamp %d too large", ts)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = int64(ts) - c.wall().Unix()
	c.next = nil
	return c.offset, nil
}
