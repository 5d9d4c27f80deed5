package vm

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	gethvm "github.com/ethereum/go-ethereum/core/vm"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
)

// The inference precompile's functions (contracts/src/IInference.sol).
var (
	fnInfer          = selector("infer(bytes32,bytes)")
	fnInferFresh     = selector("inferFresh(bytes32,bytes,(uint32,uint64,uint64)[])")
	fnInferWithFeeds = selector("inferWithFeeds(bytes32,bytes,(address,uint32,uint64)[])")
	fnQuote          = selector("quote(bytes32,uint256)")
	fnModelInfo      = selector("modelInfo(bytes32)")
	fnOutputLayout   = selector("outputLayout(bytes32)")
	fnValidate       = selector("validate(address[])")
)

// fnInferFreshWithFeeds takes stamps for stamped elements and feeds for fed
// ones, for a model that declares both (vm/freshness.go, fresh).
var fnInferFreshWithFeeds = selector("inferFreshWithFeeds(bytes32,bytes,(uint32,uint64,uint64)[],(address,uint32,uint64)[])")

// Inference is the inference precompile at params.InferencePrecompileAddress:
// a contract calls a model inline and gets its output in the same call. It
// is stateful but read-only: it reads models from the registry's state and
// "now" from the block context of the EVM it is bound to, and never writes,
// so it behaves the same under CALL and STATICCALL, in transactions,
// eth_call, gas estimation and tracing (PRECOMPILE.md).
type Inference struct {
	config *params.ChainConfig
	cache  *runtime.Cache
	calls  *CallLog
	log    *slog.Logger
	// faults counts the node faults this node has seen, for operators
	// (inference_backends). Execution never reads it: a fault travels in
	// the FaultSlot of the EVM that hit it.
	faults atomic.Uint64
}

// Faults is the number of node faults seen so far, a statistic for
// operators: whether a block or a call faulted is in its EVM's FaultSlot.
func (p *Inference) Faults() uint64 { return p.faults.Load() }

// InferenceOptions are the node-local parts of the precompile; none of them
// changes a result or a gas figure.
type InferenceOptions struct {
	// Cache holds prepared models; nil makes one on the best backend here.
	Cache *runtime.Cache
	// Calls records recent calls for the inference_ RPC namespace; may be nil.
	Calls *CallLog
	Log   *slog.Logger
}

// NewInference returns the inference precompile for a chain.
func NewInference(config *params.ChainConfig, opts InferenceOptions) (*Inference, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Cache == nil {
		backend, err := runtime.Select("auto")
		if err != nil {
			return nil, err
		}
		opts.Cache = runtime.NewCache(backend, params.InferenceCacheBytes, opts.Log)
	}
	return &Inference{config: config, cache: opts.Cache, calls: opts.Calls, log: opts.Log}, nil
}

// Address implements Stateful.
func (p *Inference) Address() common.Address { return params.InferencePrecompileAddress }

// Active implements Stateful.
func (p *Inference) Active(blockTime uint64) bool { return p.config.IsInference(blockTime) }

// Bind implements Stateful.
func (p *Inference) Bind(evm *gethvm.EVM, faults *FaultSlot) gethvm.PrecompiledContract {
	return &boundInference{p: p, evm: evm, faults: faults}
}

// Cache is the precompile's cache of prepared models.
func (p *Inference) Cache() *runtime.Cache { return p.cache }

// Calls is the log of recent calls (nil if none was configured).
func (p *Inference) Calls() *CallLog { return p.calls }

// boundInference is the precompile bound to one EVM.
type boundInference struct {
	p      *Inference
	evm    *gethvm.EVM
	faults *FaultSlot // the EVM's
}

func (b *boundInference) Name() string { return "INFERENCE" }

