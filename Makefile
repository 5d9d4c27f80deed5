# infergeth: the two commands a newcomer needs are `make devnet` and `make test`.
GO       ?= go
BIN      := build/bin/infergeth
SHARED   ?= ../shared

.PHONY: all build devnet test test-go test-vectors bench fuzz vectors clean tools test-statetest test-e2e
.PHONY: soak loadtest
.PHONY: cuda cuda-check cuda-ptx gpu-build
.PHONY: contracts contracts-check test-contracts
.PHONY: test-onnx models race onnx-testdata
.PHONY: cluster test-cluster

all: build

build:
	$(GO) build -o $(BIN) ./cmd/infergeth

devnet: tools build
	$(BIN) devnet $(DEVNET_FLAGS)

## test: everything CI runs. Installs what the tests need first, runs every
## suite (on after a failure, -k), and ends with one line: what ran and passed.
## Each suite's counts go to $(RESULTS) through tests/summary.
RESULTS := build/test-results
SUMMARY := build/bin/testsummary
TEST_SUITES := test-go test-vectors test-statetest test-e2e test-contracts test-onnx test-cluster
test: tools build $(SUMMARY)
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS) && date +%s > $(RESULTS)/.start
	@$(MAKE) --no-print-directory -k $(TEST_SUITES); status=$$?; \
	echo; $(SUMMARY) total -dir $(RESULTS) -since $$(cat $(RESULTS)/.start) || status=1; exit $$status

$(SUMMARY): tests/summary/main.go
	$(GO) build -o $@ ./tests/summary

## tools: the pinned client tools the tests run (solc-js, ethers, viem, forge,
## cast, anvil) from tests/tools/package-lock.json into tests/tools/node_modules.
## Reinstalls only when the manifest or the lock file changed.
TOOLS_DIR := tests/tools
TOOLS_STAMP := $(TOOLS_DIR)/node_modules/.installed
tools: $(TOOLS_STAMP)
$(TOOLS_STAMP): $(TOOLS_DIR)/package.json $(TOOLS_DIR)/package-lock.json
	npm ci --prefix $(TOOLS_DIR) --no-audit --no-fund --loglevel=error
	touch $@

## test-statetest: Ethereum GeneralStateTests through infergeth's EVM, from
## ../shared/fixtures/ethereum-tests or ETHEREUM_TESTS_DIR (a checkout of ethereum/tests).
ETHEREUM_TESTS_DIR ?= $(SHARED)/fixtures/ethereum-tests
test-statetest: build $(SUMMARY)
	@if [ -d "$(ETHEREUM_TESTS_DIR)" ]; then \
		echo "$(BIN) statetest $(ETHEREUM_TESTS_DIR)"; \
		$(BIN) statetest "$(ETHEREUM_TESTS_DIR)" 2>&1; \
	else \
		echo "test-statetest: SKIPPED: no ethereum/tests at $(ETHEREUM_TESTS_DIR) (set ETHEREUM_TESTS_DIR to a checkout)"; \
	fi | $(SUMMARY) count -dir $(RESULTS) -name statetest

## test-e2e: real clients (cast, forge, ethers, viem) against a devnet the test
## starts on 127.0.0.1; E2E_NODE=anvil runs the same tests against anvil.
test-e2e: tools build $(SUMMARY)
	$(GO) vet -tags e2e ./tests/e2e/ ./tests/l1/
	INFERGETH_BIN=$(abspath $(BIN)) $(GO) test -tags e2e -count=1 -timeout 10m -json ./tests/e2e/ ./tests/l1/ 2>&1 | $(SUMMARY) go -dir $(RESULTS) -name e2e

## cluster: a four-validator CometBFT network on 127.0.0.1 (free ports), one
## process per node; prints each node's JSON-RPC URL. The homes stay in
## CLUSTER_DIR (written once; remove it for a new chain). Ctrl-C stops it.
CLUSTER_DIR ?= build/cluster
cluster: build
	@test -d $(CLUSTER_DIR) || $(BIN) cluster init --validators 4 --out $(CLUSTER_DIR)
	$(BIN) cluster run $(CLUSTER_DIR)

