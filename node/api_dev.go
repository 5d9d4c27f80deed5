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
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/holiman/uint256"
)

// quantity accepts a JSON number or a hex or decimal string, as Hardhat's
// and anvil's time and mining methods do.
type quantity struct{ v *big.Int }

func (q *quantity) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		v, ok := new(big.Int).SetString(n.String(), 10)
		if !ok {
			return fmt.Errorf("invalid number %s", n)
		}
		q.v = v
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a number or a hex string: %w", err)
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		v, ok := new(big.Int).SetString(s[2:], 16)
		if !ok {
			return fmt.Errorf("invalid hex quantity %q", s)
		}
		q.v = v
		return nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return fmt.Errorf("invalid quantity %q", s)
	}
	q.v = v
	return nil
}

func (q *quantity) uint64() (uint64, error) {
	if q == nil || q.v == nil {
		return 0, nil
	}
	if q.v.Sign() < 0 || !q.v.IsUint64() {
		return 0, fmt.Errorf("value %v out of range", q.v)
	}
	return q.v.Uint64(), nil
}

// evmAPI is the evm_ namespace: time control, mining, snapshots.
type evmAPI struct{ n *Node }

// Snapshot is evm_snapshot.
func (api *evmAPI) Snapshot() (hexutil.Uint64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	id, err := api.n.seq.Snapshot()
	return hexutil.Uint64(id), err
}

// Revert is evm_revert.
func (api *evmAPI) Revert(id quantity) (bool, error) {
	if err := api.n.devOnly(); err != nil {
		return false, err
	}
	v, err := id.uint64()
	if err != nil {
		return false, err
	}
	return api.n.seq.Revert(v)
}

// mineOptions is evm_mine's optional argument: a timestamp, or Hardhat's
// {timestamp, blocks}.
type mineOptions struct {
	timestamp *uint64
	blocks    uint64
}

func (o *mineOptions) UnmarshalJSON(b []byte) error {
	var obj struct {
		Timestamp *quantity `json:"timestamp"`
		Blocks    *quantity `json:"blocks"`
	}
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		if obj.Timestamp != nil {
			ts, err := obj.Timestamp.uint64()
			if err != nil {
				return err
			}
			o.timestamp = &ts
		}
		if obj.Blocks != nil {
			n, err := obj.Blocks.uint64()
			if err != nil {
				return err
			}
			o.blocks = n
		}
		return nil
	}
	var q quantity
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	ts, err := q.uint64()
	if err != nil {
		return err
	}
	o.timestamp = &ts
	return nil
}

// maxMineBlocks bounds one evm_mine or anvil_mine.
const maxMineBlocks = 10_000

// Mine is evm_mine: one block now (or at the given timestamp).
func (api *evmAPI) Mine(ctx context.Context, opts *mineOptions) (string, error) {
	if err := api.n.devOnly(); err != nil {
		return "", err
	}
	var ts *uint64
	blocks := uint64(1)
	if opts != nil {
		ts = opts.timestamp
		if opts.blocks > 0 {
			blocks = opts.blocks
		}
	}
	if blocks > maxMineBlocks {
		return "", fmt.Errorf("at most %d blocks at once", maxMineBlocks)
	}
	for i := uint64(0); i < blocks; i++ {
		if _, err := api.n.seq.Mine(ctx, ts); err != nil {
			return "", err
		}
		ts = nil
	}
	return "0x0", nil
}

// IncreaseTime is evm_increaseTime; it returns the total offset in seconds.
func (api *evmAPI) IncreaseTime(seconds quantity) (int64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	v, err := seconds.uint64()
	if err != nil {
		return 0, err
	}
	return api.n.seq.Engine().Clock().IncreaseTime(v, api.n.chain.HeadHeader().Time)
}

// SetNextBlockTimestamp is evm_setNextBlockTimestamp.
func (api *evmAPI) SetNextBlockTimestamp(ts quantity) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	v, err := ts.uint64()
	if err != nil {
		return err
	}
	return api.n.seq.Engine().Clock().SetNext(v, api.n.chain.HeadHeader().Time)
}

