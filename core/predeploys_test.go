package core

import (
	"bytes"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// TestPredeploysFromDeploymentTransactions re-derives the runtime code of
// the CREATE2 deployer and Multicall3 from their canonical, publicly signed
// deployment transactions: the signer recovers to the published deployer,
// the contract address is the well-known one, and the init code, run
// through our EVM, returns exactly the code genesis installs.
func TestPredeploysFromDeploymentTransactions(t *testing.T) {
	for _, tc := range []struct {
		file     string
		deployer common.Address
		address  common.Address
		code     []byte
	}{
		{"testdata/create2-deployer-deployment.tx", common.HexToAddress("0x3fab184622dc19b6109349b94811493bf2a45362"), Create2DeployerAddress, create2DeployerCode},
		{"testdata/multicall3-deployment.tx", common.HexToAddress("0x05f32b3cc3888453ff71b01135b34ff8e41263f2"), Multicall3Address, multicall3Code},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			tx := new(types.Transaction)
			if err := tx.UnmarshalBinary(common.FromHex(strings.TrimSpace(string(raw)))); err != nil {
				t.Fatal(err)
			}
			// Pre-EIP-155 signatures (v = 27/28): the Homestead signer.
			from, err := types.HomesteadSigner{}.Sender(tx)
			if err != nil {
				t.Fatal(err)
			}
			if from != tc.deployer {
				t.Fatalf("signer %s, want %s", from, tc.deployer)
			}
			if addr := crypto.CreateAddress(from, tx.Nonce()); addr != tc.address {
				t.Fatalf("contract address %s, want %s", addr, tc.address)
			}
			statedb, _ := state.New(types.EmptyRootHash, state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil))
			statedb.SetBalance(from, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
			cfg := params.DevnetConfig(1)
			evm := vm.NewFactory().NewEVM(gethvm.BlockContext{
				CanTransfer: gethcore.CanTransfer,
				Transfer:    gethcore.Transfer,
				BlockNumber: big.NewInt(1), Difficulty: new(big.Int), BaseFee: new(big.Int), GasLimit: 30_000_000,
			}, statedb, cfg.Ethereum, gethvm.Config{})
			_, addr, _, err := evm.Create(from, tx.Data(), gethvm.NewGasBudget(tx.Gas(), 0), new(uint256.Int))
			if err != nil {
				t.Fatalf("init code: %v", err)
			}
			if addr != tc.address {
				t.Fatalf("created at %s", addr)
			}
			if got := statedb.GetCode(addr); !bytes.Equal(got, tc.code) {
				t.Fatalf("runtime code differs: %d bytes derived, %d installed", len(got), len(tc.code))
			}
		})
	}
}

func TestPredeployConflictRefused(t *testing.T) {
	dup := PredeployFunc{Label: "again", Fn: func(*params.ChainConfig) (types.GenesisAlloc, error) {
		return types.GenesisAlloc{Multicall3Address: {Code: []byte{1}, Balance: new(big.Int)}}, nil
	}}
	spec := GenesisSpec{Config: params.DevnetConfig(1), Balance: new(big.Int), GasLimit: 30_000_000, Predeploys: append(StandardPredeploys(), dup)}
	if _, err := spec.Genesis(); err == nil || !strings.Contains(err.Error(), "already taken") {
		t.Fatalf("conflict: %v", err)
	}
}
