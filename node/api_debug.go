package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/eth/tracers"
	"github.com/ethereum/go-ethereum/eth/tracers/logger"
	"github.com/ethereum/go-ethereum/rpc"

	// Registers callTracer, prestateTracer and the other native tracers.
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"
)

// defaultTraceTimeout is geth's.
const defaultTraceTimeout = 5 * time.Second

// traceConfig is debug_traceTransaction's options: a named tracer with its
// config, or the struct logger's options.
type traceConfig struct {
	*logger.Config
	Tracer       *string
	Timeout      *string
	TracerConfig json.RawMessage
}

// traceCallConfig adds call overrides.
type traceCallConfig struct {
	traceConfig
	StateOverrides *stateOverride
	BlockOverrides *blockOverrides
}

// debugAPI is the debug_ namespace: tracing through the factory's EVMs
// with geth's tracers.
type debugAPI struct{ n *Node }

// TraceTransaction is debug_traceTransaction: re-execute the block up to
// the transaction, then the transaction with the tracer.
func (api *debugAPI) TraceTransaction(ctx context.Context, hash common.Hash, cfg *traceConfig) (any, error) {
	n := api.n
	tx, block, index, err := n.chain.Transaction(hash)
	if err != nil {
		return nil, fmt.Errorf("transaction %x not found", hash)
	}
	statedb, err := n.stateBefore(ctx, block, index)
	if err != nil {
		return nil, err
	}
	return n.traceTx(ctx, tx, block.Header(), block.Hash(), index, statedb, nil, cfg)
}

// TraceBlockByNumber is debug_traceBlockByNumber.
func (api *debugAPI) TraceBlockByNumber(ctx context.Context, number rpc.BlockNumber, cfg *traceConfig) ([]*txTraceResult, error) {
	b := api.n.blockByNumber(number)
	if b == nil {
		return nil, fmt.Errorf("block #%d not found", number)
	}
	return api.n.traceBlock(ctx, b, cfg)
}

// TraceBlockByHash is debug_traceBlockByHash.
func (api *debugAPI) TraceBlockByHash(ctx context.Context, hash common.Hash, cfg *traceConfig) ([]*txTraceResult, error) {
	b := api.n.chain.BlockByHash(hash)
	if b == nil {
		return nil, fmt.Errorf("block %x not found", hash)
	}
	return api.n.traceBlock(ctx, b, cfg)
}

// txTraceResult is one transaction's trace in a block trace.
type txTraceResult struct {
	TxHash common.Hash `json:"txHash"`
	Result any         `json:"result,omitempty"`
	Error  string      `json:"error,omitempty"`
}

func (n *Node) traceBlock(ctx context.Context, b *types.Block, cfg *traceConfig) ([]*txTraceResult, error) {
	if b.NumberU64() == 0 {
		return nil, errors.New("genesis is not traceable")
	}
	statedb, run, err := n.replayStart(ctx, b)
	if err != nil {
		return nil, err
	}
	out := make([]*txTraceResult, len(b.Transactions()))
	for i, tx := range b.Transactions() {
		res, err := n.traceTx(ctx, tx, b.Header(), b.Hash(), i, statedb.Copy(), nil, cfg)
		out[i] = &txTraceResult{TxHash: tx.Hash(), Result: res}
		if err != nil {
			out[i].Error = err.Error()
		}
		if _, err := run.Apply(tx); err != nil {
			return nil, fmt.Errorf("replay tx %d: %w", i, err)
		}
	}
	return out, nil
}

// TraceCall is debug_traceCall.
func (api *debugAPI) TraceCall(ctx context.Context, args txArgs, block *rpc.BlockNumberOrHash, cfg *traceCallConfig) (any, error) {
	n := api.n
	var so stateOverride
	var bo *blockOverrides
	var tc *traceConfig
	if cfg != nil {
		if cfg.StateOverrides != nil {
			so = *cfg.StateOverrides
		}
		bo = cfg.BlockOverrides
		tc = &cfg.traceConfig
	}
	env, msg, err := n.callMessage(orLatest(block), so, bo, &args)
	if err != nil {
		return nil, err
	}
	// The transaction the tracer is shown: a legacy one unless the call
	// names EIP-1559 fees or an authorization list.
	a := args
	if a.MaxFeePerGas == nil && a.GasPrice == nil && a.AuthorizationList == nil {
		a.GasPrice = new(hexutil.Big)
	}
	tx, err := a.toTransaction()
	if err != nil {
		return nil, err
	}
	blockCtx := env.blockCtx
	if msg.GasPrice.Sign() == 0 {
		blockCtx.BaseFee = new(big.Int)
	}
	return n.traceMessage(ctx, tx, msg, blockCtx, common.Hash{}, 0, env.state, tc)
}

