package node

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/tracers/logger"
	gethparams "github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// callTimeout bounds one eth_call execution (geth's default).
const callTimeout = 5 * time.Second

// callEnv is a state and block context to run messages in.
type callEnv struct {
	state    *state.StateDB
	blockCtx gethvm.BlockContext
}

// prepareCall opens the state after block and applies overrides.
func (n *Node) prepareCall(bnh rpc.BlockNumberOrHash, so stateOverride, bo *blockOverrides) (*callEnv, error) {
	st, block, err := n.stateAndBlock(bnh)
	if err != nil {
		return nil, err
	}
	blockCtx := n.evmContext(block)
	if err := bo.apply(&blockCtx); err != nil {
		return nil, err
	}
	if err := so.apply(st); err != nil {
		return nil, err
	}
	return &callEnv{state: st, blockCtx: blockCtx}, nil
}

// callMessage prepares a call's state and turns its arguments into a
// message, as eth_call and debug_traceCall do.
func (n *Node) callMessage(bnh rpc.BlockNumberOrHash, so stateOverride, bo *blockOverrides, args *txArgs) (*callEnv, *gethcore.Message, error) {
	env, err := n.prepareCall(bnh, so, bo)
	if err != nil {
		return nil, nil, err
	}
	if err := args.callDefaults(n.cfg.RPCGasCap, n.chainID()); err != nil {
		return nil, nil, err
	}
	msg, err := args.toMessage(env.blockCtx.BaseFee, true)
	if err != nil {
		return nil, nil, err
	}
	return env, msg, nil
}

// preparePendingCall is prepareCall for methods whose block defaults to
// "pending" (estimateGas, createAccessList).
func (n *Node) preparePendingCall(block *rpc.BlockNumberOrHash, overrides *stateOverride, bo *blockOverrides) (*callEnv, error) {
	bnh := rpc.BlockNumberOrHashWithNumber(rpc.PendingBlockNumber)
	if block != nil {
		bnh = *block
	}
	var so stateOverride
	if overrides != nil {
		so = *overrides
	}
	return n.prepareCall(bnh, so, bo)
}

// run executes msg on a copy of env's state (or on it when inPlace) with an
// EVM from the factory.
func (n *Node) run(ctx context.Context, env *callEnv, msg *gethcore.Message, hooks *tracing.Hooks, inPlace bool) (*gethcore.ExecutionResult, error) {
	blockCtx := env.blockCtx
	// Calls may pay nothing: lower the base fee to zero rather than refuse
	// them, as geth does.
	if msg.GasPrice.Sign() == 0 {
		blockCtx.BaseFee = new(big.Int)
	}
	if msg.BlobGasFeeCap != nil && msg.BlobGasFeeCap.BitLen() == 0 {
		blockCtx.BlobBaseFee = new(big.Int)
	}
	st := env.state
	if !inPlace {
		st = st.Copy()
	}
	var vmdb gethvm.StateDB = st
	if hooks != nil {
		vmdb = state.NewHookedState(st, hooks)
	}
	evm, faults := n.exec.NewEVMWithFaults(blockCtx, vmdb, gethvm.Config{NoBaseFee: true, Tracer: hooks})
	defer evm.Release()
	// The call's time limit, and the request's end when it has one.
	timer := time.AfterFunc(callTimeout, evm.Cancel)
	defer timer.Stop()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, evm.Cancel)
		defer stop()
	}
	result, err := gethcore.ApplyMessage(evm, msg, gethcore.NewGasPool(msg.GasLimit))
	if f := faults.Fault(); f != nil {
		// This node could not compute the call's result (its own broken
		// hardware): an error, never a result a contract made of the
		// failed call. It is this call's alone; no block is affected.
		return nil, f
	}
	if err != nil {
		return nil, fmt.Errorf("err: %w (supplied gas %d)", err, msg.GasLimit)
	}
	if evm.Cancelled() {
		return nil, fmt.Errorf("execution aborted (timeout = %v)", callTimeout)
	}
	return result, nil
}

// revertError is geth's answer to a reverted call: code 3, the revert data
// as error data, the decoded reason in the message (geth's Error(string) and
// Panic(uint256), and the custom errors of the precompile, the registry and
// the SDK: describeCustomError).
type revertError struct {
	error
	data string
}

