package params

import "github.com/ethereum/go-ethereum/common"

var (
	// InferencePrecompileAddress is where contracts call a model inline.
	InferencePrecompileAddress = common.HexToAddress("0x0000000000000000000000000000000000000A00")
	// ModelRegistryAddress is the model registry system contract, predeployed in genesis.
	ModelRegistryAddress = common.HexToAddress("0x0000000000000000000000000000000000000A01")
)
