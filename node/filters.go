package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/core"
)

// Limits of log queries and filters; the first two and subscriberBacklog
// are the defaults of Config's LogResultLimit, LogRangeLimit and
// SubscriptionBacklog.
const (
	maxLogResults     = 100_000
	maxBlockRange     = 1_000_000
	filterTimeout     = 5 * time.Minute
	maxFilters        = 10_000
	maxFilterBacklog  = 100_000
	subscriberBacklog = 4096
)

var (
	errFilterNotFound    = errors.New("filter not found")
	errInvalidBlockRange = errors.New("invalid block range params")
)

// getLogs returns the canonical logs matching q.
func (n *Node) getLogs(ctx context.Context, q *filterQuery) ([]*types.Log, error) {
	if q.BlockHash != nil {
		b := n.chain.BlockByHash(*q.BlockHash)
		if b == nil {
			return nil, errors.New("unknown block")
		}
		return n.blockLogs(b, q, nil)
	}
	head := n.headBlock().NumberU64()
	resolve := func(bn *rpc.BlockNumber) (uint64, error) {
		if bn == nil {
			return head, nil
		}
		switch *bn {
		case rpc.LatestBlockNumber, rpc.PendingBlockNumber, rpc.SafeBlockNumber, rpc.FinalizedBlockNumber:
			return head, nil
		case rpc.EarliestBlockNumber:
			return 0, nil
		}
		if *bn < 0 {
			return 0, errInvalidBlockRange
		}
		return uint64(*bn), nil
	}
	from, err := resolve(q.FromBlock)
	if err != nil {
		return nil, err
	}
	to, err := resolve(q.ToBlock)
	if err != nil {
		return nil, err
	}
	if from > to {
		return nil, errInvalidBlockRange
	}
	if to > head {
		to = head
	}
	if from > head {
		return []*types.Log{}, nil
	}
	if to-from > n.cfg.LogRangeLimit {
		return nil, fmt.Errorf("block range %d exceeds %d", to-from, n.cfg.LogRangeLimit)
	}
	out := []*types.Log{}
	for num := from; num <= to; num++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := n.chain.HeaderByNumber(num)
		if h == nil {
			break
		}
		if !q.bloomMayMatch(h.Bloom) {
			continue
		}
		b := n.chain.BlockByHash(h.Hash())
		if out, err = n.blockLogs(b, q, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (n *Node) blockLogs(b *types.Block, q *filterQuery, out []*types.Log) ([]*types.Log, error) {
	if out == nil {
		out = []*types.Log{}
	}
	if !q.bloomMayMatch(b.Bloom()) {
		return out, nil
	}
	receipts, err := n.chain.Receipts(b.Hash())
	if err != nil {
		return nil, err
	}
	for _, r := range receipts {
		for _, l := range r.Logs {
			if q.matches(l) {
				if len(out) >= n.cfg.LogResultLimit {
					return nil, fmt.Errorf("query returned more than %d results", n.cfg.LogResultLimit)
				}
				out = append(out, l)
			}
		}
	}
	return out, nil
}

type filterKind int

const (
	logsFilter filterKind = iota
	blocksFilter
	pendingTxFilter
)

// pollFilter is an installed filter (eth_newFilter and friends): what
// arrived since the last eth_getFilterChanges.
type pollFilter struct {
	kind     filterKind
	query    filterQuery
	hashes   []common.Hash
	logs     []*types.Log
	deadline time.Time
}

// subscriber is a WebSocket subscription's mailbox.
type subscriber struct {
	kind  filterKind
	query filterQuery
	ch    chan any
	full  bool
}

// filterSystem fans chain and pool events out to installed filters and
// subscriptions. It is the chain's only event subscriber besides
// eth_sendRawTransactionSync, and never blocks on a client: a subscriber
// that falls Config.SubscriptionBacklog events behind is dropped.
type filterSystem struct {
	n *Node

	mu      sync.Mutex
	filters map[rpc.ID]*pollFilter
	subs    map[*subscriber]struct{}
}

func newFilterSystem(n *Node) *filterSystem {
	return &filterSystem{n: n, filters: make(map[rpc.ID]*pollFilter), subs: make(map[*subscriber]struct{})}
}

// start subscribes to the chain and the pool before it returns, so that no
// event after Start is missed, and delivers events until ctx ends.
func (fs *filterSystem) start(ctx context.Context, wg *sync.WaitGroup) {
	chainCh := make(chan core.ChainEvent, 256)
	chainSub := fs.n.chain.SubscribeChainEvent(chainCh)
	txCh := make(chan gethcore.NewTxsEvent, 256)
	txSub := fs.n.pool.SubscribeNewTxs(txCh)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer chainSub.Unsubscribe()
		defer txSub.Unsubscribe()
		fs.run(ctx, chainCh, txCh)
	}()
}

func (fs *filterSystem) run(ctx context.Context, chainCh <-chan core.ChainEvent, txCh <-chan gethcore.NewTxsEvent) {
	expire := time.NewTicker(time.Minute)
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-chainCh:
			fs.onBlock(ev)
		case ev := <-txCh:
			fs.onTxs(ev.Txs)
		case now := <-expire.C:
			fs.mu.Lock()
			for id, f := range fs.filters {
				if now.After(f.deadline) {
					delete(fs.filters, id)
				}
			}
			fs.mu.Unlock()
		}
	}
}

