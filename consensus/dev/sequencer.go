package dev

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/vm"
)

// Sequencer makes the devnet's blocks. Every change of the head (a mined
// block, a state edit, a revert) happens under its lock, and the pool is
// brought onto the new head before the lock is released, so a caller that
// sees a receipt also sees a pool that knows the transaction was included.
type Sequencer struct {
	chain   *core.Chain
	builder *core.Builder
	exec    *core.Executor
	pool    *core.Pool
	engine  *Engine
	log     *slog.Logger

	mu        sync.Mutex
	automine  bool
	blockTime time.Duration
	forced    []*types.Transaction // impersonated, in arrival order
	baseFee   *big.Int             // next block's base fee, when set
	gasLimit  uint64               // block gas limit, when changed
	snapshots []snapshot
	wake      chan struct{} // interval loop: settings changed
	// halted is set, for good, when a block's execution hit a node fault
	// (halt.go); it matches ErrHalted and vm.ErrNodeFault.
	halted error
}

// Config configures a Sequencer.
type Config struct {
	// BlockTime is the interval between blocks; zero mines a block when a
	// transaction arrives (automine).
	BlockTime time.Duration
	Log       *slog.Logger
}

// NewSequencer returns a sequencer; Run starts interval mining.
func NewSequencer(chain *core.Chain, exec *core.Executor, pool *core.Pool, engine *Engine, cfg Config) *Sequencer {
	logger := cfg.Log
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sequencer{
		chain:     chain,
		builder:   core.NewBuilder(chain, exec),
		exec:      exec,
		pool:      pool,
		engine:    engine,
		log:       logger,
		automine:  cfg.BlockTime == 0,
		blockTime: cfg.BlockTime,
		wake:      make(chan struct{}, 1),
	}
}

// Engine is the sequencer's engine.
func (s *Sequencer) Engine() *Engine { return s.engine }

// Pool is the transaction pool.
func (s *Sequencer) Pool() *core.Pool { return s.pool }

// Run mines a block every block time until ctx ends. With no interval it
// waits for SetInterval (evm_setIntervalMining) to set one.
func (s *Sequencer) Run(ctx context.Context) {
	for {
		s.mu.Lock()
		interval := s.blockTime
		s.mu.Unlock()
		var tick <-chan time.Time
		var timer *time.Timer
		if interval > 0 {
			timer = time.NewTimer(interval)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-s.wake:
			if timer != nil {
				timer.Stop()
			}
		case <-tick:
			if _, err := s.Mine(ctx, nil); err != nil && ctx.Err() == nil {
				if errors.Is(err, ErrHalted) {
					return // logged once, by halt
				}
				s.log.Error("interval block failed", "err", err)
			}
		}
	}
}

// Submit adds a signed transaction to the pool and, in automine mode, mines
// it before returning.
func (s *Sequencer) Submit(ctx context.Context, tx *types.Transaction) error {
	if err := s.Halted(); err != nil {
		return err
	}
	if err := s.checkFeeCap(tx); err != nil {
		return err
	}
	if err := s.pool.Add(tx); err != nil {
		return err
	}
	if s.Automine() {
		if _, err := s.mineIfPending(ctx); err != nil {
			return fmt.Errorf("mine: %w", err)
		}
	}
	return nil
}

// checkFeeCap refuses a transaction that cannot pay the next block's base
// fee, as anvil does; geth's pool would keep it waiting, which with a block
// per transaction means forever.
func (s *Sequencer) checkFeeCap(tx *types.Transaction) error {
	baseFee := s.NextBaseFee()
	if baseFee != nil && tx.GasFeeCapIntCmp(baseFee) < 0 {
		return fmt.Errorf("%w: maxFeePerGas: %s, baseFee: %s", gethcore.ErrFeeCapTooLow, tx.GasFeeCap(), baseFee)
	}
	return nil
}

// SubmitImpersonated queues a transaction sent on behalf of an impersonated
// account (placeholder signature, sender recorded in the chain's Senders).
// In automine mode it is mined before returning, and an error says why it
// could not be included.
func (s *Sequencer) SubmitImpersonated(ctx context.Context, tx *types.Transaction, from common.Address) error {
	if err := s.checkFeeCap(tx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted != nil {
		return s.halted
	}
	s.chain.Senders().Record(tx.Hash(), from)
	s.forced = append(s.forced, tx)
	if !s.automine {
		return nil
	}
	built, err := s.mineLocked(ctx, nil)
	if err != nil {
		return err
	}
	if reason, ok := built.Refused[tx.Hash()]; ok {
		return reason
	}
	return nil
}

// Automine reports whether a block is mined per transaction.
func (s *Sequencer) Automine() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.automine
}

// SetAutomine switches automine (evm_setAutomine).
func (s *Sequencer) SetAutomine(ctx context.Context, on bool) error {
	s.mu.Lock()
	s.automine = on
	s.mu.Unlock()
	if on {
		_, err := s.mineIfPending(ctx)
		return err
	}
	return nil
}

