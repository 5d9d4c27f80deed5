package contracts_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/params"
)

// The models test/MockFreshness.t.sol configures MockInference from, as
// text. The forge test holds their canonical bytes as hex constants; this
// test checks those bytes, ids and gas figures are these models', and runs
// the forge test's cases on the real precompile, so the mock and the chain
// are held to the same answers.
var mockFreshnessModels = []struct {
	constant string // the hex constant in test/MockFreshness.t.sol
	text     string
}{
	{"MIXED_MODEL_BYTES", `
input x: int8[4]
w: int8[4] = Clamp(x) min=-128 max=127
output w
fresh element=1 maxAge=60 feedMultiplier=1 feedShift=8
fresh element=3 maxAge=600
`},
	{"TWO_INPUTS_BYTES", `
input a: int8[2] zp=-3
input b: int16[1,2] zp=100
y: int8[2] zp=-3 = Clamp(a) min=-128 max=127
z: int16[1,2] zp=100 = Clamp(b) min=-32768 max=32767
output y
output z
fresh element=0 maxAge=60
fresh element=3 maxAge=30 feedMultiplier=1 feedShift=0
`},
}

func TestMockFreshnessModelsAreCurrent(t *testing.T) {
	src, err := os.ReadFile("test/MockFreshness.t.sol")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mockFreshnessModels {
		p, err := modeltext.Parse(m.text)
		if err != nil {
			t.Fatal(err)
		}
		model, err := inference.Decode(p.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		got := regexp.MustCompile(`bytes constant ` + m.constant + ` =\s*hex"([0-9a-f]*)";`).FindSubmatch(src)
		if got == nil || string(got[1]) != hex.EncodeToString(p.Bytes) {
			t.Errorf("test/MockFreshness.t.sol: want `bytes constant %s =\n        hex\"%x\";`", m.constant, p.Bytes)
		}
		gas := regexp.MustCompile(`setModelBytes\(` + m.constant + `, (\d+)\)`).FindSubmatch(src)
		if gas == nil || string(gas[1]) != strconv.FormatUint(model.Cost().Gas(), 10) {
			t.Errorf("test/MockFreshness.t.sol: setModelBytes(%s, ...) should give the model's gas %d", m.constant, model.Cost().Gas())
		}
	}
	p, _ := modeltext.Parse(mockFreshnessModels[0].text)
	id := regexp.MustCompile(`bytes32 constant MIXED_MODEL_ID = (0x[0-9a-f]{64});`).FindSubmatch(src)
	if id == nil || common.HexToHash(string(id[1])) != crypto.Keccak256Hash(p.Bytes) {
		t.Errorf("test/MockFreshness.t.sol: want `bytes32 constant MIXED_MODEL_ID = %s;`", crypto.Keccak256Hash(p.Bytes))
	}
}

// stampsAndFeeds packs inferFreshWithFeeds with go-ethereum's ABI encoder,
// as a dApp's client would (the vm tests write the calldata by hand).
func stampsAndFeeds(t *testing.T, id common.Hash, input []byte, stamps []stampArg, feeds []feedArg) []byte {
	t.Helper()
	args := abi.Arguments{{Type: mustType("bytes32")}, {Type: mustType("bytes")}, {Type: stampsType}, {Type: feedsType}}
	packed, err := args.Pack(id, input, stamps, feeds)
	if err != nil {
		t.Fatal(err)
	}
	return append(crypto.Keccak256([]byte(inferFreshWithFeedsSig))[:4], packed...)
}

const inferFreshWithFeedsSig = "inferFreshWithFeeds(bytes32,bytes,(uint32,uint64,uint64)[],(address,uint32,uint64)[])"

// MockFreshness.t.sol's test_ModelBytesCarryTheirFreshness and
// test_ModelBytesWithTwoInputs on the real precompile, through the registry.
func TestMockFreshnessCasesOnThePrecompile(t *testing.T) {
	c := newChain(t, contracts.RegistryGenesis{})
	var ids []common.Hash
	for _, m := range mockFreshnessModels {
		p, err := modeltext.Parse(m.text)
		if err != nil {
			t.Fatal(err)
		}
		chunk := c.registry(stranger, "upload", p.Bytes)[0].(common.Address)
		ids = append(ids, common.Hash(c.registry(stranger, "register", []common.Address{chunk}, m.constant)[0].([32]byte)))
	}
	mixed, two := ids[0], ids[1]
	const now = 1_700_000_000 // the chain's block time
	feed := common.HexToAddress("0x00000000000000000000000000000000000feed2")
	input := []byte{1, 2, 3, 4}

	c.state.SetCode(feed, feedCode(1000, now-5), tracing.CodeChangeUnspecified)
	ret, err := c.call(stranger, params.InferencePrecompileAddress, inferCall(mixed, input))
	c.wantError(ret, err, "MissingFreshness(uint256)")
	ret, err = c.callTuples(inferFreshSig, stampsType, mixed, input, []stampArg{{1, now, 60}})
	c.wantError(ret, err, "BadInput(string)")
	ret, err = c.call(stranger, params.InferencePrecompileAddress,
		stampsAndFeeds(t, mixed, input, []stampArg{{3, now, 600}}, []feedArg{{feed, 1, 60}}))
	if err != nil {
		t.Fatalf("inferFreshWithFeeds: %v %x", err, ret)
	}
	out, err := abi.Arguments{{Type: mustType("bytes")}}.Unpack(ret)
	if err != nil || !bytes.Equal(out[0].([]byte), []byte{1, 4, 3, 4}) {
		t.Fatalf("inferFreshWithFeeds returned %x (%v), want the mock's 01040304", ret, err)
	}

	c.state.SetCode(feed, feedCode(1234, now-5), tracing.CodeChangeUnspecified)
	ret, err = c.call(stranger, params.InferencePrecompileAddress,
		stampsAndFeeds(t, two, make([]byte, 6), []stampArg{{0, now, 60}}, []feedArg{{feed, 3, 30}}))
	if err != nil {
		t.Fatalf("two inputs: %v %x", err, ret)
	}
	out, err = abi.Arguments{{Type: mustType("bytes")}}.Unpack(ret)
	if want, _ := hex.DecodeString("000000003605"); err != nil || !bytes.Equal(out[0].([]byte), want) {
		t.Fatalf("two inputs returned %x (%v), want the mock's %x", ret, err, want)
	}
	ret, err = c.callTuples(inferWithFeedsSig, feedsType, two, make([]byte, 6), []feedArg{{feed, 3, 30}})
	c.wantError(ret, err, "MissingFreshness(uint256)")

	// test_ModelBytesCarryTheirOutputLayout's expectations.
	ret, err = c.call(stranger, params.InferencePrecompileAddress, append(crypto.Keccak256([]byte("outputLayout(bytes32)"))[:4], two[:]...))
	if err != nil {
		t.Fatalf("outputLayout: %v %x", err, ret)
	}
	layoutType, _ := abi.NewType("tuple[]", "", []abi.ArgumentMarshaling{
		{Name: "offset", Type: "uint32"}, {Name: "byteLength", Type: "uint32"}, {Name: "dtype", Type: "uint8"},
		{Name: "shape", Type: "uint32[]"}, {Name: "zeroPoint", Type: "int32"},
	})
	vals, err := abi.Arguments{{Type: layoutType}}.Unpack(ret)
	if err != nil {
		t.Fatalf("outputLayout returned %x: %v", ret, err)
	}
	if got, want := fmt.Sprintf("%+v", vals[0]), "[{Offset:0 ByteLength:2 Dtype:1 Shape:[2] ZeroPoint:-3} {Offset:2 ByteLength:4 Dtype:2 Shape:[1 2] ZeroPoint:100}]"; got != want {
		t.Fatalf("outputLayout = %s, want the mock's %s", got, want)
	}
}
