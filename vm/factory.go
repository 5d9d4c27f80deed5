// Package vm builds every EVM in infergeth and holds infergeth's stateful
// precompiles.
//
// geth's vm.NewEVM installs the standard precompile map, whose contracts see
// only their input. infergeth's precompiles must read the block context and
// the state of the EVM they run in (a model lives in state; "now" is the
// block's timestamp), so every EVM is made here: NewEVM calls geth's
// vm.NewEVM and then installs the standard set plus infergeth's contracts,
// each bound to that EVM. No other package calls geth's vm.NewEVM; a test
// enforces it. See ARCHITECTURE.md, decisions 1 and 2.
//
// Each EVM also gets its own FaultSlot (fault.go): a precompile that cannot
// compute a result on this node records the NodeFault there, and whoever
// runs that EVM reads it, so a fault belongs to the execution that hit it
// (decision 4).
package vm

import (
	"github.com/ethereum/go-ethereum/common"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	gethparams "github.com/ethereum/go-ethereum/params"
)

// Stateful is a precompile that needs the EVM it runs in. Bind is called once
// per EVM; the contract it returns may read evm.Context and evm.StateDB at
// call time, and must never write state.
type Stateful interface {
	// Address is where the precompile lives.
	Address() common.Address
	// Active reports whether the precompile is enabled at this block time.
	Active(blockTime uint64) bool
	// Bind returns the contract bound to evm. A node fault the contract
	// hits (a result this node cannot compute) goes into faults, the
	// EVM's own slot, besides the error its Run returns.
	Bind(evm *gethvm.EVM, faults *FaultSlot) gethvm.PrecompiledContract
}

// Factory makes EVMs with infergeth's precompiles installed. The zero value
// makes plain geth EVMs (the standard precompiles only).
type Factory struct {
	stateful []Stateful
}

// NewFactory returns a factory that installs the given stateful precompiles
// wherever they are active.
func NewFactory(precompiles ...Stateful) *Factory {
	return &Factory{stateful: precompiles}
}

// NewEVM is NewEVMWithFaults for a caller that needs no more than the
// error a faulting precompile call returns (tools, tests).
func (f *Factory) NewEVM(blockCtx gethvm.BlockContext, statedb gethvm.StateDB, chainConfig *gethparams.ChainConfig, config gethvm.Config) *gethvm.EVM {
	evm, _ := f.NewEVMWithFaults(blockCtx, statedb, chainConfig, config)
	return evm
}

// NewEVMWithFaults is the only constructor of an EVM in infergeth. It
// returns the EVM's fault slot, which its runner reads after each message:
// a precompile call that hit a node fault failed only as far as the EVM
// can tell, and a contract may have caught that failure and gone on.
func (f *Factory) NewEVMWithFaults(blockCtx gethvm.BlockContext, statedb gethvm.StateDB, chainConfig *gethparams.ChainConfig, config gethvm.Config) (*gethvm.EVM, *FaultSlot) {
	evm := gethvm.NewEVM(blockCtx, statedb, chainConfig, config)
	faults := &FaultSlot{}
	if f == nil || len(f.stateful) == 0 {
		return evm, faults
	}
	rules := chainConfig.Rules(blockCtx.BlockNumber, blockCtx.Random != nil, blockCtx.Time)
	set := gethvm.ActivePrecompiledContracts(rules)
	added := false
	for _, p := range f.stateful {
		if !p.Active(blockCtx.Time) {
			continue
		}
		set[p.Address()] = p.Bind(evm, faults)
		added = true
	}
	if added {
		evm.SetPrecompiles(set)
	}
	return evm, faults
}

// Addresses lists every precompile address active for these rules and block
// time, standard and infergeth's, for access lists and tracers.
func (f *Factory) Addresses(rules gethparams.Rules, blockTime uint64) []common.Address {
	addrs := append([]common.Address(nil), gethvm.ActivePrecompiles(rules)...)
	if f == nil {
		return addrs
	}
	for _, p := range f.stateful {
		if p.Active(blockTime) {
			addrs = append(addrs, p.Address())
		}
	}
	return addrs
}
