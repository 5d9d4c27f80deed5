// Package verifier rebuilds the L2 from the L1 alone: it derives the
// authorised batcher's batches (package derive), re-executes every block
// with this node's executor (inference included, on whatever backend it
// runs) into its own chain store, and checks each block against the
// sequencer's claimed state root and every output the proposer posted.
package verifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/batch"
	"github.com/infergeth/infergeth/l1/derive"
	"github.com/infergeth/infergeth/l1/oracle"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// Config says what to trust.
type Config struct {
	Oracle common.Address
	// Inbox and Batcher must be the oracle's (a verifier states whom it
	// trusts, and refuses an oracle that says otherwise).
	Inbox, Batcher common.Address
	Log            *slog.Logger
}

// Divergence is the first L2 block where this verifier's execution
// differs from what the sequencer posted.
type Divergence struct {
	Block uint64
	// Posted is the sequencer's state root for Block (from the batch, or
	// from an output); Computed is this verifier's.
	Posted, Computed common.Hash
	// Tx is the transaction found to differ: the only one of the block,
	// else the first that called the inference precompile; zero when
	// neither says.
	Tx      common.Hash
	TxIndex int
	Reason  string
}

func (d *Divergence) String() string {
	s := fmt.Sprintf("L2 block %d: %s", d.Block, d.Reason)
	if d.Posted != (common.Hash{}) || d.Computed != (common.Hash{}) {
		s += fmt.Sprintf(" (posted state root %s, re-executed %s)", d.Posted, d.Computed)
	}
	if d.Tx != (common.Hash{}) {
		s += fmt.Sprintf("; transaction %s (index %d)", d.Tx, d.TxIndex)
	}
	return s
}

// OutputCheck is one posted output compared.
type OutputCheck struct {
	oracle.Output
	// Computed is this verifier's state root at the block (zero when it
	// has not rebuilt that far).
	Computed common.Hash
	Agrees   bool
}

// Report is the outcome of one verification.
type Report struct {
	// Head is the last L2 block rebuilt.
	Head uint64
	// Executed counts the blocks executed in this run (the rest were in
	// the datadir already).
	Executed int
	Outputs  []OutputCheck
	Skips    []derive.Skip
	// Divergence is the first disagreement, nil when there is none.
	Divergence *Divergence
	// FirstBadOutput is the first posted output that differs, nil if none.
	FirstBadOutput *OutputCheck
}

// Agrees is true when nothing posted differs from the re-execution.
func (r *Report) Agrees() bool { return r.Divergence == nil && r.FirstBadOutput == nil }

// Verify reads the L1 up to its head and rebuilds what it finds on chain
// (which must hold the L2 genesis; blocks it already has are checked, not
// executed again). exec must be the chain's executor.
func Verify(ctx context.Context, client l1.Client, chain *core.Chain, exec *core.Executor, cfg Config) (*Report, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	o, err := oracle.New(client, cfg.Oracle)
	if err != nil {
		return nil, err
	}
	s, err := o.Settings(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case s.Inbox != cfg.Inbox:
		return nil, fmt.Errorf("the oracle's inbox is %s, not %s", s.Inbox, cfg.Inbox)
	case s.Batcher != cfg.Batcher:
		return nil, fmt.Errorf("the oracle's batcher is %s, not %s", s.Batcher, cfg.Batcher)
	case chain.Genesis().Hash() != s.L2GenesisHash:
		return nil, fmt.Errorf("the oracle is for L2 genesis %s, the datadir's genesis is %s", s.L2GenesisHash, chain.Genesis().Hash())
	}
	// Outputs first: an output posted after the L1 head read below would
	// be for a block not yet derived, and is then reported unchecked.
	outputs, err := o.Outputs(ctx)
	if err != nil {
		return nil, err
	}
	l1Head, err := client.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("l1 head: %w", err)
	}
	r, err := derive.NewReader(ctx, client, derive.Config{Inbox: s.Inbox, Batcher: s.Batcher, StartBlock: s.StartBlock, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	v := &rebuild{chain: chain, exec: exec, builder: core.NewBuilder(chain, exec), log: cfg.Log, report: &Report{}}
	if err := r.ReadTo(ctx, l1Head, v.batch); err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	rep := v.report
	rep.Skips = r.Skips()
	head, _ := chain.Head()
	rep.Head = head.NumberU64()
	for _, out := range outputs {
		c := OutputCheck{Output: out}
		if out.L2Block <= rep.Head {
			b := chain.BlockByNumber(out.L2Block)
			c.Computed = b.Root()
			c.Agrees = b.Root() == out.StateRoot && b.Hash() == out.BlockHash
			if !c.Agrees && rep.FirstBadOutput == nil {
				bad := c
				rep.FirstBadOutput = &bad
			}
		}
		rep.Outputs = append(rep.Outputs, c)
	}
	return rep, nil
}

// errStop ends the derivation at a block that cannot be executed at all.
var errStop = errors.New("stop")

type rebuild struct {
	chain   *core.Chain
	exec    *core.Executor
	builder *core.Builder
	log     *slog.Logger
	report  *Report
}

func (v *rebuild) diverged(d *Divergence) {
	if v.report.Divergence == nil {
		v.report.Divergence = d
		v.log.Error("l1 verifier: divergence", "detail", d.String())
	}
}

// batch checks or executes each block of bt. After a divergence it goes on
// executing on its own results, so that the outputs after it are compared
// with what this verifier computes; it stops where a block cannot be
// executed at all.
func (v *rebuild) batch(bt *batch.Batch) error {
	txs, err := v.decode(bt)
	if err != nil {
		return err
	}
	for i := range bt.Blocks {
		n := bt.First + uint64(i)
		blk := &bt.Blocks[i]
		head, _ := v.chain.Head()
		if n <= head.NumberU64() {
			if local := v.chain.BlockByNumber(n); local.Root() != blk.StateRoot {
				v.diverged(&Divergence{Block: n, Posted: blk.StateRoot, Computed: local.Root(), Reason: "the datadir's block differs from the L1's"})
			}
			continue
		}
		if i == 0 && head.Hash() != bt.ParentHash {
			v.diverged(&Divergence{Block: head.NumberU64(), Reason: fmt.Sprintf("the sequencer's block hash is %s, re-executed %s", bt.ParentHash, head.Hash())})
		}
		if err := v.execute(head, n, blk, txs[i]); err != nil {
			return err
		}
	}
	return nil
}

// decode decodes the batch's transactions and recovers their senders on
// every core at once (a pure function of each transaction, cached in it),
// so that execution, which is sequential, does not wait on ecrecover.
func (v *rebuild) decode(bt *batch.Batch) ([]types.Transactions, error) {
	out := make([]types.Transactions, len(bt.Blocks))
	var all types.Transactions
	for i := range bt.Blocks {
		txs, err := bt.Blocks[i].Transactions()
		if err != nil {
			return nil, err // decoding was checked with the batch
		}
		out[i] = txs
		all = append(all, txs...)
	}
	signer := v.chain.Senders().Base()
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(all); i += workers {
				types.Sender(signer, all[i]) // an invalid signature fails again, in order, at execution
			}
		}(w)
	}
	wg.Wait()
	return out, nil
}