// stateBefore is the state in which transaction index of block ran.
func (n *Node) stateBefore(ctx context.Context, block *types.Block, index int) (*state.StateDB, error) {
	statedb, run, err := n.replayStart(ctx, block)
	if err != nil {
		return nil, err
	}
	for i, tx := range block.Transactions()[:index] {
		if _, err := run.Apply(tx); err != nil {
			return nil, fmt.Errorf("replay tx %d: %w", i, err)
		}
	}
	return statedb, nil
}

// replayStart opens block's pre-state and runs its system calls.
func (n *Node) replayStart(ctx context.Context, block *types.Block) (*state.StateDB, interface {
	Apply(*types.Transaction) (*types.Receipt, error)
}, error) {
	root, err := n.chain.PreStateRoot(block)
	if err != nil {
		return nil, nil, err
	}
	statedb, err := n.chain.StateAt(root)
	if err != nil {
		return nil, nil, err
	}
	run := n.exec.Begin(ctx, types.CopyHeader(block.Header()), statedb, gethvm.Config{})
	return statedb, run, nil
}

func (n *Node) traceTx(ctx context.Context, tx *types.Transaction, header *types.Header, blockHash common.Hash, index int, statedb *state.StateDB, _ any, cfg *traceConfig) (any, error) {
	msg, err := gethcore.TransactionToMessage(tx, n.chain.Senders(), header.BaseFee)
	if err != nil {
		return nil, err
	}
	return n.traceMessage(ctx, tx, msg, n.exec.BlockContext(header), blockHash, index, statedb, cfg)
}

func (n *Node) traceMessage(ctx context.Context, tx *types.Transaction, msg *gethcore.Message, blockCtx gethvm.BlockContext, blockHash common.Hash, index int, statedb *state.StateDB, cfg *traceConfig) (any, error) {
	if cfg == nil {
		cfg = &traceConfig{}
	}
	var tracer *tracers.Tracer
	if cfg.Tracer == nil || *cfg.Tracer == "" {
		sl := logger.NewStructLogger(cfg.Config)
		tracer = &tracers.Tracer{Hooks: sl.Hooks(), GetResult: sl.GetResult, Stop: sl.Stop}
	} else {
		// Unknown names would go to geth's JavaScript evaluator, which
		// the devnet does not load.
		if tracers.DefaultDirectory.IsJS(*cfg.Tracer) {
			return nil, fmt.Errorf("tracer %q not found (JavaScript tracers are not supported)", *cfg.Tracer)
		}
		var err error
		tracer, err = tracers.DefaultDirectory.New(*cfg.Tracer, &tracers.Context{
			BlockHash: blockHash, BlockNumber: blockCtx.BlockNumber, TxIndex: index, TxHash: tx.Hash(),
		}, cfg.TracerConfig, n.chain.Config().Ethereum)
		if err != nil {
			return nil, err
		}
	}
	timeout := defaultTraceTimeout
	if cfg.Timeout != nil {
		d, err := time.ParseDuration(*cfg.Timeout)
		if err != nil {
			return nil, err
		}
		timeout = d
	}
	return n.runTracer(ctx, tx, msg, blockCtx, blockHash, index, statedb, tracer, timeout)
}

// runTracer executes one transaction (or call) with tracer attached, on an
// EVM from the factory, and returns the tracer's result.
func (n *Node) runTracer(ctx context.Context, tx *types.Transaction, msg *gethcore.Message, blockCtx gethvm.BlockContext, blockHash common.Hash, index int, statedb *state.StateDB, tracer *tracers.Tracer, timeout time.Duration) (any, error) {
	evm, faults := n.exec.NewEVMWithFaults(blockCtx, state.NewHookedState(statedb, tracer.Hooks), gethvm.Config{Tracer: tracer.Hooks, NoBaseFee: true})
	defer evm.Release()
	deadline, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(deadline, func() {
		if errors.Is(deadline.Err(), context.DeadlineExceeded) {
			tracer.Stop(errors.New("execution timeout"))
			evm.Cancel()
		}
	})
	defer stop()
	statedb.SetTxContext(tx.Hash(), index, uint32(index+1))
	_, _, err := gethcore.ApplyTransactionWithEVM(ctx, msg, gethcore.NewGasPool(msg.GasLimit), statedb, blockCtx.BlockNumber, blockHash, blockCtx.Time, tx, evm)
	if f := faults.Fault(); f != nil {
		return nil, fmt.Errorf("tracing failed: %w", f)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing failed: %w", err)
	}
	return tracer.GetResult()
}
