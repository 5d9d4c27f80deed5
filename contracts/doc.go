// Package contracts is infergeth's Solidity: the SDK a dApp imports to call
// the inference precompile, the model registry system contract, and two
// example dApps with their forge tests (README.md walks through them).
//
// Start with src/IInference.sol (the precompile's interface and errors) and
// src/IModelRegistry.sol (the registry's). Go code needs only this package's
// registry.go: the registry's runtime code for genesis (RegistryRuntimeCode,
// RegistryGenesis) and its storage keys, from the committed artifact
// artifacts/ModelRegistry.json that `make contracts` (build.js) regenerates.
//
//	src/        the SDK and the registry: IInference, IModelRegistry,
//	            ModelRegistry, DataContract, TensorCodec, InferenceLib,
//	            MockInference (the precompile for forge tests),
//	            AggregatorV3Interface
//	examples/   trading/ (a feed-driven trader on a toy AMM),
//	            classifier/ (a token whose transfers a fraud model gates),
//	            their models (*.model.txt, *.model) and ExampleModels.sol
//	test/       forge tests of all of it (`make test-contracts`)
//	script/     forge scripts that deploy the examples to a devnet
package contracts