func (v *rebuild) execute(parent *types.Block, n uint64, blk *batch.Block, txs types.Transactions) error {
	statedb, err := v.chain.StateAt(parent.Root())
	if err != nil {
		return err
	}
	header := blk.Header(v.builder, parent.Header())
	if header.Time < parent.Time() {
		v.diverged(&Divergence{Block: n, Reason: fmt.Sprintf("timestamp %d before the parent's %d", header.Time, parent.Time())})
		return errStop
	}
	run := v.exec.Begin(context.Background(), header, statedb, gethvm.Config{})
	for i, tx := range txs {
		if _, err := run.Apply(tx); err != nil {
			if errors.Is(err, vm.ErrNodeFault) {
				// This node could not compute the result (ARCHITECTURE.md
				// decision 4): no verdict on the sequencer.
				return fmt.Errorf("L2 block %d, tx %s: local inference fault, no verdict: %w", n, tx.Hash(), err)
			}
			v.diverged(&Divergence{Block: n, Tx: tx.Hash(), TxIndex: i, Reason: fmt.Sprintf("transaction cannot be included: %v", err)})
			return errStop
		}
	}
	block, receipts, err := run.Finish()
	if err != nil {
		return fmt.Errorf("L2 block %d: %w", n, err)
	}
	if block.Root() != blk.StateRoot {
		d := &Divergence{Block: n, Posted: blk.StateRoot, Computed: block.Root(), Reason: "state root differs", TxIndex: -1}
		v.blame(parent, header, txs, d)
		v.diverged(d)
	}
	if err := v.chain.Commit(block, receipts, run.State()); err != nil {
		return fmt.Errorf("L2 block %d: %w", n, err)
	}
	v.report.Executed++
	return nil
}

// blame names the transaction of a divergent block: the only one, or the
// first that called the inference precompile (the one computation whose
// result the sequencer's hardware, not the EVM, decides), found by
// executing the block again with a call tracer.
func (v *rebuild) blame(parent *types.Block, header *types.Header, txs types.Transactions, d *Divergence) {
	if len(txs) == 1 {
		d.Tx, d.TxIndex = txs[0].Hash(), 0
		return
	}
	statedb, err := v.chain.StateAt(parent.Root())
	if err != nil {
		return
	}
	current, found := -1, -1
	hooks := &tracing.Hooks{
		OnEnter: func(depth int, typ byte, from, to common.Address, input []byte, gas uint64, value *big.Int) {
			if to == params.InferencePrecompileAddress && found < 0 {
				found = current
			}
		},
	}
	run := v.exec.Begin(context.Background(), types.CopyHeader(header), statedb, gethvm.Config{Tracer: hooks})
	defer run.Finish() // releases the EVM; the result is not needed
	for i, tx := range txs {
		current = i
		if _, err := run.Apply(tx); err != nil {
			return
		}
	}
	if found >= 0 {
		d.Tx, d.TxIndex = txs[found].Hash(), found
	}
}