// SetTime is evm_setTime: the clock reads ts from now on.
func (api *evmAPI) SetTime(ts quantity) (int64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	v, err := ts.uint64()
	if err != nil {
		return 0, err
	}
	return api.n.seq.Engine().Clock().SetTime(v)
}

// SetAutomine is evm_setAutomine.
func (api *evmAPI) SetAutomine(ctx context.Context, on bool) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	return api.n.seq.SetAutomine(ctx, on)
}

// SetIntervalMining is evm_setIntervalMining (milliseconds; 0 stops).
func (api *evmAPI) SetIntervalMining(ms quantity) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	v, err := ms.uint64()
	if err != nil {
		return err
	}
	if v > uint64(24*time.Hour/time.Millisecond) {
		return errors.New("interval above one day")
	}
	api.n.seq.SetInterval(time.Duration(v) * time.Millisecond)
	return nil
}

// SetBlockGasLimit is evm_setBlockGasLimit.
func (api *evmAPI) SetBlockGasLimit(limit quantity) (bool, error) {
	if err := api.n.devOnly(); err != nil {
		return false, err
	}
	v, err := limit.uint64()
	if err != nil {
		return false, err
	}
	return true, api.n.seq.SetGasLimit(v)
}

// anvilAPI is the anvil_ namespace, registered as hardhat_ too.
type anvilAPI struct{ n *Node }

// SetBalance is anvil_setBalance.
func (api *anvilAPI) SetBalance(addr common.Address, balance hexutil.Big) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	v, overflow := uint256.FromBig(balance.ToInt())
	if overflow || balance.ToInt().Sign() < 0 {
		return errors.New("balance out of range")
	}
	return api.n.seq.EditState(func(st *state.StateDB) error {
		st.SetBalance(addr, v, tracing.BalanceChangeUnspecified)
		return nil
	})
}

// AddBalance is anvil_addBalance.
func (api *anvilAPI) AddBalance(addr common.Address, amount hexutil.Big) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	v, overflow := uint256.FromBig(amount.ToInt())
	if overflow || amount.ToInt().Sign() < 0 {
		return errors.New("amount out of range")
	}
	return api.n.seq.EditState(func(st *state.StateDB) error {
		sum, overflow := new(uint256.Int).AddOverflow(st.GetBalance(addr), v)
		if overflow {
			return errors.New("balance overflow")
		}
		st.SetBalance(addr, sum, tracing.BalanceChangeUnspecified)
		return nil
	})
}

// SetCode is anvil_setCode.
func (api *anvilAPI) SetCode(addr common.Address, code hexutil.Bytes) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	return api.n.seq.EditState(func(st *state.StateDB) error {
		st.SetCode(addr, code, tracing.CodeChangeUnspecified)
		return nil
	})
}

// SetNonce is anvil_setNonce.
func (api *anvilAPI) SetNonce(addr common.Address, nonce quantity) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	v, err := nonce.uint64()
	if err != nil {
		return err
	}
	return api.n.seq.EditState(func(st *state.StateDB) error {
		st.SetNonce(addr, v, tracing.NonceChangeUnspecified)
		return nil
	})
}

// SetStorageAt is anvil_setStorageAt; the slot may be a short quantity.
func (api *anvilAPI) SetStorageAt(addr common.Address, slot string, value common.Hash) (bool, error) {
	if err := api.n.devOnly(); err != nil {
		return false, err
	}
	key, err := decodeSlot(slot)
	if err != nil {
		return false, &invalidParamsError{"invalid storage slot: " + err.Error()}
	}
	return true, api.n.seq.EditState(func(st *state.StateDB) error {
		st.SetState(addr, key, value)
		return nil
	})
}

// ImpersonateAccount is anvil_impersonateAccount: eth_sendTransaction from
// addr is accepted without its key.
func (api *anvilAPI) ImpersonateAccount(addr common.Address) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	api.n.impMu.Lock()
	api.n.impersonated[addr] = true
	api.n.impMu.Unlock()
	return nil
}

// StopImpersonatingAccount is anvil_stopImpersonatingAccount.
func (api *anvilAPI) StopImpersonatingAccount(addr common.Address) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	api.n.impMu.Lock()
	delete(api.n.impersonated, addr)
	api.n.impMu.Unlock()
	return nil
}

