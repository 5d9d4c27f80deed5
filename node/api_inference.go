package node

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// inferenceAPI is the inference_ namespace: what a node knows about models
// and the calls it ran. Read-only and node-local: the call log and the
// backend are this node's, never consensus.
type inferenceAPI struct {
	n   *Node
	pre *vm.Inference
}

// ModelInfo is inference_modelInfo: a registered model's sizes, cost, gas
// (gas: what infer charges; modelGas: the model's own), freshness
// requirements, each input and output tensor's byte offset, dtype, shape and
// zero point, owner, and how this node runs it.
func (api *inferenceAPI) ModelInfo(id common.Hash, block *rpc.BlockNumberOrHash) (map[string]any, error) {
	st, _, err := api.n.stateAt(orLatest(block))
	if err != nil {
		return nil, err
	}
	d, ok, err := api.pre.Describe(st, id)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", id, err)
	}
	if !ok {
		return nil, &invalidParamsError{fmt.Sprintf("model %s is not registered", id)}
	}
	owner := common.BytesToAddress(st.GetState(params.ModelRegistryAddress, contracts.OwnerKey(id)).Bytes())
	return map[string]any{
		"id": d.ID, "manifest": d.Manifest, "chunks": d.Chunks, "size": d.Size,
		"inputBytes": d.InputBytes, "outputBytes": d.OutputBytes, "inputElements": d.InputElements,
		"gas": hexutil.Uint64(d.CallGas), "modelGas": hexutil.Uint64(d.Gas), "cost": d.Cost,
		"freshness": d.Freshness, "inputs": d.Inputs, "outputs": d.Outputs, "backend": d.Backend, "cached": d.Cached, "owner": owner,
	}, st.Error()
}

// Quote is inference_quote: the gas infer charges for the model and an
// input of inputLength bytes (what the precompile's quote returns).
func (api *inferenceAPI) Quote(id common.Hash, inputLength hexutil.Uint64, block *rpc.BlockNumberOrHash) (hexutil.Uint64, error) {
	st, _, err := api.n.stateAt(orLatest(block))
	if err != nil {
		return 0, err
	}
	d, ok, err := api.pre.Describe(st, id)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, &invalidParamsError{fmt.Sprintf("model %s is not registered", id)}
	}
	if uint64(inputLength) != uint64(d.InputBytes) {
		return 0, &invalidParamsError{fmt.Sprintf("input length %d; model %s takes %d bytes", inputLength, id, d.InputBytes)}
	}
	return hexutil.Uint64(d.CallGas), nil
}

// RecentCalls is inference_recentCalls: this node's last calls of the
// precompile (transactions, eth_call, estimates and traces alike), newest
// first, with the backend and the latency of each.
func (api *inferenceAPI) RecentCalls(limit *hexutil.Uint64) []vm.Call {
	n := 20
	if limit != nil {
		n = int(min(uint64(*limit), 1000))
	}
	calls := api.pre.Calls().Recent(n)
	if calls == nil {
		calls = []vm.Call{}
	}
	return calls
}

// Backends is inference_backends: the backend this node runs models on and
// every backend this machine could run.
func (api *inferenceAPI) Backends() map[string]any {
	var names []string
	for _, b := range runtime.Backends() {
		names = append(names, b.Name())
	}
	return map[string]any{"active": api.pre.Cache().Backend().Name(), "available": names, "faults": api.pre.Faults()}
}
