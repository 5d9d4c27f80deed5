package core

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	gethparams "github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// HashReader gives the hashes of canonical blocks, for BLOCKHASH.
type HashReader interface {
	CanonicalHash(number uint64) common.Hash
}

// Executor runs transactions in blocks with EVMs from the factory. The
// builder (a block the node proposes) and the importer (a block it checks)
// both go through it, so they execute identically.
type Executor struct {
	config  *params.ChainConfig
	factory *vm.Factory
	hashes  HashReader
	signer  types.Signer

	// lastBlobFee memoizes the blob base fee of the last excess blob gas
	// seen: every eth_call needs it and the excess rarely changes.
	lastBlobFee atomic.Pointer[blobFee]

	// jumpDests is geth's shared, thread-safe JUMPDEST analysis cache (by
	// code hash), as geth's block processor uses: analysis does not cost
	// gas before Amsterdam, so sharing it changes nothing but time.
	jumpDests gethvm.JumpDestCache
}

type blobFee struct {
	excess uint64
	time   uint64
	fee    *big.Int
}

// NewExecutor returns an executor. signer recovers senders (the chain's
// Senders, so impersonated transactions execute as their account).
func NewExecutor(config *params.ChainConfig, factory *vm.Factory, hashes HashReader, signer types.Signer) *Executor {
	return &Executor{config: config, factory: factory, hashes: hashes, signer: signer, jumpDests: gethcore.NewJumpDestCache()}
}

// Config is the chain configuration.
func (e *Executor) Config() *params.ChainConfig { return e.config }

// Factory is the EVM factory.
func (e *Executor) Factory() *vm.Factory { return e.factory }

// Signer recovers transaction senders.
func (e *Executor) Signer() types.Signer { return e.signer }

// BlockContext is the EVM's view of header. Hashes of ancestors come from
// the canonical chain: a block is always executed on the canonical head.
func (e *Executor) BlockContext(header *types.Header) gethvm.BlockContext {
	var blobBaseFee *big.Int
	if header.ExcessBlobGas != nil {
		blobBaseFee = e.blobBaseFee(header)
	}
	var baseFee *big.Int
	if header.BaseFee != nil {
		baseFee = new(big.Int).Set(header.BaseFee)
	}
	var random *common.Hash
	if header.Difficulty == nil || header.Difficulty.Sign() == 0 {
		mix := header.MixDigest
		random = &mix
	}
	difficulty := new(big.Int)
	if header.Difficulty != nil {
		difficulty.Set(header.Difficulty)
	}
	return gethvm.BlockContext{
		CanTransfer:      gethcore.CanTransfer,
		Transfer:         gethcore.Transfer,
		GetHash:          e.hashes.CanonicalHash,
		Coinbase:         header.Coinbase,
		GasLimit:         header.GasLimit,
		BlockNumber:      new(big.Int).Set(header.Number),
		Time:             header.Time,
		Difficulty:       difficulty,
		BaseFee:          baseFee,
		BlobBaseFee:      blobBaseFee,
		Random:           random,
		CostPerStateByte: gethparams.CostPerStateByte,
	}
}

// blobBaseFee is eip4844.CalcBlobFee, memoized for the last excess value
// (the fee depends on the excess and, through the fork's blob schedule, on
// the time; both are in the key).
func (e *Executor) blobBaseFee(header *types.Header) *big.Int {
	excess := *header.ExcessBlobGas
	schedule := e.config.Ethereum.LatestFork(header.Time)
	if last := e.lastBlobFee.Load(); last != nil && last.excess == excess && e.config.Ethereum.LatestFork(last.time) == schedule {
		return new(big.Int).Set(last.fee)
	}
	fee := eip4844.CalcBlobFee(e.config.Ethereum, header)
	e.lastBlobFee.Store(&blobFee{excess: excess, time: header.Time, fee: new(big.Int).Set(fee)})
	return fee
}

// NewEVM makes an EVM for header on statedb through the factory.
func (e *Executor) NewEVM(header *types.Header, statedb gethvm.StateDB, cfg gethvm.Config) *gethvm.EVM {
	return e.NewEVMWithContext(e.BlockContext(header), statedb, cfg)
}

// NewEVMWithContext makes an EVM for a block context a call chose (block
// overrides, a zero base fee) through the factory.
func (e *Executor) NewEVMWithContext(blockCtx gethvm.BlockContext, statedb gethvm.StateDB, cfg gethvm.Config) *gethvm.EVM {
	evm, _ := e.NewEVMWithFaults(blockCtx, statedb, cfg)
	return evm
}

// NewEVMWithFaults is NewEVMWithContext with the EVM's fault slot: after
// running a message, a caller that must not trust a result this node could
// not compute (eth_call, tracing) checks it (vm.FaultSlot).
func (e *Executor) NewEVMWithFaults(blockCtx gethvm.BlockContext, statedb gethvm.StateDB, cfg gethvm.Config) (*gethvm.EVM, *vm.FaultSlot) {
	evm, faults := e.factory.NewEVMWithFaults(blockCtx, statedb, e.config.Ethereum, cfg)
	evm.SetJumpDestCache(e.jumpDests)
	return evm, faults
}

