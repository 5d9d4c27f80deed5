//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// starterTimeout bounds a step of the starter project that compiles from
// scratch with solc-js (slow on a loaded 2-core machine).
const starterTimeout = 5 * time.Minute

// constructorScript is a script whose broadcast transaction runs a
// constructor that calls a model: forge's second, on-chain simulation has no
// cheatcodes, so only --skip-simulation can broadcast it (README.md).
const constructorScript = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceScript} from "@infergeth/contracts/src/forge/InferenceScript.sol";
import {INFERENCE} from "@infergeth/contracts/src/IInference.sol";

contract AtBirth {
    bytes public output;
    constructor(bytes32 id, bytes memory input) {
        output = INFERENCE.infer(id, input);
    }
}

contract DeployAtBirth is InferenceScript {
    function run() external returns (AtBirth a) {
        vm.startBroadcast();
        a = new AtBirth(0x47708a9201a89091e3f0299afea021b84d6f39a54da87b62abe203316c310f71, new bytes(96));
        vm.stopBroadcast();
    }
}
`

// TestStarterOutsideTheRepo: the SDK as a user gets it (npm pack of
// contracts/, installed into a copy of contracts/starter in a temporary folder
// outside the repository, with no network), then forge build, forge test
// on MockInference, and the deploy script, which calls a model during forge's
// simulation, broadcast to a devnet with plain --broadcast; then the deployed
// contract classifies through the real precompile.
func TestStarterOutsideTheRepo(t *testing.T) {
	if setup.kind != "infergeth" {
		t.Skip("the starter calls the inference precompile, which exists only on infergeth")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is not on PATH: %v", err)
	}
	forge := filepath.Join(setup.toolsBin, "forge")
	tmp := t.TempDir()
	project := filepath.Join(tmp, "starter")
	if err := os.CopyFS(project, os.DirFS(filepath.Join(setup.root, "contracts", "starter"))); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "NO_COLOR=1", "FOUNDRY_DISABLE_NIGHTLY_WARNING=1",
		"npm_config_cache="+filepath.Join(tmp, "npm-cache"), "npm_config_update_notifier=false")

	// The SDK as a tarball, and solc-js from tests/tools: nothing from the network.
	packed := run(t, filepath.Join(setup.root, "contracts"), env, npm, "pack", "--silent", "--pack-destination", tmp)
	tarball := filepath.Join(tmp, strings.TrimSpace(lastLine(packed)))
	run(t, project, env, npm, "install", "--offline", "--no-audit", "--no-fund", tarball,
		filepath.Join(setup.root, "tests", "tools", "node_modules", "solc"))

	if out, err := tryRunFor(starterTimeout, project, env, forge, "build"); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(out, "Compiler run successful") {
		t.Fatalf("forge build:\n%s", out)
	}
	out, err := tryRunFor(starterTimeout, project, env, forge, "test")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(\d+) tests passed, 0 failed, 0 skipped`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("forge test in the starter: want every test passed\n%s", out)
	}

	n := startNode(t)
	out, err = tryRunFor(starterTimeout, project, env, forge, "script", "script/Deploy.s.sol",
		"--rpc-url", n.URL, "--private-key", key0, "--broadcast")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ONCHAIN EXECUTION COMPLETE & SUCCESSFUL") {
		t.Fatalf("forge script did not report success:\n%s", out)
	}
	// The script's own model calls went to the chain: its sample output is
	// what the devnet answers for zeros.
	want := cast(t, n, "call", "0x0000000000000000000000000000000000000A00", "infer(bytes32,bytes)(bytes)",
		"0x47708a9201a89091e3f0299afea021b84d6f39a54da87b62abe203316c310f71", "0x"+strings.Repeat("00", 96))
	if !strings.Contains(out, "sampleOutput: bytes "+want) {
		t.Fatalf("the script's sample output is not the chain's %s:\n%s", want, out)
	}
	classifier := createdAddress(t, filepath.Join(project, "broadcast", "Deploy.s.sol", "31337", "run-latest.json"), "Classifier")

	// The deployed contract on the real precompile: the demo MLP's class of
	// its conformance input is 3 (tests/vectors/mlp/output.hex).
	input := "0x" + strings.TrimSpace(readFile(t, filepath.Join(setup.root, "tests/vectors/mlp/input.hex")))
	if got := cast(t, n, "call", classifier, "predict(bytes)(uint256)", input); got != "3" {
		t.Fatalf("predict = %s, want 3", got)
	}
	castSend(t, n, classifier, "classify(bytes)", input)
	if got := cast(t, n, "call", classifier, "classOf(address)(uint256)", addr0); got != "3" {
		t.Fatalf("classOf = %s, want 3", got)
	}

	// A constructor that calls a model, broadcast with --skip-simulation.
	if err := os.WriteFile(filepath.Join(project, "script", "AtBirth.s.sol"), []byte(constructorScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = tryRunFor(starterTimeout, project, env, forge, "script", "script/AtBirth.s.sol:DeployAtBirth",
		"--rpc-url", n.URL, "--private-key", key0, "--broadcast", "--skip-simulation")
	if err != nil {
		t.Fatal(err)
	}
	atBirth := createdAddress(t, filepath.Join(project, "broadcast", "AtBirth.s.sol", "31337", "run-latest.json"), "AtBirth")
	if got := cast(t, n, "call", atBirth, "output()(bytes)"); got != want {
		t.Fatalf("the constructor stored %s, want %s", got, want)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// forgeBroadcast is what a forge broadcast record (run-latest.json) says
// of its transactions and receipts.
type forgeBroadcast struct {
	Transactions []struct {
		TransactionType string `json:"transactionType"`
		ContractName    string `json:"contractName"`
		ContractAddress string `json:"contractAddress"`
	} `json:"transactions"`
	Receipts []struct {
		Status string `json:"status"`
	} `json:"receipts"`
}

// readBroadcast reads a forge broadcast record.
func readBroadcast(t *testing.T, file string) forgeBroadcast {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("broadcast record: %v", err)
	}
	var record forgeBroadcast
	if err := json.Unmarshal(raw, &record); err != nil {
		t.Fatal(err)
	}
	return record
}

// createdAddress reads a forge broadcast record and returns the address of
// the named contract's creation, checking every receipt succeeded.
func createdAddress(t *testing.T, file, contract string) string {
	t.Helper()
	record := readBroadcast(t, file)
	for i, r := range record.Receipts {
		if r.Status != "0x1" {
			t.Fatalf("%s: receipt %d status %s", file, i, r.Status)
		}
	}
	for _, tx := range record.Transactions {
		if tx.TransactionType == "CREATE" && tx.ContractName == contract {
			return tx.ContractAddress
		}
	}
	t.Fatalf("%s: no CREATE of %s", file, contract)
	return ""
}