// RequiredGas is a pure function of the calldata and the registry's record
// of the model (set once, at registration): never of a cache or a backend.
func (b *boundInference) RequiredGas(input []byte) uint64 {
	if len(input) < 4 {
		return params.InferenceCallGas
	}
	a := args(input[4:])
	switch [4]byte(input[:4]) {
	case fnInfer, fnInferFresh, fnInferWithFeeds, fnInferFreshWithFeeds:
		gas := uint64(params.InferenceCallGas)
		id, err := a.bytes32(0)
		if err != nil {
			return gas
		}
		if manifest, info, ok := registered(b.evm.StateDB, id); ok {
			gas = addGas(addGas(gas, info.Gas), excessChunkGas(b.evm.StateDB, manifest, info))
		}
		switch [4]byte(input[:4]) {
		case fnInferFresh:
			if _, n, err := a.array(64, 3); err == nil {
				gas = addGas(gas, n*params.InferenceStampGas)
			}
		case fnInferWithFeeds:
			if _, n, err := a.array(64, 3); err == nil {
				gas = addGas(gas, n*params.InferenceFeedGas)
			}
		case fnInferFreshWithFeeds:
			if _, n, err := a.array(64, 3); err == nil {
				gas = addGas(gas, n*params.InferenceStampGas)
			}
			if _, n, err := a.array(96, 3); err == nil {
				gas = addGas(gas, n*params.InferenceFeedGas)
			}
		}
		return gas
	case fnQuote:
		return params.InferenceQuoteGas
	case fnModelInfo, fnOutputLayout:
		// Both load the model, so both pay for its bytes.
		gas := uint64(params.InferenceModelInfoGas)
		if id, err := a.bytes32(0); err == nil {
			if manifest, info, ok := registered(b.evm.StateDB, id); ok {
				gas = addGas(gas, (uint64(info.Size)+params.InferenceBytesPerGas-1)/params.InferenceBytesPerGas)
				gas = addGas(gas, excessChunkGas(b.evm.StateDB, manifest, info))
			}
		}
		return gas
	case fnValidate:
		gas := uint64(params.InferenceValidateBaseGas)
		start, n, err := a.array(0, 1)
		if err != nil || n > MaxModelChunks {
			return gas
		}
		for i := uint64(0); i < n; i++ {
			addr, err := a.address(start + 32*i)
			if err != nil {
				return gas
			}
			gas = addGas(gas, params.InferenceValidateChunkGas+uint64(b.evm.StateDB.GetCodeSize(addr))*params.InferenceValidateGasPerByte)
		}
		return gas
	}
	return params.InferenceCallGas
}

func addGas(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// Run never panics on any calldata: every refusal is a typed revert.
func (b *boundInference) Run(input []byte) ([]byte, error) {
	if len(input) < 4 {
		return result(nil, badInput("calldata is %d bytes; a call starts with a 4-byte selector", len(input)))
	}
	a := args(input[4:])
	switch [4]byte(input[:4]) {
	case fnInfer:
		return result(b.infer("infer", a, nil, nil))
	case fnInferFresh:
		stamps, err := readStamps(a, 64)
		if err != nil {
			return result(nil, err)
		}
		return result(b.infer("inferFresh", a, stamps, nil))
	case fnInferWithFeeds:
		feeds, err := readFeeds(a, 64)
		if err != nil {
			return result(nil, err)
		}
		return result(b.infer("inferWithFeeds", a, nil, feeds))
	case fnInferFreshWithFeeds:
		stamps, err := readStamps(a, 64)
		if err != nil {
			return result(nil, err)
		}
		feeds, err := readFeeds(a, 96)
		if err != nil {
			return result(nil, err)
		}
		return result(b.infer("inferFreshWithFeeds", a, stamps, feeds))
	case fnQuote:
		return result(b.quote(a))
	case fnModelInfo:
		return result(b.modelInfo(a))
	case fnOutputLayout:
		return result(b.outputLayout(a))
	case fnValidate:
		return result(b.validate(a))
	}
	return result(nil, badInput("unknown selector 0x%x", input[:4]))
}

// load returns the registered model id, prepared, from the cache or state,
// and whether it came from the cache. What it returns, or the revert it
// fails with, depends on the state alone (see locate).
func (b *boundInference) load(id common.Hash) (*runtime.Prepared, ModelInfo, bool, error) {
	sm, ok, err := locate(b.evm.StateDB, id)
	if !ok {
		return nil, sm.info, false, modelNotFound(id)
	}
	if err != nil {
		return nil, sm.info, false, invalidModel(fmt.Sprintf("model %s cannot be loaded: %v", id, err))
	}
	prep, cached, err := loadStored(b.p.cache, b.evm.StateDB, sm)
	if errors.Is(err, ErrNodeFault) {
		// Decoding panicked, or no backend could prepare a valid model:
		// this node's fault, never a verdict on the model.
		return nil, sm.info, cached, b.fault(id, b.p.cache.Backend().Name(), err)
	}
	if err != nil {
		// The registry only records models that validate, so this is a
		// state only an override or a devnet setter can make; it is the
		// same on every node.
		return nil, sm.info, cached, invalidModel(fmt.Sprintf("model %s cannot be loaded: %v", id, err))
	}
	return prep, sm.info, cached, nil
}

// fault records a node fault in the EVM's slot, logs it and returns it: the
// call fails, and whoever runs the EVM sees the fault whatever the calling
// contract does with the failure.
func (b *boundInference) fault(id common.Hash, backend string, err error) error {
	f := &NodeFault{Block: b.evm.Context.BlockNumber.Uint64(), Model: id, Backend: backend, Err: err}
	b.p.faults.Add(1)
	b.p.log.Error("inference node fault", f.LogAttrs()...)
	b.faults.Record(f)
	return f
}

// infer runs a model after the freshness guard (fresh). stamps and feeds
// are nil for plain infer; an entry point without one of them passes nil.
func (b *boundInference) infer(fn string, a args, stamps []stamp, feeds []feed) (out []byte, err error) {
	start := time.Now()
	id, err := a.bytes32(0)
	if err != nil {
		return nil, badInput("modelId: %v", err)
	}
	input, err := a.dynBytes(32)
	if err != nil {
		return nil, badInput("input: %v", err)
	}
	call := Call{Time: start, Block: b.evm.Context.BlockNumber.Uint64(), Function: fn, ModelID: id}
	defer func() {
		call.Latency = time.Since(start).Nanoseconds()
		call.Outcome = outcome(err)
		b.p.calls.add(call)
	}()
	prep, info, cached, err := b.load(id)
	call.FromCache = cached
	if err != nil {
		return nil, err
	}
	call.Backend, call.Gas = prep.Backend, info.Gas
	m := prep.Model
	if len(input) != m.InputBytes() {
		return nil, badInput("input is %d bytes; model %s takes %d", len(input), id, m.InputBytes())
	}
	g := guard{now: b.evm.Context.Time, model: m}
	if input, err = b.fresh(g, input, stamps, feeds); err != nil {
		return nil, err
	}
	output, err := prep.Run(input)
	switch {
	case err == nil:
		return encodeBytes(output), nil
	case errors.Is(err, inference.ErrBadInput):
		return nil, badInput("%v", err)
	}
	// A node fault: this node cannot compute what others do. Nothing
	// derived from this execution may be committed, or judged.
	return nil, b.fault(id, prep.Backend, err)
}

// outcome names a call's result for the call log.
func outcome(err error) string {
	var r *revert
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &r) && len(r.data) >= 4:
		for name, sel := range map[string][4]byte{"ModelNotFound": errModelNotFound, "StaleInput": errStaleInput,
			"FutureInput": errFutureInput, "MissingFreshness": errMissingFreshness, "BadInput": errBadInput,
			"FeedUnavailable": errFeedUnavailable, "InvalidModel": errInvalidModel} {
			if [4]byte(r.data[:4]) == sel {
				return name
			}
		}
	}
	return "fault"
}

