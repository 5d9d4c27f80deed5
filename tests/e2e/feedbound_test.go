//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/inference/modeltext"
)

// mixedModelText declares element 1 a price feed (its answer a becomes
// RoundShift(a, 8)) and element 3 stamped; the output is the (fed) input.
const mixedModelText = `
input x: int8[4]
w: int8[4] = Clamp(x) min=-128 max=127
output w
fresh element=1 maxAge=60 feedMultiplier=1 feedShift=8
fresh element=3 maxAge=600
`

const inferFreshWithFeedsSig = "inferFreshWithFeeds(bytes32,bytes,(uint32,uint64,uint64)[],(address,uint32,uint64)[])(bytes)"

// TestStampsAndFeedsEndToEnd: a model that declares a stamped and a fed
// element, registered with the CLI, is called through inferFreshWithFeeds
// in a transaction and by cast directly; a stamp claiming the fed element is
// refused over JSON-RPC with BadInput.
func TestStampsAndFeedsEndToEnd(t *testing.T) {
	if setup.kind != "infergeth" {
		t.Skip("the inference precompile exists only on infergeth (E2E_NODE=anvil runs the client tests only)")
	}
	n := startNode(t)
	p, err := modeltext.Parse(mixedModelText)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "mixed.bin")
	if err := os.WriteFile(file, p.Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, setup.root, os.Environ(), setup.infergeth, "model", "register", "--quiet", "--rpc", n.URL, "--key", key0, file)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]

	feed := castSend(t, n, "--create", bytecode(t, "StepFeed")).ContractAddress
	user := castSend(t, n, "--create", bytecode(t, "MixedUser")).ContractAddress
	castSend(t, n, feed, "set(int256)", "1000") // RoundShift(1000, 8) = 4

	// A transaction: the feed's quantized answer replaces element 1.
	castSend(t, n, user, "run(bytes32,bytes,uint32,uint32,address,uint64)", id, "0x01020304", "3", "1", feed, "60")
	if got := cast(t, n, "call", user, "last()(bytes)"); got != "0x01040304" {
		t.Fatalf("the transaction stored %s, want 0x01040304", got)
	}

	// cast encodes the two tuple arrays itself.
	now := cast(t, n, "block", "latest", "--field", "timestamp")
	got := cast(t, n, "call", "0x0000000000000000000000000000000000000A00", inferFreshWithFeedsSig,
		id, "0x7f027f04", fmt.Sprintf("[(3,%s,600)]", now), fmt.Sprintf("[(%s,1,600)]", feed))
	if got != "0x7f047f04" {
		t.Fatalf("cast call inferFreshWithFeeds: %s, want 0x7f047f04", got)
	}

	// The forged price: a stamp "observed now" for the fed element.
	badInput := fmt.Sprintf("%x", crypto.Keccak256([]byte("BadInput(string)"))[:4])
	missing := fmt.Sprintf("%x", crypto.Keccak256([]byte("MissingFreshness(uint256)"))[:4])
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"inferFresh(bytes32,bytes,(uint32,uint64,uint64)[])(bytes)", id, "0x017f0304",
			fmt.Sprintf("[(3,%s,600),(1,%s,60)]", now, now)}, badInput},
		{[]string{"inferFresh(bytes32,bytes,(uint32,uint64,uint64)[])(bytes)", id, "0x01020304",
			fmt.Sprintf("[(3,%s,600)]", now)}, missing},
		{[]string{"inferWithFeeds(bytes32,bytes,(address,uint32,uint64)[])(bytes)", id, "0x01020304",
			fmt.Sprintf("[(%s,1,600)]", feed)}, missing},
	} {
		out, err := tryRun(setup.e2eDir, forgeEnv(t.TempDir()), filepath.Join(setup.toolsBin, "cast"),
			append([]string{"call", "--rpc-url", n.URL, "0x0000000000000000000000000000000000000A00"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("cast call %s: want a revert with 0x%s, got %v\n%s", c.args[0], c.want, err, out)
		}
	}
}
