package contracts_test

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// These tests run the committed registry artifact on infergeth's EVM with
// the real inference precompile (the forge tests run it against
// MockInference): upload, register, then infer, and genesis storage as
// RegistryGenesis lays it out.

var (
	admin      = common.HexToAddress("0x00000000000000000000000000000000000ad111")
	registrant = common.HexToAddress("0x0000000000000000000000000000000000000e91")
	stranger   = common.HexToAddress("0x000000000000000000000000000000000000057a")
)

type chain struct {
	t       *testing.T
	state   *state.StateDB
	factory *vm.Factory
	abi     abi.ABI
}

func newChain(t *testing.T, g contracts.RegistryGenesis, extra ...map[common.Hash]common.Hash) *chain {
	t.Helper()
	st, err := state.New(common.Hash{}, state.NewDatabase(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := g.Account(extra...)
	if err != nil {
		t.Fatal(err)
	}
	st.SetCode(params.ModelRegistryAddress, acct.Code, tracing.CodeChangeUnspecified)
	st.SetNonce(params.ModelRegistryAddress, acct.Nonce, tracing.NonceChangeUnspecified)
	for k, v := range acct.Storage {
		st.SetState(params.ModelRegistryAddress, k, v)
	}
	for _, a := range []common.Address{admin, registrant, stranger} {
		st.AddBalance(a, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	}
	pre, err := vm.NewInference(params.DevnetConfig(params.DevnetChainID), vm.InferenceOptions{
		Cache: runtime.NewCache(reference.Backend{}, 1<<30, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := abi.JSON(bytes.NewReader(contracts.RegistryABI()))
	if err != nil {
		t.Fatal(err)
	}
	return &chain{t: t, state: st, factory: vm.NewFactory(pre), abi: parsed}
}

// call runs one message and returns the return data and the error.
func (c *chain) call(from, to common.Address, data []byte) ([]byte, error) {
	ret, _, err := c.callGas(from, to, data)
	return ret, err
}

// callGas is call that also returns the execution gas used (no intrinsic gas).
func (c *chain) callGas(from, to common.Address, data []byte) ([]byte, uint64, error) {
	ctx := gethvm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer,
		BlockNumber: big.NewInt(1), Time: 1_700_000_000, GasLimit: params.DevnetGasLimit,
		BaseFee: big.NewInt(0), Random: &common.Hash{}, Difficulty: big.NewInt(0),
	}
	evm := c.factory.NewEVM(ctx, c.state, params.DevnetConfig(params.DevnetChainID).Ethereum, gethvm.Config{})
	ret, left, err := evm.Call(from, to, data, gethvm.NewGasBudget(params.DevnetGasLimit, 0), new(uint256.Int))
	return ret, params.DevnetGasLimit - left.ExecutionGas, err
}

// registry calls a registry function and unpacks its results.
func (c *chain) registry(from common.Address, method string, args ...any) []any {
	c.t.Helper()
	ret, err := c.registryRaw(from, method, args...)
	if err != nil {
		c.t.Fatalf("%s: %v (revert data %x)", method, err, ret)
	}
	out, err := c.abi.Unpack(method, ret)
	if err != nil {
		c.t.Fatalf("%s: unpack %x: %v", method, ret, err)
	}
	return out
}

func (c *chain) registryRaw(from common.Address, method string, args ...any) ([]byte, error) {
	c.t.Helper()
	data, err := c.abi.Pack(method, args...)
	if err != nil {
		c.t.Fatalf("pack %s: %v", method, err)
	}
	return c.call(from, params.ModelRegistryAddress, data)
}

// wantError checks that a call reverted with the custom error name (of the
// registry's ABI, or of the precompile's when sig is a full signature).
func (c *chain) wantError(ret []byte, err error, sig string) {
	c.t.Helper()
	if err == nil {
		c.t.Fatalf("call succeeded, want %s", sig)
	}
	var sel []byte
	if e, ok := c.abi.Errors[sig]; ok {
		sel = e.ID[:4]
	} else {
		sel = crypto.Keccak256([]byte(sig))[:4]
	}
	if len(ret) < 4 || !bytes.Equal(ret[:4], sel) {
		c.t.Fatalf("revert data %x, want %s (%x)", ret, sig, sel)
	}
}

func vector(t *testing.T, name string) (raw, input, output []byte) {
	t.Helper()
	dir := filepath.Join("..", "tests", "vectors", name)
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	unhex := func(f string) []byte {
		b, err := hex.DecodeString(strings.TrimSpace(string(read(f))))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return read("model.bin"), unhex("input.hex"), unhex("output.hex")
}

func inferCall(id common.Hash, input []byte) []byte {
	sel := crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]
	args := abi.Arguments{{Type: mustType("bytes32")}, {Type: mustType("bytes")}}
	packed, err := args.Pack(id, input)
	if err != nil {
		panic(err)
	}
	return append(sel, packed...)
}

func mustType(s string) abi.Type {
	t, err := abi.NewType(s, "", nil)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRegistryArtifact(t *testing.T) {
	a, err := contracts.RegistryArtifact()
	if err != nil {
		t.Fatal(err)
	}
	if common.HexToAddress(a.Address) != params.ModelRegistryAddress {
		t.Errorf("artifact address %s, want %s", a.Address, params.ModelRegistryAddress)
	}
	want := []struct {
		label string
		slot  uint64
	}{{"manifestOf", contracts.ManifestSlot}, {"infoOf", contracts.InfoSlot}, {"ownerOf", contracts.OwnerSlot},
		{"metadataOf", contracts.MetadataSlot}, {"allowListEnabled", contracts.AllowListEnabledSlot}, {"roleOf", contracts.RoleSlot}}
	if len(a.StorageLayout) != len(want) {
		t.Fatalf("storage layout %+v", a.StorageLayout)
	}
	for i, w := range want {
		if got := a.StorageLayout[i]; got.Label != w.label || got.Slot != w.slot || got.Offset != 0 {
			t.Errorf("slot %d: %+v, want %s at %d", i, got, w.label, w.slot)
		}
	}
	parsed, err := abi.JSON(bytes.NewReader(a.ABI))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"upload", "register", "setMetadata", "transferModelOwnership", "setRole", "setAllowListEnabled",
		"manifestOf", "infoOf", "ownerOf", "metadataOf", "allowListEnabled", "roleOf", "isRegistered", "model", "chunksOf",
		"chunkAddress", "manifestAddress", "canRegister"} {
		if _, ok := parsed.Methods[m]; !ok {
			t.Errorf("ABI lacks %s", m)
		}
	}
	for _, e := range []string{"ChunkUploaded", "ModelRegistered", "MetadataChanged", "ModelOwnershipTransferred", "RoleChanged", "AllowListEnabledChanged"} {
		if _, ok := parsed.Events[e]; !ok {
			t.Errorf("ABI lacks event %s", e)
		}
	}
}

func TestUploadRegisterInferOnTheRealPrecompile(t *testing.T) {
	c := newChain(t, contracts.RegistryGenesis{})
	raw, input, output := vector(t, "mlp")
	id := crypto.Keccak256Hash(raw)

	// Before registration the precompile does not know the model.
	ret, err := c.call(stranger, params.InferencePrecompileAddress, inferCall(id, input))
	c.wantError(ret, err, "ModelNotFound(bytes32)")

	// Two chunks, each at the address vm computes for a data contract.
	parts := [][]byte{raw[:4000], raw[4000:]}
	var chunks []common.Address
	for _, p := range parts {
		addr := c.registry(stranger, "upload", p)[0].(common.Address)
		if want := vm.DataContractAddress(crypto.Keccak256Hash(p), p); addr != want {
			t.Fatalf("chunk at %s, want %s", addr, want)
		}
		if got := c.registry(stranger, "chunkAddress", p)[0].(common.Address); got != addr {
			t.Fatalf("chunkAddress %s, upload put it at %s", got, addr)
		}
		if code := c.state.GetCode(addr); !bytes.Equal(code, append([]byte{0xfe}, p...)) {
			t.Fatalf("chunk code is not 0xFE ‖ payload")
		}
		// Idempotent.
		if again := c.registry(stranger, "upload", p)[0].(common.Address); again != addr {
			t.Fatalf("second upload at %s, first at %s", again, addr)
		}
		chunks = append(chunks, addr)
	}

	got := c.registry(stranger, "register", chunks, "mlp: test vector")[0].([32]byte)
	if common.Hash(got) != id {
		t.Fatalf("registered id %x, want keccak256 of the bytes %s", got, id)
	}
	ret, err = c.call(stranger, params.InferencePrecompileAddress, inferCall(id, input))
	if err != nil {
		t.Fatalf("infer: %v %x", err, ret)
	}
	out, err := abi.Arguments{{Type: mustType("bytes")}}.Unpack(ret)
	if err != nil || !bytes.Equal(out[0].([]byte), output) {
		t.Fatalf("infer returned %x, want %x (%v)", ret, output, err)
	}

	// The records the precompile reads are where it reads them.
	list := append(chunks[0].Bytes(), chunks[1].Bytes()...)
	manifest := vm.DataContractAddress(id, list)
	if got := common.BytesToAddress(c.state.GetState(params.ModelRegistryAddress, contracts.ManifestKey(id)).Bytes()); got != manifest {
		t.Fatalf("manifestOf slot holds %s, want %s", got, manifest)
	}
	if got := c.registry(stranger, "chunksOf", id)[0].([]common.Address); len(got) != 2 || got[0] != chunks[0] || got[1] != chunks[1] {
		t.Fatalf("chunksOf %v", got)
	}
	if got := c.registry(stranger, "ownerOf", id)[0].(common.Address); got != stranger {
		t.Fatalf("owner %s", got)
	}
	if got := c.registry(stranger, "metadataOf", id)[0].(string); got != "mlp: test vector" {
		t.Fatalf("metadata %q", got)
	}

	// Registering again is refused; so are bytes that are not a model.
	ret, err = c.registryRaw(stranger, "register", chunks, "again")
	c.wantError(ret, err, "AlreadyRegistered")
	ret, err = c.registryRaw(stranger, "register", []common.Address{chunks[1]}, "half a model")
	c.wantError(ret, err, "InvalidModel(string)")
	ret, err = c.registryRaw(stranger, "register", []common.Address{}, "nothing")
	c.wantError(ret, err, "BadInput(string)")
}

// A model registered by the contract leaves exactly the state vm.GenesisModel
// writes for a genesis model (chunks, manifest, slots 0 and 1).
func TestRegisterMatchesGenesisModel(t *testing.T) {
	c := newChain(t, contracts.RegistryGenesis{})
	raw, _, _ := vector(t, "cnn")
	alloc, storage, err := vm.GenesisModel(raw)
	if err != nil {
		t.Fatal(err)
	}
	chunk := c.registry(stranger, "upload", raw)[0].(common.Address)
	id := common.Hash(c.registry(stranger, "register", []common.Address{chunk}, "")[0].([32]byte))
	for addr, acct := range alloc {
		if got := c.state.GetCode(addr); !bytes.Equal(got, acct.Code) {
			t.Errorf("account %s: code differs from vm.GenesisModel's", addr)
		}
	}
	for k, v := range storage {
		if got := c.state.GetState(params.ModelRegistryAddress, k); got != v {
			t.Errorf("slot %s = %s, vm.GenesisModel writes %s", k, got, v)
		}
	}
	info := c.state.GetState(params.ModelRegistryAddress, contracts.InfoKey(id)).Big()
	if got := c.registry(stranger, "modelSize", id)[0].(uint32); got != uint32(len(raw)) {
		t.Errorf("modelSize %d, want %d (info word %x)", got, len(raw), info)
	}
}

func TestRegistryGenesisStorage(t *testing.T) {
	raw, input, output := vector(t, "mlp")
	id := crypto.Keccak256Hash(raw)
	alloc, storage, err := vm.GenesisModel(raw)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a demo model whose metadata spans several words; ", 3)
	g := contracts.RegistryGenesis{
		AllowListEnabled: true,
		Admins:           []common.Address{admin},
		Registrants:      []common.Address{registrant},
		Models:           []contracts.GenesisModelRecord{{ID: id, Owner: admin, Metadata: long}},
	}
	c := newChain(t, g, storage)
	for addr, acct := range alloc {
		c.state.SetCode(addr, acct.Code, tracing.CodeChangeUnspecified)
	}

	if !c.registry(stranger, "allowListEnabled")[0].(bool) {
		t.Error("allow-list off")
	}
	for a, want := range map[common.Address]int64{admin: 2, registrant: 1, stranger: 0} {
		if got := c.registry(stranger, "roleOf", a)[0].(*big.Int); got.Int64() != want {
			t.Errorf("roleOf(%s) = %d, want %d", a, got, want)
		}
	}
	if got := c.registry(stranger, "metadataOf", id)[0].(string); got != long {
		t.Errorf("metadata %q", got)
	}
	if got := c.registry(stranger, "ownerOf", id)[0].(common.Address); got != admin {
		t.Errorf("owner %s", got)
	}
	if !c.registry(stranger, "isRegistered", id)[0].(bool) {
		t.Error("genesis model not registered")
	}
	ret, err := c.call(stranger, params.InferencePrecompileAddress, inferCall(id, input))
	if err != nil {
		t.Fatalf("infer: %v %x", err, ret)
	}
	if out, _ := (abi.Arguments{{Type: mustType("bytes")}}).Unpack(ret); !bytes.Equal(out[0].([]byte), output) {
		t.Fatalf("infer %x", ret)
	}

	// The allow-list holds: a stranger may not upload, a registrant may;
	// the admin opens it up.
	ret, err = c.registryRaw(stranger, "upload", []byte{1, 2, 3})
	c.wantError(ret, err, "NotAllowed")
	c.registry(registrant, "upload", []byte{1, 2, 3})
	ret, err = c.registryRaw(registrant, "setAllowListEnabled", false)
	c.wantError(ret, err, "NotAdmin")
	c.registry(admin, "setAllowListEnabled", false)
	c.registry(stranger, "upload", []byte{4, 5, 6})

	// The genesis owner may change the metadata; a short string round-trips too.
	c.registry(admin, "setMetadata", id, "short")
	if got := c.registry(stranger, "metadataOf", id)[0].(string); got != "short" {
		t.Errorf("metadata %q", got)
	}
	short := contracts.RegistryGenesis{Models: []contracts.GenesisModelRecord{{ID: id, Metadata: "short"}}}.Storage()
	if got := c.state.GetState(params.ModelRegistryAddress, contracts.MetadataKey(id)); got != short[contracts.MetadataKey(id)] {
		t.Errorf("short string slot %s, genesis writes %s", got, short[contracts.MetadataKey(id)])
	}
}

// A full chunk fits one transaction with room to spare, even under Osaka's
// per-transaction cap of 2^24 gas (EIP-7825): execution plus the calldata
// floor of EIP-7623 (40 gas per non-zero byte) plus 21,000.
func TestUploadGas(t *testing.T) {
	c := newChain(t, contracts.RegistryGenesis{})
	payload := make([]byte, vm.MaxDataPayload)
	for i := range payload {
		payload[i] = byte(i*7 + 1)
	}
	data, err := c.abi.Pack("upload", payload)
	if err != nil {
		t.Fatal(err)
	}
	ret, used, err := c.callGas(stranger, params.ModelRegistryAddress, data)
	if err != nil {
		t.Fatalf("upload: %v %x", err, ret)
	}
	total := used + 21_000 + 40*uint64(len(data))
	t.Logf("upload of %d bytes: %d execution gas, about %d with intrinsic gas", len(payload), used, total)
	if total > 1<<24 {
		t.Errorf("a full chunk costs about %d gas, over 2^24", total)
	}
	chunk := common.BytesToAddress(ret[12:32])
	data, _ = c.abi.Pack("register", []common.Address{chunk}, "")
	ret, used, err = c.callGas(stranger, params.ModelRegistryAddress, data)
	// Not a model: validate refuses it, but the gas of reading it is paid.
	c.wantError(ret, err, "InvalidModel(string)")
	t.Logf("register (validate) of one full chunk: %d execution gas", used)
}
