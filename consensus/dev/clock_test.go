package dev

import (
	"testing"
	"time"
)

// TestClockNext: timestamps follow the wall clock, go up by one within the
// same second, and stop at the drift ceiling instead of running ahead.
func TestClockNext(t *testing.T) {
	wall := &fakeWall{t: time.Unix(1000, 0)}
	c := NewClock(wall.now, 3)
	for _, tc := range []struct {
		parent uint64
		want   uint64
	}{
		{parent: 990, want: 1000},  // behind the clock: now
		{parent: 1000, want: 1001}, // same second: parent + 1
		{parent: 1002, want: 1003}, // ahead, within the drift
		{parent: 1003, want: 1003}, // at the ceiling (now + drift): same timestamp
		{parent: 1010, want: 1010}, // parent already beyond (time control): never back
	} {
		if got, explicit := c.Next(tc.parent); got != tc.want || explicit {
			t.Errorf("parent %d: %d (explicit %v), want %d", tc.parent, got, explicit, tc.want)
		}
	}
}

func TestClockTimeControl(t *testing.T) {
	wall := &fakeWall{t: time.Unix(1000, 0)}
	c := NewClock(wall.now, 15)
	if err := c.SetNext(999, 1000); err == nil {
		t.Fatal("timestamp before the head accepted")
	}
	if err := c.SetNext(5000, 1000); err != nil {
		t.Fatal(err)
	}
	ts, explicit := c.Next(1000)
	if ts != 5000 || !explicit {
		t.Fatalf("next %d explicit %v", ts, explicit)
	}
	c.Used(ts, explicit)
	wall.t = wall.t.Add(2 * time.Second)
	if ts, _ := c.Next(5000); ts != 5002 {
		t.Fatalf("after an explicit timestamp the clock continues from it: %d", ts)
	}
	// increaseTime counts from the head when the chain is ahead of the clock.
	if _, err := c.IncreaseTime(100, 6000); err != nil {
		t.Fatal(err)
	}
	if ts, _ := c.Next(6000); ts != 6100 {
		t.Fatalf("after +100s on a head at 6000: %d", ts)
	}
	if _, err := c.IncreaseTime(maxIncrease+1, 0); err == nil {
		t.Fatal("absurd increase accepted")
	}
	saved := c.State()
	c.IncreaseTime(50, 0)
	c.Restore(saved)
	if ts, _ := c.Next(0); ts != 6100 {
		t.Fatalf("after restore: %d", ts)
	}
}