func (e *revertError) ErrorCode() int { return 3 }
func (e *revertError) ErrorData() any { return e.data }

func newRevertError(revert []byte) *revertError {
	err := gethvm.ErrExecutionReverted
	if reason, unpackErr := abi.UnpackRevert(revert); unpackErr == nil {
		err = fmt.Errorf("%w: %v", gethvm.ErrExecutionReverted, reason)
	} else if desc, ok := describeCustomError(revert); ok {
		err = fmt.Errorf("%w: %s", gethvm.ErrExecutionReverted, desc)
	}
	return &revertError{error: err, data: hexutil.Encode(revert)}
}

// Call is eth_call.
func (api *ethAPI) Call(ctx context.Context, args txArgs, block *rpc.BlockNumberOrHash, overrides *stateOverride, blockOverrides *blockOverrides) (hexutil.Bytes, error) {
	n := api.n
	var so stateOverride
	if overrides != nil {
		so = *overrides
	}
	env, msg, err := n.callMessage(orLatest(block), so, blockOverrides, &args)
	if err != nil {
		return nil, err
	}
	result, err := n.run(ctx, env, msg, nil, true)
	if err != nil {
		return nil, err
	}
	if len(result.Revert()) > 0 {
		return nil, newRevertError(result.Revert())
	}
	return result.Return(), result.Err
}

// estimateErrorRatio lets the search stop within 1.5% above the minimum,
// as geth's eth_estimateGas does.
const estimateErrorRatio = 0.015

// EstimateGas is eth_estimateGas: a binary search over the gas limit, each
// trial a fresh EVM from the factory on a copy of the state.
func (api *ethAPI) EstimateGas(ctx context.Context, args txArgs, block *rpc.BlockNumberOrHash, overrides *stateOverride, blockOverrides *blockOverrides) (hexutil.Uint64, error) {
	n := api.n
	env, err := n.preparePendingCall(block, overrides, blockOverrides)
	if err != nil {
		return 0, err
	}
	// The pending nonce, so that a transaction estimated now runs as it
	// would if sent now.
	if args.Nonce == nil && args.From != nil {
		nonce := hexutil.Uint64(n.pendingNonce(*args.From))
		if nonce < hexutil.Uint64(env.state.GetNonce(*args.From)) {
			nonce = hexutil.Uint64(env.state.GetNonce(*args.From))
		}
		args.Nonce = &nonce
	}
	userGas := args.Gas
	if err := args.callDefaults(n.cfg.RPCGasCap, n.chainID()); err != nil {
		return 0, err
	}
	args.Gas = userGas
	gas := hexutil.Uint64(0)
	if args.Gas == nil {
		args.Gas = &gas
	}
	msg, err := args.toMessage(env.blockCtx.BaseFee, true)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	used, revert, err := n.estimate(ctx, env, msg)
	if err != nil {
		if len(revert) > 0 {
			return 0, newRevertError(revert)
		}
		return 0, err
	}
	return hexutil.Uint64(used), nil
}