## test-cluster: real validator processes (consensus/bft) on 127.0.0.1: agreement
## under a mixed stream, cast, kill -9, SIGSTOP, 2 of 4 stopped, a late full node,
## and a validator with wrong inference results (a -tags faultinject build).
FAULT_BIN := build/bin/infergeth-faultinject
test-cluster: tools build $(SUMMARY)
	$(GO) build -tags faultinject -o $(FAULT_BIN) ./cmd/infergeth
	$(GO) vet -tags cluster ./tests/cluster/
	INFERGETH_BIN=$(abspath $(BIN)) INFERGETH_FAULT_BIN=$(abspath $(FAULT_BIN)) $(GO) test -tags cluster -count=1 -timeout 6m -json ./tests/cluster/ 2>&1 | $(SUMMARY) go -dir $(RESULTS) -name cluster

## contracts: rebuild the model registry's genesis artifact,
## contracts/artifacts/ModelRegistry.json, with the pinned solc-js (deterministic).
contracts: tools
	node contracts/build.js
	node contracts/build-l1.js

## contracts-check: fail if the committed registry artifact is stale (run make contracts).
contracts-check: tools
	node contracts/build.js --check
	node contracts/build-l1.js --check

## test-contracts: the forge tests of the Solidity SDK, the registry and the example dApps (offline).
test-contracts: tools contracts-check $(SUMMARY)
	cd contracts && FOUNDRY_DISABLE_NIGHTLY_WARNING=1 NO_COLOR=1 $(abspath $(TOOLS_DIR))/node_modules/.bin/forge test 2>&1 | $(abspath $(SUMMARY)) count -dir $(abspath $(RESULTS)) -name forge

test-go: $(SUMMARY)
	$(GO) vet ./...
	$(GO) test -count=1 -json ./... 2>&1 | $(SUMMARY) go -dir $(RESULTS) -name go

## race: the race detector over what runs blocks and calls concurrently
## (the model cache and backend fallbacks, the EVM factory and precompiles,
## the executor and builder, the node's RPC). Building with -race takes most
## of the time; the timeout is per package.
RACE_PKGS := ./inference/runtime/... ./vm/... ./core/... ./node/...
race:
	$(GO) test -race -count=1 -timeout 15m $(RACE_PKGS)

## test-vectors: every tests/vectors/NAME/ through the CLI, both backends, GOMAXPROCS 1 and 2.
test-vectors: build $(SUMMARY)
	./tests/vectors/check.sh $(BIN) 2>&1 | $(SUMMARY) count -dir $(RESULTS) -name vectors

## vectors: regenerate the conformance vectors (deterministic; see tests/vectors/README.md).
vectors:
	$(GO) run ./tests/vectors/gen -out tests/vectors