// quote returns the gas infer charges for the model and input length.
func (b *boundInference) quote(a args) ([]byte, error) {
	id, err := a.bytes32(0)
	if err != nil {
		return nil, badInput("modelId: %v", err)
	}
	length, err := a.word(32)
	if err != nil {
		return nil, badInput("inputLength: %v", err)
	}
	manifest, info, ok := registered(b.evm.StateDB, id)
	if !ok {
		return nil, modelNotFound(id)
	}
	if n := new(uintWord).set(length); !n.fits(uint64(info.InputBytes)) {
		return nil, badInput("input length %s; model %s takes %d bytes", n, id, info.InputBytes)
	}
	return (&encoder{}).uint(addGas(params.InferenceCallGas+info.Gas, excessChunkGas(b.evm.StateDB, manifest, info))).buf, nil
}

// uintWord is a 256-bit ABI word compared against a uint64.
type uintWord struct{ w []byte }

func (u *uintWord) set(w []byte) *uintWord { u.w = w; return u }

func (u *uintWord) fits(v uint64) bool {
	for _, b := range u.w[:24] {
		if b != 0 {
			return false
		}
	}
	var x uint64
	for _, b := range u.w[24:] {
		x = x<<8 | uint64(b)
	}
	return x == v
}

func (u *uintWord) String() string { return fmt.Sprintf("0x%x", u.w) }

// modelInfo returns IInference.ModelInfo for a registered model.
func (b *boundInference) modelInfo(a args) ([]byte, error) {
	id, err := a.bytes32(0)
	if err != nil {
		return nil, badInput("modelId: %v", err)
	}
	prep, info, _, err := b.load(id)
	if err != nil {
		return nil, err
	}
	fresh := prep.Model.Freshness
	e := &encoder{}
	e.uint(32) // offset of the ModelInfo tuple
	e.uint(uint64(info.InputBytes)).uint(uint64(info.OutputBytes)).uint(uint64(info.InputElements)).
		uint(info.Gas).uint(uint64(info.Size)).uint(6 * 32)
	e.uint(uint64(len(fresh)))
	for _, f := range fresh {
		feedable := uint64(0)
		if f.FeedMultiplier > 0 {
			feedable = 1
		}
		e.uint(uint64(f.Element)).uint(f.MaxAge).uint(feedable)
	}
	return e.buf, nil
}

