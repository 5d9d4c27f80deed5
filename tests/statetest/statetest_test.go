package statetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	gethtests "github.com/ethereum/go-ethereum/tests"

	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// sample is a hand-written state test: a contract stores its calldata and
// what it sees of the block (timestamp, number, BLOCKHASH, coinbase, base
// fee) and emits a log. Subtests: two data values on Shanghai, Cancun and
// Prague, one with a gas limit below the intrinsic gas (an expected
// exception), and a fork geth does not know. The expected roots and logs
// hashes are filled in by geth's own runner (fillFromGeth).
const sample = `{
  "sample": {
    "env": {
      "currentBaseFee": "0x0a",
      "currentCoinbase": "0x2adc25665018aa1fe0e6bc666dac8fc2697ff9ba",
      "currentDifficulty": "0x020000",
      "currentExcessBlobGas": "0x00",
      "currentGasLimit": "0x05f5e100",
      "currentNumber": "0x05",
      "currentRandom": "0x0000000000000000000000000000000000000000000000000000000000020000",
      "currentTimestamp": "0x03e8"
    },
    "pre": {
      "0x0000000000000000000000000000000000001000": {
        "balance": "0x00", "nonce": "0x01", "storage": {},
        "code": "0x60003560005542600155436002556001430340600355416004554860055560aa600052604260206000a100"
      },
      "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b": {
        "balance": "0x3635c9adc5dea00000", "nonce": "0x00", "storage": {}, "code": "0x"
      }
    },
    "transaction": {
      "data": ["0x01", "0x02"],
      "gasLimit": ["0x061a80", "0x5000"],
      "gasPrice": "0x0a",
      "nonce": "0x00",
      "secretKey": "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8",
      "sender": "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b",
      "to": "0x0000000000000000000000000000000000001000",
      "value": ["0x00"]
    },
    "post": {
      "Shanghai": [
        {"indexes": {"data": 0, "gas": 0, "value": 0}},
        {"indexes": {"data": 1, "gas": 0, "value": 0}}
      ],
      "Cancun": [
        {"indexes": {"data": 0, "gas": 0, "value": 0}},
        {"indexes": {"data": 1, "gas": 0, "value": 0}},
        {"indexes": {"data": 0, "gas": 1, "value": 0}, "expectException": "TransactionException.INTRINSIC_GAS_TOO_LOW"}
      ],
      "Prague": [
        {"indexes": {"data": 1, "gas": 0, "value": 0}}
      ],
      "NotAFork": [
        {"indexes": {"data": 0, "gas": 0, "value": 0}}
      ]
    }
  }
}`