## test-onnx: the project's ONNX test models (tests/models) load and run in
## onnxruntime-node; `infergeth model import` converts them and `model run`
## gives the same bytes on every backend; the output agreement with
## onnxruntime goes to build/test-results (tests/models/ortcheck; offline); `model quantize`
## on the float test models against onnxruntime (tests/models/quantcheck);
## ONNX's own node tests through import and quantize (tests/onnxnode).
test-onnx: tools build onnx-testdata $(SUMMARY)
	node tests/models/ort/run.mjs smoke tests/models/*.onnx
	@mkdir -p $(RESULTS)
	$(GO) run ./tests/models/ortcheck -dir tests/models -bin $(BIN) > $(RESULTS)/onnx-agreement.md
	@$(SUMMARY) table -dir $(RESULTS) -name onnx $(RESULTS)/onnx-agreement.md
	@echo "ONNX output agreement with onnxruntime: $(RESULTS)/onnx-agreement.md (make bench puts it in docs/benchmarks.md)"
	$(GO) run ./tests/models/quantcheck -bin $(BIN)
	$(GO) run ./tests/onnxnode -dir $(ONNX_TESTDATA_DIR)/usr/share/libonnx-testdata/data/node

## onnx-testdata: ONNX's backend node tests (Debian's libonnx-testdata, pinned
## by version and sha256) unpacked into build/onnx-testdata with apt-get
## download and dpkg-deb (no root needed once the package lists are current).
ONNX_TESTDATA_VERSION := 1.12.0-2
ONNX_TESTDATA_SHA256  := 7dc0912e02f79ece102331411a751b091bc0e191c9fb1287f8cdfbe5530f6027
ONNX_TESTDATA_DIR     := build/onnx-testdata
ONNX_TESTDATA_STAMP   := $(ONNX_TESTDATA_DIR)/.installed-$(ONNX_TESTDATA_VERSION)
onnx-testdata: $(ONNX_TESTDATA_STAMP)
$(ONNX_TESTDATA_STAMP):
	mkdir -p $(ONNX_TESTDATA_DIR)
	cd $(ONNX_TESTDATA_DIR) && { apt-get download libonnx-testdata=$(ONNX_TESTDATA_VERSION) || { apt-get update && apt-get download libonnx-testdata=$(ONNX_TESTDATA_VERSION); }; }
	echo "$(ONNX_TESTDATA_SHA256)  $(ONNX_TESTDATA_DIR)/libonnx-testdata_$(ONNX_TESTDATA_VERSION)_all.deb" | sha256sum -c -
	dpkg-deb -x $(ONNX_TESTDATA_DIR)/libonnx-testdata_$(ONNX_TESTDATA_VERSION)_all.deb $(ONNX_TESTDATA_DIR)
	touch $@

## models: regenerate tests/models/*.onnx (deterministic; about a minute of training).
models:
	$(GO) run ./tests/models/gen -out tests/models

## fuzz: each fuzz target for FUZZTIME (default 60s): the model decoder and
## validator, the ONNX reader, the NumPy reader, the precompile's calldata, the eth_call fast path.
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./inference/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inference/ -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inference/onnx/ -run '^$$' -fuzz '^FuzzImport$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inference/onnx/npy/ -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME)
	$(GO) test ./vm/ -run '^$$' -fuzz '^FuzzInferenceCalldata$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/ -run '^$$' -fuzz '^FuzzParseFastCall$$' -fuzztime $(FUZZTIME)
	$(GO) test ./l1/batch/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/ -run '^$$' -fuzz '^FuzzRPCHandler$$' -fuzztime $(FUZZTIME)
	$(GO) test ./node/ -run '^$$' -fuzz '^FuzzRPCMethodParams$$' -fuzztime $(FUZZTIME)

## soak: the determinism soak (docs/reliability.md) for DURATION (default 1m):
## random valid models, every backend and CPU path, GOMAXPROCS 1 and N, byte
## for byte; prints its seed (SOAK_SEED=S reruns one).
DURATION ?= 1m
SOAK_SEED ?= 0
SOAK_TIMEOUT ?= 3h
soak:
	$(GO) test ./tests/soak/ -count=1 -run '^TestSoak$$' -v -timeout $(SOAK_TIMEOUT) -soak.duration $(DURATION) -soak.seed $(SOAK_SEED)

## loadtest: `infergeth devnet` under mixed concurrent RPC load for LOAD_DURATION
## (default 60s): no crash, only documented-limit errors, RSS plateau, p50/p99
## per method (docs/reliability.md).
LOAD_DURATION ?= 60s
loadtest: build
	$(GO) run ./tests/loadtest -infergeth $(BIN) -duration $(LOAD_DURATION)

bench: build
	./tests/bench/run.sh

clean:
	rm -rf build

## cuda: the GPU binary (build tag cuda, gorgonia.org/cu) on a machine with
## CUDA in /usr/local/cuda; it needs an NVIDIA driver and GPU to run (docs/cuda.md).
cuda:
	$(GO) build -tags cuda -o build/bin/infergeth-cuda ./cmd/infergeth

## cuda-check: the cuda build compiles and vets (with ../shared/tools/cuda-build-env
## where there is no CUDA), the kernels pass in the CPU emulator, and the cuda
## binaries pass on a stand-in driver that runs that emulator; .ci/run runs it.
cuda-check:
	SHARED=$(SHARED) GO=$(GO) ./tests/gpu/cuda-check.sh

## cuda-ptx: regenerate inference/cuda/kernels/*.ptx from infergeth.cu with nvcc
## (Debian's CUDA 11.8 toolkit, fetched once, where there is none).
cuda-ptx:
	./inference/cuda/kernels/mkptx.sh

## gpu-build: the test and benchmark binaries that tests/gpu/run.sh runs on a GPU machine.
gpu-build:
	SHARED=$(SHARED) ./tests/gpu/build.sh