// estimate is geth's gas estimation algorithm (eth/gasestimator) over the
// factory's EVMs.
func (n *Node) estimate(ctx context.Context, env *callEnv, msg *gethcore.Message) (uint64, []byte, error) {
	hi := env.blockCtx.GasLimit
	if msg.GasLimit >= gethparams.TxGas {
		hi = msg.GasLimit
	}
	feeCap := msg.GasFeeCap
	if feeCap == nil {
		feeCap = msg.GasPrice
	}
	if feeCap != nil && feeCap.BitLen() != 0 {
		available := env.state.GetBalance(msg.From).Clone()
		if msg.Value != nil {
			if msg.Value.Cmp(available) >= 0 {
				return 0, nil, gethcore.ErrInsufficientFundsForTransfer
			}
			available.Sub(available, msg.Value)
		}
		allowance := new(uint256.Int).Div(available, feeCap)
		if allowance.IsUint64() && hi > allowance.Uint64() {
			hi = allowance.Uint64()
		}
	}
	if hi > n.cfg.RPCGasCap {
		hi = n.cfg.RPCGasCap
	}
	try := func(gas uint64) (bool, *gethcore.ExecutionResult, error) {
		m := *msg
		m.GasLimit = gas
		result, err := n.run(ctx, env, &m, nil, false)
		if err != nil {
			if errors.Is(err, gethcore.ErrIntrinsicGas) || errors.Is(err, gethcore.ErrFloorDataGas) || errors.Is(err, gethcore.ErrGasLimitTooHigh) {
				return true, nil, nil
			}
			return true, nil, err
		}
		return result.Failed(), result, nil
	}
	// A plain transfer costs exactly what it uses at 21000.
	if len(msg.Data) == 0 && msg.To != nil && env.state.GetCodeSize(*msg.To) == 0 {
		if failed, result, err := try(gethparams.TxGas); !failed && err == nil {
			return result.UsedGas, nil, nil
		}
	}
	failed, result, err := try(hi)
	if err != nil {
		return 0, nil, err
	}
	if failed {
		if result != nil && !errors.Is(result.Err, gethvm.ErrOutOfGas) {
			return 0, result.Revert(), result.Err
		}
		return 0, nil, fmt.Errorf("gas required exceeds allowance (%d)", hi)
	}
	lo := result.UsedGas - 1
	if optimistic := (result.MaxUsedGas + gethparams.CallStipend) * 64 / 63; optimistic < hi {
		failed, _, err = try(optimistic)
		if err != nil {
			return 0, nil, err
		}
		if failed {
			lo = optimistic
		} else {
			hi = optimistic
		}
	}
	for lo+1 < hi {
		if float64(hi-lo)/float64(hi) < estimateErrorRatio {
			break
		}
		mid := lo + (hi-lo)/2
		if mid > lo*2 {
			mid = lo * 2
		}
		failed, _, err = try(mid)
		if err != nil {
			return 0, nil, err
		}
		if failed {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil, nil
}

// accessListResult is eth_createAccessList's answer.
type accessListResult struct {
	Accesslist *types.AccessList `json:"accessList"`
	Error      string            `json:"error,omitempty"`
	GasUsed    hexutil.Uint64    `json:"gasUsed"`
}

// CreateAccessList is eth_createAccessList: run the call with an access
// list tracer until the list it records stops changing.
func (api *ethAPI) CreateAccessList(ctx context.Context, args txArgs, block *rpc.BlockNumberOrHash, overrides *stateOverride) (*accessListResult, error) {
	n := api.n
	env, err := n.preparePendingCall(block, overrides, nil)
	if err != nil {
		return nil, err
	}
	if args.Nonce == nil && args.From != nil {
		nonce := hexutil.Uint64(env.state.GetNonce(*args.From))
		args.Nonce = &nonce
	}
	if err := args.callDefaults(n.cfg.RPCGasCap, n.chainID()); err != nil {
		return nil, err
	}
	to := args.To
	if to == nil {
		addr := crypto.CreateAddress(args.from(), uint64(*args.Nonce))
		to = &addr
	}
	rules := n.chain.Config().Ethereum.Rules(env.blockCtx.BlockNumber, true, env.blockCtx.Time)
	exclude := map[common.Address]struct{}{args.from(): {}, *to: {}}
	for _, p := range n.exec.Factory().Addresses(rules, env.blockCtx.Time) {
		exclude[p] = struct{}{}
	}
	prevTracer := logger.NewAccessListTracer(nil, exclude)
	if args.AccessList != nil {
		prevTracer = logger.NewAccessListTracer(*args.AccessList, exclude)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	// Each run may touch more slots than the list it ran with; stop when a
	// run records exactly the list it was given (geth bounds nothing here;
	// 16 rounds is far beyond what converging lists need).
	for i := 0; i < 16; i++ {
		list := prevTracer.AccessList()
		a := args
		a.AccessList = &list
		msg, err := a.toMessage(env.blockCtx.BaseFee, true)
		if err != nil {
			return nil, err
		}
		tracer := logger.NewAccessListTracer(list, exclude)
		result, err := n.run(ctx, env, msg, tracer.Hooks(), false)
		if err != nil {
			return nil, err
		}
		if tracer.Equal(prevTracer) {
			out := &accessListResult{Accesslist: &list, GasUsed: hexutil.Uint64(result.UsedGas)}
			if result.Err != nil {
				out.Error = result.Err.Error()
			}
			return out, nil
		}
		prevTracer = tracer
	}
	return nil, errors.New("access list did not converge")
}
