package node

// registerAPIs installs every namespace on the RPC server.
func (n *Node) registerAPIs() error {
	for _, api := range []struct {
		namespace string
		service   any
	}{
		{"web3", web3API{}},
		{"net", &netAPI{n}},
		{"eth", &ethAPI{n}},
		{"eth", &filterAPI{n}},
		{"personal", &personalAPI{n}},
		{"debug", &debugAPI{n}},
		{"evm", &evmAPI{n}},
		{"anvil", &anvilAPI{n}},
		{"hardhat", &anvilAPI{n}},
		{"txpool", &txpoolAPI{n}},
		{"ots", &otsAPI{n}},
		{"erigon", &erigonAPI{n}},
	} {
		if err := n.rpc.RegisterName(api.namespace, api.service); err != nil {
			return err
		}
	}
	if n.cfg.Inference != nil {
		return n.rpc.RegisterName("inference", &inferenceAPI{n: n, pre: n.cfg.Inference})
	}
	return nil
}
