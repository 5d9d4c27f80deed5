// Package cluster tests the validator network (consensus/bft) the way it
// runs: real CometBFT nodes, each `infergeth node` in its own process of
// the built binary, on 127.0.0.1 with free ports, driven over JSON-RPC.
// Perturbations follow CometBFT's own e2e tests: kill -9 and restart,
// SIGSTOP/SIGCONT, two of four stopped, a late full node, and one validator
// whose inference results are wrong (a binary built with -tags faultinject).
//
// Run with `make test-cluster` (build tag cluster; INFERGETH_BIN and
// INFERGETH_FAULT_BIN name the binaries).
package cluster
