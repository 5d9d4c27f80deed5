//go:build cluster

package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/core/types"
)

// TestWrongInferenceValidatorHalts runs validator 3 from a binary built
// with -tags faultinject, told to flip a byte of every inference result.
// The other three keep committing; validator 3 refuses the honest blocks
// and, when the network decides one anyway, stops with a log naming the
// block, the transaction and the differing root.
func TestWrongInferenceValidatorHalts(t *testing.T) {
	c := newCluster(t, 4)
	faulty := c.nodes[3]
	faulty.bin = binaryFrom(t, "INFERGETH_FAULT_BIN")
	faulty.env = []string{"INFERGETH_FAULT_INFERENCE=1"}
	c.startAll()
	honest := c.nodes[:3]

	forwarder := c.deployForwarder(c.nodes[0], c.account(0))
	caller := c.account(1)
	tx := caller.next(t, &forwarder, 0, inferCalldata(t, "mlp", 3), 3_000_000)
	c.nodes[1].send(tx)
	r := c.nodes[0].waitReceipt(tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		t.Fatal("inference call failed")
	}

	select {
	case <-faulty.done:
	case <-time.After(waitTimeout):
		t.Fatalf("the faulty validator did not stop within %s", waitTimeout)
	}
	if faulty.err == nil {
		t.Fatal("the faulty validator exited with status 0")
	}
	log := faulty.logText()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "validator halting") {
			t.Logf("validator 3: %s", line)
		}
	}
	for _, want := range []string{
		"validator halting",
		fmt.Sprintf("block %d (%x)", r.BlockNumber, r.BlockHash),
		fmt.Sprintf("first differing tx 0 (%x)", tx.Hash()),
		"state root: executed",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the faulty validator's log lacks %q", want)
		}
	}

	// The three honest validators (three quarters of the power) go on.
	payer := c.account(2)
	txs := c.sendTransfers(payer, 3, honest...)
	for _, tx := range txs {
		c.nodes[2].waitReceipt(tx.Hash())
	}
	c.syncAndAgree(honest...)
}