// BlockRun is one block being executed: system calls, then transactions
// one by one, then Finish.
type BlockRun struct {
	e        *Executor
	ctx      context.Context
	header   *types.Header
	statedb  *state.StateDB
	evm      *gethvm.EVM
	faults   *vm.FaultSlot // evm's: node faults of this block's execution only
	gp       *gethcore.GasPool
	txs      []*types.Transaction
	receipts types.Receipts
	logs     []*types.Log
	// fault is set once the block's execution hit a node fault; the block
	// can be neither finished nor judged.
	fault *vm.NodeFault
}

// Begin starts executing a block with header (its parent hash, number,
// time, gas limit, base fee and blob fields set) on the parent's post-state.
// It runs the pre-execution system calls (EIP-4788 beacon root, EIP-2935
// parent hash).
func (e *Executor) Begin(ctx context.Context, header *types.Header, statedb *state.StateDB, cfg gethvm.Config) *BlockRun {
	var vmdb gethvm.StateDB = statedb
	if cfg.Tracer != nil {
		vmdb = state.NewHookedState(statedb, cfg.Tracer)
	}
	r := &BlockRun{
		e:       e,
		ctx:     ctx,
		header:  header,
		statedb: statedb,
		gp:      gethcore.NewGasPool(header.GasLimit),
	}
	r.evm, r.faults = e.NewEVMWithFaults(e.BlockContext(header), vmdb, cfg)
	// The pre-execution system calls of geth's core.PreExecution, which
	// wants the parent header only for its hash, which header names.
	if header.ParentBeaconRoot != nil {
		gethcore.ProcessBeaconBlockRoot(*header.ParentBeaconRoot, r.evm, nil)
	}
	if e.config.Ethereum.IsPrague(header.Number, header.Time) {
		gethcore.ProcessParentBlockHash(header.ParentHash, r.evm, nil)
	}
	r.checkFault(common.Hash{})
	return r
}

// checkFault moves a node fault from the EVM's slot into r.fault, blamed on
// tx (zero for a system call), and reports whether the block has one.
func (r *BlockRun) checkFault(tx common.Hash) bool {
	if r.fault == nil {
		if f := r.faults.Fault(); f != nil {
			r.fault = f.InTx(r.header.Number.Uint64(), tx)
		}
	}
	return r.fault != nil
}

// Fault is the node fault the block's execution hit, or nil. Once there is
// one, the block can be neither finished nor judged: Apply and Finish
// return it (errors.Is vm.ErrNodeFault), and the caller must stop
// processing (ARCHITECTURE.md decision 4).
func (r *BlockRun) Fault() error {
	if r.fault == nil {
		return nil
	}
	return r.fault
}

// GasLeft is the gas still available in the block.
func (r *BlockRun) GasLeft() uint64 { return r.gp.Available(false) }

// Count is how many transactions were applied.
func (r *BlockRun) Count() int { return len(r.txs) }

// Apply executes tx. A transaction that cannot be included (bad nonce, fee
// cap below base fee, not enough gas left in the block, ...) leaves state
// and gas untouched and returns the error; a transaction that runs and
// fails (revert, out of gas) is included with a failed receipt. A node
// fault (a *vm.NodeFault naming the block, the transaction, the model and
// the backend) ends the block: this call and every later one return it.
func (r *BlockRun) Apply(tx *types.Transaction) (*types.Receipt, error) {
	if r.fault != nil {
		return nil, r.fault
	}
	msg, err := gethcore.TransactionToMessage(tx, r.e.signer, r.header.BaseFee)
	if err != nil {
		return nil, fmt.Errorf("tx %x: %w", tx.Hash(), err)
	}
	snap, gp := r.statedb.Snapshot(), r.gp.Snapshot()
	index := len(r.txs)
	r.statedb.SetTxContext(tx.Hash(), index, uint32(index+1))
	receipt, _, err := gethcore.ApplyTransactionWithEVM(r.ctx, msg, r.gp, r.statedb, r.header.Number, common.Hash{}, r.header.Time, tx, r.evm)
	if r.checkFault(tx.Hash()) {
		// This node could not compute a result every node must agree on
		// (ARCHITECTURE.md decision 4), whatever the receipt says: the
		// calling contract may have caught the failed call and gone on.
		// The transaction's state is already finalised; Finish refuses the
		// whole block instead of reverting it.
		return nil, r.fault
	}
	if err != nil {
		r.statedb.RevertToSnapshot(snap)
		r.gp.Set(gp)
		return nil, err
	}
	r.txs = append(r.txs, tx)
	r.receipts = append(r.receipts, receipt)
	r.logs = append(r.logs, receipt.Logs...)
	return receipt, nil
}

