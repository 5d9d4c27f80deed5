// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The example dApps' models, by id (keccak256 of the canonical bytes; the
// precompile's modelId). `go test ./contracts -run TestExampleModels` checks
// these against examples/*/NAME.model.

// examples/trading/signal.model: [oracle price, AMM price] -> [hold, buy, sell]
bytes32 constant SIGNAL_MODEL_ID = 0x659b550a3ff2157033190b398408d3de88807e4e47e9f6f3e960764fc48e057e;

// examples/classifier/fraud.model: four transfer features -> [ok, fraud]
bytes32 constant FRAUD_MODEL_ID = 0x07229321799522605f4c4bceb884fd0cb0218e8c6a8d5b0f74003979a9b851fb;