func (fs *filterSystem) onBlock(ev core.ChainEvent) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var logs []*types.Log
	for _, r := range ev.Receipts {
		logs = append(logs, r.Logs...)
	}
	for _, f := range fs.filters {
		switch f.kind {
		case blocksFilter:
			if len(f.hashes) < maxFilterBacklog {
				f.hashes = append(f.hashes, ev.Block.Hash())
			}
		case logsFilter:
			for _, l := range logs {
				if f.query.matches(l) && len(f.logs) < maxFilterBacklog {
					f.logs = append(f.logs, l)
				}
			}
		}
	}
	var header *rpcHeader
	for s := range fs.subs {
		switch s.kind {
		case blocksFilter:
			if header == nil {
				header = marshalHeader(ev.Block.Header())
			}
			fs.deliver(s, header)
		case logsFilter:
			for _, l := range logs {
				if s.query.matches(l) {
					fs.deliver(s, l)
				}
			}
		}
	}
}

func (fs *filterSystem) onTxs(txs []*types.Transaction) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.filters {
		if f.kind == pendingTxFilter {
			for _, tx := range txs {
				if len(f.hashes) < maxFilterBacklog {
					f.hashes = append(f.hashes, tx.Hash())
				}
			}
		}
	}
	for s := range fs.subs {
		if s.kind == pendingTxFilter {
			for _, tx := range txs {
				fs.deliver(s, tx.Hash())
			}
		}
	}
}

// deliver queues v for s without blocking; a full mailbox ends s.
func (fs *filterSystem) deliver(s *subscriber, v any) {
	if s.full {
		return
	}
	select {
	case s.ch <- v:
	default:
		s.full = true
		close(s.ch)
		delete(fs.subs, s)
	}
}

func (fs *filterSystem) install(f *pollFilter) (rpc.ID, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.filters) >= maxFilters {
		return "", fmt.Errorf("too many filters (%d)", maxFilters)
	}
	id := rpc.NewID()
	f.deadline = time.Now().Add(filterTimeout)
	fs.filters[id] = f
	return id, nil
}

// filterAPI is the eth_ namespace's filters and subscriptions.
type filterAPI struct{ n *Node }

// GetLogs is eth_getLogs.
func (api *filterAPI) GetLogs(ctx context.Context, q filterQuery) ([]*types.Log, error) {
	return api.n.getLogs(ctx, &q)
}

