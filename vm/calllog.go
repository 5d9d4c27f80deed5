package vm

import (
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Call is one inference call as this node saw it: for the inference_ RPC
// namespace. Node-local observability, never consensus.
type Call struct {
	Time      time.Time   `json:"time"`
	Block     uint64      `json:"block"`
	Function  string      `json:"function"`
	ModelID   common.Hash `json:"modelId"`
	Backend   string      `json:"backend,omitempty"`
	Latency   int64       `json:"latencyNanos"`
	Gas       uint64      `json:"gas"`
	Outcome   string      `json:"outcome"` // "ok", or the custom error's name
	FromCache bool        `json:"fromCache"`
}

// CallLog keeps the most recent calls in a fixed ring.
type CallLog struct {
	mu    sync.Mutex
	calls []Call
	next  int
	full  bool
}

// NewCallLog returns a log of the last size calls.
func NewCallLog(size int) *CallLog { return &CallLog{calls: make([]Call, max(size, 1))} }

func (l *CallLog) add(c Call) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[l.next] = c
	l.next = (l.next + 1) % len(l.calls)
	l.full = l.full || l.next == 0
}

// Recent returns up to n calls, newest first.
func (l *CallLog) Recent(n int) []Call {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	count := l.next
	if l.full {
		count = len(l.calls)
	}
	n = min(n, count)
	out := make([]Call, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, l.calls[(l.next-1-i+len(l.calls))%len(l.calls)])
	}
	return out
}