// Finish runs the post-execution system calls (EIP-7002, EIP-7251 request
// queues, EIP-6110 deposits), fills the header's roots and returns the
// block, with the receipts' block hash filled in.
func (r *BlockRun) Finish() (*types.Block, types.Receipts, error) {
	defer r.evm.Release()
	if r.checkFault(common.Hash{}) {
		return nil, nil, r.fault
	}
	requests, _, err := gethcore.PostExecution(r.ctx, r.e.config.Ethereum, r.header.Number, r.header.Time, r.logs, nil, r.evm, uint32(len(r.txs)+1))
	if r.checkFault(common.Hash{}) {
		return nil, nil, r.fault
	}
	if err != nil {
		return nil, nil, fmt.Errorf("block %d: %w", r.header.Number, err)
	}
	header := types.CopyHeader(r.header)
	header.GasUsed = r.gp.Used()
	rules := r.e.config.Ethereum.Rules(header.Number, true, header.Time)
	header.Root = r.statedb.IntermediateRoot(rules)
	if requests != nil {
		h := types.CalcRequestsHash(requests)
		header.RequestsHash = &h
	}
	var withdrawals []*types.Withdrawal
	if rules.IsShanghai {
		withdrawals = []*types.Withdrawal{}
	}
	block := types.NewBlock(header, &types.Body{Transactions: r.txs, Withdrawals: withdrawals}, r.receipts, trie.NewStackTrie(nil))
	// Fill what geth's receipt derivation would when reading the block back,
	// so that receipts served from memory equal those read from disk.
	hash := block.Hash()
	for i, receipt := range r.receipts {
		receipt.BlockHash = hash
		receipt.EffectiveGasPrice = effectiveGasPrice(r.txs[i], header.BaseFee)
		if receipt.Logs == nil {
			receipt.Logs = []*types.Log{}
		}
		for _, l := range receipt.Logs {
			l.BlockHash = hash
		}
	}
	return block, r.receipts, nil
}

// State is the block's state as executed so far.
func (r *BlockRun) State() *state.StateDB { return r.statedb }

// ErrInvalidBlock wraps every reason an imported block is refused. A node
// fault is never one: it says nothing about the block.
var ErrInvalidBlock = errors.New("invalid block")

// Process re-executes block on its parent's post-state and checks that the
// result matches the header: what a validator does with a block it did not
// build. It returns the receipts and the post-state, ready to commit. When
// this node cannot compute the block (a node fault), the error is the
// *vm.NodeFault, which matches vm.ErrNodeFault and not ErrInvalidBlock: the
// caller must stop, neither committing nor rejecting the block.
func (e *Executor) Process(ctx context.Context, block *types.Block, parentState *state.StateDB) (types.Receipts, *state.StateDB, error) {
	header := types.CopyHeader(block.Header())
	run := e.Begin(ctx, header, parentState, gethvm.Config{})
	if err := run.Fault(); err != nil {
		run.evm.Release()
		return nil, nil, err
	}
	for i, tx := range block.Transactions() {
		if _, err := run.Apply(tx); err != nil {
			run.evm.Release()
			if errors.Is(err, vm.ErrNodeFault) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("%w: tx %d: %w", ErrInvalidBlock, i, err)
		}
	}
	got, receipts, err := run.Finish()
	if errors.Is(err, vm.ErrNodeFault) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	switch {
	case got.GasUsed() != block.GasUsed():
		return nil, nil, fmt.Errorf("%w: gas used %d, header says %d", ErrInvalidBlock, got.GasUsed(), block.GasUsed())
	case got.Root() != block.Root():
		return nil, nil, fmt.Errorf("%w: state root %x, header says %x", ErrInvalidBlock, got.Root(), block.Root())
	case got.ReceiptHash() != block.ReceiptHash():
		return nil, nil, fmt.Errorf("%w: receipt root %x, header says %x", ErrInvalidBlock, got.ReceiptHash(), block.ReceiptHash())
	case got.Bloom() != block.Bloom():
		return nil, nil, fmt.Errorf("%w: bloom differs from header", ErrInvalidBlock)
	case got.TxHash() != block.TxHash():
		return nil, nil, fmt.Errorf("%w: transaction root differs from header", ErrInvalidBlock)
	case !equalHashPtr(got.Header().RequestsHash, block.Header().RequestsHash):
		return nil, nil, fmt.Errorf("%w: requests hash differs from header", ErrInvalidBlock)
	}
	if got.Hash() != block.Hash() {
		return nil, nil, fmt.Errorf("%w: re-executed block hash %x, got %x", ErrInvalidBlock, got.Hash(), block.Hash())
	}
	return receipts, run.statedb, nil
}

func equalHashPtr(a, b *common.Hash) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// effectiveGasPrice is what tx paid per gas in a block with baseFee:
// min(tip + base fee, fee cap), which for legacy transactions is their gas
// price.
func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	if baseFee == nil {
		return new(big.Int).Set(tx.GasFeeCap())
	}
	price := new(big.Int).Add(tx.GasTipCap(), baseFee)
	if price.Cmp(tx.GasFeeCap()) > 0 {
		price.Set(tx.GasFeeCap())
	}
	return price
}