// NewFilter is eth_newFilter.
func (api *filterAPI) NewFilter(q filterQuery) (rpc.ID, error) {
	return api.n.filters.install(&pollFilter{kind: logsFilter, query: q})
}

// NewBlockFilter is eth_newBlockFilter.
func (api *filterAPI) NewBlockFilter() (rpc.ID, error) {
	return api.n.filters.install(&pollFilter{kind: blocksFilter})
}

// NewPendingTransactionFilter is eth_newPendingTransactionFilter.
func (api *filterAPI) NewPendingTransactionFilter(_ *bool) (rpc.ID, error) {
	return api.n.filters.install(&pollFilter{kind: pendingTxFilter})
}

// UninstallFilter is eth_uninstallFilter.
func (api *filterAPI) UninstallFilter(id rpc.ID) bool {
	fs := api.n.filters
	fs.mu.Lock()
	defer fs.mu.Unlock()
	_, ok := fs.filters[id]
	delete(fs.filters, id)
	return ok
}

// GetFilterChanges is eth_getFilterChanges: hashes for block and pending
// transaction filters, logs for log filters.
func (api *filterAPI) GetFilterChanges(id rpc.ID) (any, error) {
	fs := api.n.filters
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.filters[id]
	if !ok {
		return nil, errFilterNotFound
	}
	f.deadline = time.Now().Add(filterTimeout)
	if f.kind == logsFilter {
		logs := f.logs
		f.logs = nil
		if logs == nil {
			logs = []*types.Log{}
		}
		return logs, nil
	}
	hashes := f.hashes
	f.hashes = nil
	if hashes == nil {
		hashes = []common.Hash{}
	}
	return hashes, nil
}

// GetFilterLogs is eth_getFilterLogs: every log matching a log filter.
func (api *filterAPI) GetFilterLogs(ctx context.Context, id rpc.ID) ([]*types.Log, error) {
	fs := api.n.filters
	fs.mu.Lock()
	f, ok := fs.filters[id]
	var q filterQuery
	if ok {
		q = f.query
	}
	fs.mu.Unlock()
	if !ok || f.kind != logsFilter {
		return nil, errFilterNotFound
	}
	return api.n.getLogs(ctx, &q)
}

// NewHeads is the newHeads subscription.
func (api *filterAPI) NewHeads(ctx context.Context) (*rpc.Subscription, error) {
	return api.subscribe(ctx, &subscriber{kind: blocksFilter})
}

// Logs is the logs subscription.
func (api *filterAPI) Logs(ctx context.Context, q filterQuery) (*rpc.Subscription, error) {
	if q.BlockHash != nil || q.FromBlock != nil || q.ToBlock != nil {
		// geth ignores ranges here; only live logs are sent.
		q.BlockHash, q.FromBlock, q.ToBlock = nil, nil, nil
	}
	return api.subscribe(ctx, &subscriber{kind: logsFilter, query: q})
}

// NewPendingTransactions is the newPendingTransactions subscription.
func (api *filterAPI) NewPendingTransactions(ctx context.Context, _ *bool) (*rpc.Subscription, error) {
	return api.subscribe(ctx, &subscriber{kind: pendingTxFilter})
}

func (api *filterAPI) subscribe(ctx context.Context, s *subscriber) (*rpc.Subscription, error) {
	notifier, supported := rpc.NotifierFromContext(ctx)
	if !supported {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := notifier.CreateSubscription()
	s.ch = make(chan any, api.n.cfg.SubscriptionBacklog)
	fs := api.n.filters
	fs.mu.Lock()
	fs.subs[s] = struct{}{}
	fs.mu.Unlock()
	go func() {
		defer func() {
			fs.mu.Lock()
			delete(fs.subs, s)
			fs.mu.Unlock()
		}()
		for {
			select {
			case v, ok := <-s.ch:
				if !ok {
					return
				}
				if err := notifier.Notify(sub.ID, v); err != nil {
					return
				}
			case <-sub.Err():
				return
			}
		}
	}()
	return sub, nil
}
