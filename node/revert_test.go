package node

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// revertingCode is runtime code that reverts with data, whatever it is called
// with: CODECOPY the data behind the 14-byte prologue, REVERT with it.
func revertingCode(data []byte) []byte {
	n := len(data)
	code := []byte{0x61, byte(n >> 8), byte(n), 0x60, 0x0e, 0x60, 0x00, 0x39, 0x61, byte(n >> 8), byte(n), 0x60, 0x00, 0xfd}
	return append(code, data...)
}

// customError ABI-encodes a custom error by hand (static words and one
// string), independently of the node's decoder.
func customError(sig string, args ...any) []byte {
	out := append([]byte(nil), crypto.Keccak256([]byte(sig))[:4]...)
	var tail []byte
	for _, a := range args {
		var w [32]byte
		switch v := a.(type) {
		case uint64:
			binary.BigEndian.PutUint64(w[24:], v)
		case common.Hash:
			w = v
		case common.Address:
			copy(w[12:], v[:])
		case string:
			binary.BigEndian.PutUint64(w[24:], uint64(32*len(args)))
			var l [32]byte
			binary.BigEndian.PutUint64(l[24:], uint64(len(v)))
			tail = append(l[:], v...)
			for len(tail)%32 != 0 {
				tail = append(tail, 0)
			}
		default:
			panic(fmt.Sprintf("customError: %T", a))
		}
		out = append(out, w[:]...)
	}
	return append(out, tail...)
}

// TestRevertMessageNamesCustomError: a call that reverts with one of the
// precompile's or the registry's custom errors answers, as geth does for
// Error(string), "execution reverted: Name(args)" with the data intact, on
// eth_call (the fast path and geth's server, which a batch takes) and
// eth_estimateGas.
func TestRevertMessageNamesCustomError(t *testing.T) {
	tn := newTestNode(t, func(c *Config) {
		inference, err := vm.NewInference(c.Chain, vm.InferenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.Factory, c.Inference = vm.NewFactory(inference), inference
	})
	id := common.HexToHash("0x47708a9201a89091e3f0299afea021b84d6f39a54da87b62abe203316c310f71")
	owner := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
	cases := []struct {
		data []byte
		want string
	}{
		{customError("StaleInput(uint256,uint64,uint64,uint64)", uint64(1), uint64(1700000000), uint64(1700000100), uint64(60)),
			"execution reverted: StaleInput(1, 1700000000, 1700000100, 60)"},
		{customError("FutureInput(uint256,uint64,uint64)", uint64(0), uint64(1700000200), uint64(1700000100)),
			"execution reverted: FutureInput(0, 1700000200, 1700000100)"},
		{customError("MissingFreshness(uint256)", uint64(3)), "execution reverted: MissingFreshness(3)"},
		{customError("BadInput(string)", "input is 95 bytes, the model takes 96"),
			`execution reverted: BadInput("input is 95 bytes, the model takes 96")`},
		{customError("ModelNotFound(bytes32)", id), "execution reverted: ModelNotFound(" + id.Hex() + ")"},
		{customError("FeedUnavailable(address)", owner), "execution reverted: FeedUnavailable(" + owner.Hex() + ")"},
		{customError("NotModelOwner(bytes32,address)", id, owner),
			"execution reverted: NotModelOwner(" + id.Hex() + ", " + owner.Hex() + ")"},
		{customError("PayloadTooLarge(uint256,uint256)", uint64(30000), uint64(24575)),
			"execution reverted: PayloadTooLarge(30000, 24575)"},
		{customError("ZeroOwner()"), "execution reverted: ZeroOwner()"},
		// Not ours: the message stays geth's, the data is still there.
		{customError("SomethingElse(uint256)", uint64(7)), "execution reverted"},
		// A custom error whose arguments do not decode is not named.
		{customError("StaleInput(uint256,uint64,uint64,uint64)", uint64(1))[:40], "execution reverted"},
	}
	target := common.HexToAddress("0x00000000000000000000000000000000000c0de0")
	for _, tc := range cases {
		overrides := map[common.Address]map[string]any{target: {"code": hexutil.Bytes(revertingCode(tc.data))}}
		call := map[string]any{"to": target, "data": "0x"}
		for _, method := range []string{"eth_call", "eth_estimateGas"} {
			err := tn.rpc.Call(new(json.RawMessage), method, call, "latest", overrides)
			checkRevert(t, method, err, tc.data, tc.want)
		}
		// The fast path answers a plain eth_call body; geth's server a batch.
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "eth_call",
			"params": []any{call, "latest", overrides}})
		checkRawRevert(t, "eth_call (fast path)", tn.HTTPURL(), body, tc.data, tc.want)
		checkRawRevert(t, "eth_call (batch)", tn.HTTPURL(), append(append([]byte("["), body...), ']'), tc.data, tc.want)
	}

	// The precompile itself, through a real call.
	input := append(crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4], make([]byte, 96)...)
	input[4+63] = 0x40 // offset of the (empty) bytes
	err := tn.rpc.Call(new(json.RawMessage), "eth_call", map[string]any{"to": params.InferencePrecompileAddress, "data": hexutil.Bytes(input)}, "latest")
	checkRevert(t, "eth_call to the precompile", err, customError("ModelNotFound(bytes32)", common.Hash{}),
		"execution reverted: ModelNotFound("+common.Hash{}.Hex()+")")
}

func checkRevert(t *testing.T, what string, err error, data []byte, want string) {
	t.Helper()
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Errorf("%s: %v, want a revert with data", what, err)
		return
	}
	if err.Error() != want {
		t.Errorf("%s: message %q, want %q", what, err.Error(), want)
	}
	if got, _ := de.ErrorData().(string); got != hexutil.Encode(data) {
		t.Errorf("%s: data %v, want %s", what, de.ErrorData(), hexutil.Encode(data))
	}
}

func checkRawRevert(t *testing.T, what, url string, body, data []byte, want string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	trimmed := bytes.TrimSpace(raw)
	if strings.HasPrefix(string(trimmed), "[") {
		trimmed = bytes.TrimSuffix(bytes.TrimPrefix(trimmed, []byte("[")), []byte("]"))
	}
	if err := json.Unmarshal(trimmed, &answer); err != nil || answer.Error == nil {
		t.Errorf("%s: answer %s (%v), want an error", what, raw, err)
		return
	}
	if answer.Error.Code != 3 || answer.Error.Message != want || answer.Error.Data != hexutil.Encode(data) {
		t.Errorf("%s: error %+v, want code 3, %q, data %s", what, *answer.Error, want, hexutil.Encode(data))
	}
}

// FuzzDescribeCustomError: any revert data gives a description or none,
// never a panic, and a description names a known error.
func FuzzDescribeCustomError(f *testing.F) {
	f.Add(customError("StaleInput(uint256,uint64,uint64,uint64)", uint64(1), uint64(2), uint64(3), uint64(4)))
	f.Add(customError("BadInput(string)", "x"))
	f.Add(append(customError("BadInput(string)", "x")[:36], 0xff, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, data []byte) {
		desc, ok := describeCustomError(data)
		if ok && !strings.HasSuffix(desc, ")") {
			t.Fatalf("description %q", desc)
		}
	})
}
