// Package oracle talks to the L2OutputOracle contract on the L1
// (contracts/l1/L2OutputOracle.sol): deploying it, reading its fixed
// configuration and its outputs, encoding a proposal.
package oracle

import (
	"bytes"
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/l1"
	"github.com/infergeth/infergeth/l1/submit"
)

// Settings are fixed at deployment.
type Settings struct {
	L2GenesisHash common.Hash
	Batcher       common.Address
	Inbox         common.Address
	Proposer      common.Address
	// Interval: outputs are for L2 blocks Interval, 2*Interval, ...
	Interval uint64
	// StartBlock is the L1 block the oracle was deployed in.
	StartBlock uint64
}

// Output is one posted L2 state commitment.
type Output struct {
	L2Block   uint64
	StateRoot common.Hash
	BlockHash common.Hash
}

func contractABI() (*abi.ABI, *contracts.CreationArtifact, error) {
	art, err := contracts.OutputOracleArtifact()
	if err != nil {
		return nil, nil, err
	}
	parsed, err := abi.JSON(bytes.NewReader(art.ABI))
	if err != nil {
		return nil, nil, fmt.Errorf("oracle abi: %w", err)
	}
	return &parsed, art, nil
}

// Deploy deploys an oracle with s (StartBlock is the chain's to fill) from
// sender and returns its address.
func Deploy(ctx context.Context, sender *submit.Sender, s Settings) (common.Address, error) {
	parsed, art, err := contractABI()
	if err != nil {
		return common.Address{}, err
	}
	args, err := parsed.Pack("", s.L2GenesisHash, s.Batcher, s.Inbox, s.Proposer, new(big.Int).SetUint64(s.Interval))
	if err != nil {
		return common.Address{}, fmt.Errorf("oracle constructor: %w", err)
	}
	receipt, err := sender.Send(ctx, nil, append(append([]byte{}, art.Bytecode...), args...))
	if err != nil {
		return common.Address{}, fmt.Errorf("deploy oracle: %w", err)
	}
	return receipt.ContractAddress, nil
}

// Oracle reads a deployed oracle.
type Oracle struct {
	client  l1.Client
	address common.Address
	abi     *abi.ABI
}

// New binds the oracle at address.
func New(client l1.Client, address common.Address) (*Oracle, error) {
	parsed, _, err := contractABI()
	if err != nil {
		return nil, err
	}
	return &Oracle{client: client, address: address, abi: parsed}, nil
}

// Address is the oracle's address.
func (o *Oracle) Address() common.Address { return o.address }

func (o *Oracle) call(ctx context.Context, method string, args ...any) ([]any, error) {
	data, err := o.abi.Pack(method, args...)
	if err != nil {
		return nil, err
	}
	out, err := o.client.CallContract(ctx, ethereum.CallMsg{To: &o.address, Data: data}, nil)
	if err != nil {
		return nil, fmt.Errorf("oracle %s.%s: %w", o.address, method, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("oracle %s.%s: empty answer (no oracle at that address?)", o.address, method)
	}
	vals, err := o.abi.Unpack(method, out)
	if err != nil {
		return nil, fmt.Errorf("oracle %s.%s: %w", o.address, method, err)
	}
	return vals, nil
}

func (o *Oracle) uint(ctx context.Context, method string, args ...any) (uint64, error) {
	v, err := o.call(ctx, method, args...)
	if err != nil {
		return 0, err
	}
	n, ok := v[0].(*big.Int)
	if !ok || !n.IsUint64() {
		return 0, fmt.Errorf("oracle %s: %v out of range", method, v[0])
	}
	return n.Uint64(), nil
}

func (o *Oracle) address20(ctx context.Context, method string) (common.Address, error) {
	v, err := o.call(ctx, method)
	if err != nil {
		return common.Address{}, err
	}
	return v[0].(common.Address), nil
}

// Settings reads what was fixed at deployment.
func (o *Oracle) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	v, err := o.call(ctx, "l2GenesisHash")
	if err != nil {
		return s, err
	}
	s.L2GenesisHash = common.Hash(v[0].([32]byte))
	if s.Batcher, err = o.address20(ctx, "batcher"); err != nil {
		return s, err
	}
	if s.Inbox, err = o.address20(ctx, "inbox"); err != nil {
		return s, err
	}
	if s.Proposer, err = o.address20(ctx, "proposer"); err != nil {
		return s, err
	}
	if s.Interval, err = o.uint(ctx, "submissionInterval"); err != nil {
		return s, err
	}
	if s.StartBlock, err = o.uint(ctx, "startBlock"); err != nil {
		return s, err
	}
	return s, nil
}

// NextBlockNumber is the L2 block the next output must be for.
func (o *Oracle) NextBlockNumber(ctx context.Context) (uint64, error) {
	return o.uint(ctx, "nextBlockNumber")
}

// Outputs reads every posted output.
func (o *Oracle) Outputs(ctx context.Context) ([]Output, error) {
	n, err := o.uint(ctx, "outputCount")
	if err != nil {
		return nil, err
	}
	out := make([]Output, 0, n)
	for i := uint64(0); i < n; i++ {
		v, err := o.call(ctx, "getOutput", new(big.Int).SetUint64(i))
		if err != nil {
			return nil, err
		}
		raw := *abi.ConvertType(v[0], new(struct {
			StateRoot     [32]byte
			BlockHash     [32]byte
			L2BlockNumber uint64
			L1Timestamp   uint64
		})).(*struct {
			StateRoot     [32]byte
			BlockHash     [32]byte
			L2BlockNumber uint64
			L1Timestamp   uint64
		})
		out = append(out, Output{L2Block: raw.L2BlockNumber, StateRoot: raw.StateRoot, BlockHash: raw.BlockHash})
	}
	return out, nil
}

// ProposeCalldata is the calldata of proposeOutput(o).
func (o *Oracle) ProposeCalldata(out Output) ([]byte, error) {
	return o.abi.Pack("proposeOutput", new(big.Int).SetUint64(out.L2Block), out.StateRoot, out.BlockHash)
}