// AutoImpersonateAccount is anvil_autoImpersonateAccount.
func (api *anvilAPI) AutoImpersonateAccount(on bool) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	api.n.impMu.Lock()
	api.n.autoImpersonate = on
	api.n.impMu.Unlock()
	return nil
}

// Mine is anvil_mine / hardhat_mine: count blocks (default 1), interval
// seconds apart (default 1).
func (api *anvilAPI) Mine(ctx context.Context, count *quantity, interval *quantity) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	blocks, err := count.uint64()
	if err != nil {
		return err
	}
	if count == nil {
		blocks = 1
	}
	if blocks > maxMineBlocks {
		return fmt.Errorf("at most %d blocks at once", maxMineBlocks)
	}
	step, err := interval.uint64()
	if err != nil {
		return err
	}
	if interval == nil {
		step = 0
	}
	for i := uint64(0); i < blocks; i++ {
		var ts *uint64
		if step > 0 {
			t := api.n.chain.HeadHeader().Time + step
			ts = &t
		}
		if _, err := api.n.seq.Mine(ctx, ts); err != nil {
			return err
		}
	}
	return nil
}

// SetNextBlockBaseFeePerGas is anvil_setNextBlockBaseFeePerGas.
func (api *anvilAPI) SetNextBlockBaseFeePerGas(fee hexutil.Big) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	if fee.ToInt().Sign() < 0 || fee.ToInt().BitLen() > 256 {
		return errors.New("base fee out of range")
	}
	api.n.seq.SetNextBaseFee(fee.ToInt())
	return nil
}

// SetAutomine is anvil_setAutomine.
func (api *anvilAPI) SetAutomine(ctx context.Context, on bool) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	return api.n.seq.SetAutomine(ctx, on)
}

// GetAutomine is anvil_getAutomine / hardhat_getAutomine.
func (api *anvilAPI) GetAutomine() bool {
	if api.n.seq == nil {
		return false
	}
	return api.n.seq.Automine()
}

// SetBlockGasLimit is anvil_setBlockGasLimit.
func (api *anvilAPI) SetBlockGasLimit(limit quantity) (bool, error) {
	if err := api.n.devOnly(); err != nil {
		return false, err
	}
	v, err := limit.uint64()
	if err != nil {
		return false, err
	}
	return true, api.n.seq.SetGasLimit(v)
}

// Snapshot and Revert are anvil_snapshot and anvil_revert.
func (api *anvilAPI) Snapshot() (hexutil.Uint64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	return (&evmAPI{api.n}).Snapshot()
}

// Revert is anvil_revert.
func (api *anvilAPI) Revert(id quantity) (bool, error) {
	if err := api.n.devOnly(); err != nil {
		return false, err
	}
	return (&evmAPI{api.n}).Revert(id)
}

// IncreaseTime is anvil_increaseTime.
func (api *anvilAPI) IncreaseTime(seconds quantity) (int64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	return (&evmAPI{api.n}).IncreaseTime(seconds)
}

// SetNextBlockTimestamp is anvil_setNextBlockTimestamp.
func (api *anvilAPI) SetNextBlockTimestamp(ts quantity) error {
	if err := api.n.devOnly(); err != nil {
		return err
	}
	return (&evmAPI{api.n}).SetNextBlockTimestamp(ts)
}

// SetTime is anvil_setTime.
func (api *anvilAPI) SetTime(ts quantity) (int64, error) {
	if err := api.n.devOnly(); err != nil {
		return 0, err
	}
	return (&evmAPI{api.n}).SetTime(ts)
}

// NodeInfo is anvil_nodeInfo (a subset).
func (api *anvilAPI) NodeInfo() map[string]any {
	head := api.n.chain.HeadHeader()
	return map[string]any{
		"currentBlockNumber":    hexutil.Uint64(head.Number.Uint64()),
		"currentBlockTimestamp": head.Time,
		"currentBlockHash":      head.Hash(),
		"hardFork":              "prague",
		"network":               "infergeth-devnet",
		"chainId":               hexutil.Uint64(api.n.chainID().Uint64()),
	}
}