// sampleJSON returns sample with its expected outcomes filled in by geth's
// own runner (tests.StateTest.RunNoVerify, which uses geth's vm.NewEVM):
// the reference this package must agree with.
func sampleJSON(t *testing.T) []byte {
	t.Helper()
	src := sample
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal([]byte(src), &raw); err != nil {
		t.Fatal(err)
	}
	var geth map[string]*gethtests.StateTest
	if err := json.Unmarshal([]byte(src), &geth); err != nil {
		t.Fatal(err)
	}
	var post map[string][]map[string]any
	if err := json.Unmarshal(raw["sample"]["post"], &post); err != nil {
		t.Fatal(err)
	}
	for fork, entries := range post {
		if fork == "NotAFork" {
			continue
		}
		for i, entry := range entries {
			st, root, _, err := geth["sample"].RunNoVerify(gethtests.StateSubtest{Fork: fork, Index: i}, gethvm.Config{}, false, rawdb.HashScheme)
			if err != nil {
				if _, expected := entry["expectException"]; !expected {
					t.Fatalf("geth's runner: %s/%d: %v", fork, i, err)
				}
				st.Close()
				continue
			}
			entry["hash"] = root.Hex()
			entry["logs"] = rlpHash(st.StateDB.Logs()).Hex()
			st.Close()
		}
	}
	filled, err := json.Marshal(post)
	if err != nil {
		t.Fatal(err)
	}
	raw["sample"]["post"] = filled
	out, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func loadSample(t *testing.T) *Test {
	t.Helper()
	var tests map[string]*Test
	if err := json.Unmarshal(sampleJSON(t), &tests); err != nil {
		t.Fatal(err)
	}
	return tests["sample"]
}

// zeroPrecompile is a stateful precompile at the inference address that
// answers 32 zero bytes: installing one must not change any state test.
type zeroPrecompile struct{}

func (zeroPrecompile) Address() common.Address {
	return common.HexToAddress("0x0000000000000000000000000000000000000A00")
}
func (zeroPrecompile) Active(uint64) bool { return true }
func (zeroPrecompile) Bind(*gethvm.EVM, *vm.FaultSlot) gethvm.PrecompiledContract {
	return zeroContract{}
}

type zeroContract struct{}

func (zeroContract) RequiredGas([]byte) uint64  { return 100 }
func (zeroContract) Run([]byte) ([]byte, error) { return make([]byte, 32), nil }
func (zeroContract) Name() string               { return "ZERO" }

func TestRunAgreesWithGethRunner(t *testing.T) {
	test := loadSample(t)
	factories := map[string]*vm.Factory{
		"plain":             vm.NewFactory(),
		"with 0x0A00 added": vm.NewFactory(zeroPrecompile{}),
	}
	for name, f := range factories {
		for _, sub := range test.Subtests() {
			err := test.Run(f, sub, gethvm.Config{})
			if sub.Fork == "NotAFork" {
				if !errors.Is(err, ErrUnsupportedFork) {
					t.Errorf("%s: %s: got %v, want ErrUnsupportedFork", name, sub, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v", name, sub, err)
			}
		}
	}
}

func TestRunDetectsMismatch(t *testing.T) {
	f := vm.NewFactory()
	sub := Subtest{Fork: "Cancun", Index: 1}

	test := loadSample(t)
	test.Post["Cancun"][1].Root[0] ^= 1
	if err := test.Run(f, sub, gethvm.Config{}); err == nil || !strings.Contains(err.Error(), "post state root mismatch") {
		t.Errorf("tampered root: got %v, want a root mismatch", err)
	}

	test = loadSample(t)
	test.Post["Cancun"][1].Logs[0] ^= 1
	if err := test.Run(f, sub, gethvm.Config{}); err == nil || !strings.Contains(err.Error(), "logs hash mismatch") {
		t.Errorf("tampered logs: got %v, want a logs mismatch", err)
	}

	test = loadSample(t)
	test.Post["Cancun"][2].ExpectException = ""
	if err := test.Run(f, Subtest{Fork: "Cancun", Index: 2}, gethvm.Config{}); err == nil || !strings.Contains(err.Error(), "intrinsic gas too low") {
		t.Errorf("exception not expected: got %v, want unexpected intrinsic gas error", err)
	}

	test = loadSample(t)
	test.Post["Cancun"][0].ExpectException = "TransactionException.INSUFFICIENT_ACCOUNT_FUNDS"
	if err := test.Run(f, Subtest{Fork: "Cancun", Index: 0}, gethvm.Config{}); err == nil || !strings.Contains(err.Error(), "got none") {
		t.Errorf("expected exception missing: got %v", err)
	}
}

func TestSuiteCountsAndSkips(t *testing.T) {
	data := sampleJSON(t)
	root := filepath.Join(t.TempDir(), "GeneralStateTests")
	for _, name := range []string{
		"stSample/sample.json",                // runs
		"stTimeConsuming/sample.json",         // geth: very time consuming
		"stCreate2/RevertInCreateInInit.json", // geth: broken test
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	suite := Suite{Factory: vm.NewFactory(), Out: &out, Trace: true}
	counts, err := suite.Run([]string{filepath.Dir(root)})
	if err != nil {
		t.Fatal(err)
	}
	// 6 subtests of known forks run, NotAFork's 1 is skipped, and both
	// skipped files count 7 each.
	want := Counts{Passed: 6, Failed: 0, Skipped: 1 + 7 + 7}
	if counts != want {
		t.Errorf("counts %v, want %v\n%s", counts, want, out.String())
	}
	for _, line := range []string{
		`SKIP stCreate2/RevertInCreateInInit.json/sample (7 subtests): skipped by geth's state test suite (skipLoad RevertInCreateInInit): broken test`,
		`SKIP stSample/sample.json/sample NotAFork (1 subtests): fork "NotAFork" is not supported by go-ethereum`,
		`SKIP stTimeConsuming/sample.json/sample (7 subtests): skipped by geth's state test suite (skipLoad ^stTimeConsuming/): very time consuming`,
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("report lacks %q:\n%s", line, out.String())
		}
	}

	// A failure is reported with its indexes and, with Trace, an EVM trace.
	var generic map[string]map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	prague := generic["sample"]["post"].(map[string]any)["Prague"].([]any)[0].(map[string]any)
	prague["hash"] = "0x" + strings.Repeat("11", 32)
	bad, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(root, "stSample", "bad.json")
	if err := os.WriteFile(badFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	suite.Fork = "Prague"
	counts, err = suite.Run([]string{badFile})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Failed: 1}); counts != want {
		t.Errorf("counts %v, want %v", counts, want)
	}
	report := out.String()
	if !strings.HasPrefix(report, "FAIL stSample/bad.json/sample Prague/0 (data 1, gas 0, value 0): post state root mismatch") ||
		!strings.Contains(report, `"opName":"SSTORE"`) {
		t.Errorf("failure report:\n%s", report)
	}
}

// TestSharedFixturesWithStatefulPrecompile runs the shared ethereum/tests
// subset with a stateful precompile at 0x0A00, a stub and infergeth's
// inference precompile (active from genesis): none of the tests may notice.
func TestSharedFixturesWithStatefulPrecompile(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "ethereum-tests")
	if env := os.Getenv("ETHEREUM_TESTS_DIR"); env != "" {
		dir = env
	}
	if !isDir(dir) {
		t.Skipf("no ethereum/tests fixtures at %s (set ETHEREUM_TESTS_DIR)", dir)
	}
	inference, err := vm.NewInference(params.DevnetConfig(params.DevnetChainID), vm.InferenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*vm.Factory{
		"stub":      vm.NewFactory(zeroPrecompile{}),
		"inference": vm.NewFactory(inference),
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			suite := Suite{Factory: f, Out: &out}
			counts, err := suite.Run([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			if counts.Failed != 0 || counts.Passed == 0 {
				t.Errorf("%v\n%s", counts, out.String())
			}
			t.Log(counts)
		})
	}
}