// SetInterval sets the interval between blocks (evm_setIntervalMining);
// zero stops interval mining.
func (s *Sequencer) SetInterval(d time.Duration) {
	s.mu.Lock()
	s.blockTime = d
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// NextBaseFee is the base fee of the next block.
func (s *Sequencer) NextBaseFee() *big.Int {
	s.mu.Lock()
	override := s.baseFee
	s.mu.Unlock()
	if override != nil {
		return new(big.Int).Set(override)
	}
	head := s.chain.HeadHeader()
	return s.builder.NextHeader(head, core.BuildAttrs{Timestamp: head.Time}).BaseFee
}

// SetNextBaseFee fixes the base fee of the next block.
func (s *Sequencer) SetNextBaseFee(fee *big.Int) {
	s.mu.Lock()
	s.baseFee = new(big.Int).Set(fee)
	s.mu.Unlock()
}

// SetGasLimit changes the block gas limit of later blocks.
func (s *Sequencer) SetGasLimit(limit uint64) error {
	if limit < 21000 {
		return fmt.Errorf("gas limit %d below 21000", limit)
	}
	s.mu.Lock()
	s.gasLimit = limit
	s.mu.Unlock()
	return nil
}

// Mine mines one block now, with whatever is pending, even if nothing is.
// A non-nil timestamp is used as the block's (evm_mine with a timestamp).
func (s *Sequencer) Mine(ctx context.Context, timestamp *uint64) (*types.Block, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	built, err := s.mineLocked(ctx, timestamp)
	if err != nil {
		return nil, err
	}
	return built.Block, nil
}

// mineIfPending mines a block if a transaction is waiting.
func (s *Sequencer) mineIfPending(ctx context.Context) (*types.Block, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.forced) == 0 && len(s.pool.Pending(s.nextBaseFeeLocked())) == 0 {
		return nil, nil
	}
	built, err := s.mineLocked(ctx, nil)
	if err != nil {
		return nil, err
	}
	return built.Block, nil
}

func (s *Sequencer) nextBaseFeeLocked() *big.Int {
	if s.baseFee != nil {
		return s.baseFee
	}
	head := s.chain.HeadHeader()
	return s.builder.NextHeader(head, core.BuildAttrs{Timestamp: head.Time}).BaseFee
}

func (s *Sequencer) mineLocked(ctx context.Context, timestamp *uint64) (*core.Built, error) {
	if s.halted != nil {
		return nil, s.halted
	}
	parent := s.chain.HeadHeader()
	clock := s.engine.Clock()
	var (
		ts       uint64
		explicit bool
	)
	if timestamp != nil {
		if *timestamp < parent.Time {
			return nil, fmt.Errorf("timestamp %d is lower than the previous block's timestamp %d", *timestamp, parent.Time)
		}
		ts, explicit = *timestamp, true
	} else {
		ts, explicit = clock.Next(parent.Time)
	}
	attrs := s.engine.attrs(parent, ts)
	attrs.BaseFee = s.baseFee
	attrs.GasLimit = s.gasLimit
	forced := s.forced
	s.forced = nil
	built, err := s.builder.Build(ctx, attrs, forced, s.pool)
	if err != nil {
		s.forced = forced
		if errors.Is(err, vm.ErrNodeFault) {
			return nil, s.haltLocked("producing", err)
		}
		return nil, err
	}
	for _, tx := range forced {
		if _, refused := built.Refused[tx.Hash()]; refused {
			s.chain.Senders().Forget(tx.Hash())
		}
	}
	if err := s.chain.Commit(built.Block, built.Receipts, built.State); err != nil {
		return nil, err
	}
	clock.Used(ts, explicit)
	s.baseFee = nil
	s.pool.Sync()
	s.log.Info("mined", "number", built.Block.NumberU64(), "txs", len(built.Block.Transactions()), "hash", built.Block.Hash())
	return built, nil
}

// EditState applies edit to the head state and makes the result the head
// state without a block (anvil_setBalance and friends).
func (s *Sequencer) EditState(edit func(*state.StateDB) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, root := s.chain.Head()
	statedb, err := s.chain.StateAt(root)
	if err != nil {
		return err
	}
	if err := edit(statedb); err != nil {
		return err
	}
	if _, err := s.chain.SetHeadState(statedb); err != nil {
		return err
	}
	s.pool.Sync()
	return nil
}

// Import checks and executes a block built elsewhere and makes it the head.
func (s *Sequencer) Import(ctx context.Context, block *types.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted != nil {
		return s.halted
	}
	head, root := s.chain.Head()
	if err := s.engine.VerifyHeader(head.Header(), block.Header()); err != nil {
		return err
	}
	parentState, err := s.chain.StateAt(root)
	if err != nil {
		return err
	}
	receipts, post, err := s.exec.Process(ctx, block, parentState)
	if errors.Is(err, vm.ErrNodeFault) {
		return s.haltLocked("importing", err)
	}
	if err != nil {
		return err
	}
	if err := s.chain.Commit(block, receipts, post); err != nil {
		return err
	}
	s.pool.Sync()
	return nil
}

// ForcedNonce is the nonce after the impersonated transactions of from
// still waiting for a block; false when none wait.
func (s *Sequencer) ForcedNonce(from common.Address) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next uint64
	found := false
	for _, tx := range s.forced {
		if sender, ok := s.chain.Senders().Recorded(tx.Hash()); ok && sender == from && tx.Nonce()+1 > next {
			next, found = tx.Nonce()+1, true
		}
	}
	return next, found
}