// validate is what the registry calls at finalize: it assembles the chunks'
// payloads, decodes and validates them and returns the model ID and the
// info word the registry stores. A chunk may be any account whose code
// starts with 0xFE, not only one the registry uploaded: such code can never
// change (a call into it halts at once, so it can never SELFDESTRUCT), so
// the bytes registered under an ID stay its bytes; and the model cache names
// bytes by the chunks' code hashes, never by where they are or what ID a
// record claims (see locate).
func (b *boundInference) validate(a args) ([]byte, error) {
	start, n, err := a.array(0, 1)
	if err != nil {
		return nil, badInput("chunks: %v", err)
	}
	if n == 0 || n > MaxModelChunks {
		return nil, badInput("%d chunks; a model has 1 to %d", n, MaxModelChunks)
	}
	chunks := make([]common.Address, n)
	for i := range chunks {
		if chunks[i], err = a.address(start + 32*uint64(i)); err != nil {
			return nil, badInput("chunks[%d]: %v", i, err)
		}
	}
	raw, err := readChunks(b.evm.StateDB, chunks, params.MaxModelBytes)
	if err != nil {
		return nil, invalidModel(err.Error())
	}
	m, err := inference.Decode(raw)
	if err != nil {
		return nil, invalidModel(err.Error())
	}
	id := common.Hash(inference.ID(raw))
	return (&encoder{}).bytes32(id).bytes32(InfoOf(m, len(raw)).Word()).buf, nil
}

// elementOffset returns the byte offset and type of flat input element e.
func elementOffset(m *inference.Model, e uint64) (int, inference.DType, int32) {
	off := 0
	for _, t := range m.Inputs {
		tt := &m.Tensors[t]
		if n := uint64(tt.Elements()); e < n {
			return off + int(e)*tt.DType.Size(), tt.DType, tt.ZeroPoint
		} else {
			e -= n
		}
		off += tt.Bytes()
	}
	return -1, 0, 0
}

// declared returns the model's freshness entry for element e, if any.
func declared(m *inference.Model, e uint64) (inference.Freshness, bool) {
	i := sort.Search(len(m.Freshness), func(i int) bool { return uint64(m.Freshness[i].Element) >= e })
	if i < len(m.Freshness) && uint64(m.Freshness[i].Element) == e {
		return m.Freshness[i], true
	}
	return inference.Freshness{}, false
}

// Description is what a node can tell about a registered model.
type Description struct {
	ID            common.Hash           `json:"id"`
	Manifest      common.Address        `json:"manifest"`
	Chunks        int                   `json:"chunks"`
	Size          uint32                `json:"size"`
	InputBytes    uint32                `json:"inputBytes"`
	OutputBytes   uint32                `json:"outputBytes"`
	InputElements uint32                `json:"inputElements"`
	Gas           uint64                `json:"gas"`     // the model's own gas
	CallGas       uint64                `json:"callGas"` // what infer charges
	Cost          inference.Cost        `json:"cost"`
	Freshness     []inference.Freshness `json:"freshness"`
	// Inputs and Outputs say where each tensor sits in the call's bytes.
	Inputs  []inference.TensorLayout `json:"inputs"`
	Outputs []inference.TensorLayout `json:"outputs"`
	Backend string                   `json:"backend"`
	Cached  bool                     `json:"cached"`
}

// Describe loads model id from state (through the cache) and describes it;
// ok is false when it is not registered in that state.
func (p *Inference) Describe(state StateReader, id common.Hash) (*Description, bool, error) {
	sm, ok, err := locate(state, id)
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	prep, cached, err := loadStored(p.cache, state, sm)
	if err != nil {
		return nil, true, err
	}
	fresh := prep.Model.Freshness
	if fresh == nil {
		fresh = []inference.Freshness{}
	}
	info := sm.info
	return &Description{
		ID: id, Manifest: sm.manifest, Chunks: len(sm.chunks), Size: info.Size, InputBytes: info.InputBytes,
		OutputBytes: info.OutputBytes, InputElements: info.InputElements, Gas: info.Gas,
		CallGas: addGas(params.InferenceCallGas+info.Gas, excessChunkGas(state, sm.manifest, info)), Cost: prep.Model.Cost(), Freshness: fresh,
		Inputs: prep.Model.InputLayout(), Outputs: prep.Model.OutputLayout(),
		Backend: prep.Backend, Cached: cached,
	}, true, nil
}
