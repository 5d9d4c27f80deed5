# infergeth: the two commands a newcomer needs are `make devnet` and `make test`.
GO       ?= go
BIN      := build/bin/infergeth
SHARED   ?= ../shared

.PHONY: all build devnet test test-go test-vectors bench fuzz vectors clean tools test-statetest test-e2e
.PHONY: cuda cuda-check cuda-ptx gpu-build
.PHONY: contracts contracts-check test-contracts
.PHONY: test-onnx models onnx-testdata

all: build

build:
	$(GO) build -o $(BIN) ./cmd/infergeth

devnet: build
	$(BIN) devnet $(DEVNET_FLAGS)

## test: everything CI runs. Installs what the tests need first.
test: tools build test-go test-vectors test-statetest test-e2e test-contracts test-onnx

## tools: the pinned client tools the tests run (solc-js, ethers, viem, forge,
## cast, anvil) from tests/tools/package-lock.json into tests/tools/node_modules.
## Reinstalls only when the manifest or the lock file changed.
TOOLS_DIR := tests/tools
TOOLS_STAMP := $(TOOLS_DIR)/node_modules/.installed
tools: $(TOOLS_STAMP)
$(TOOLS_STAMP): $(TOOLS_DIR)/package.json $(TOOLS_DIR)/package-lock.json
	npm ci --prefix $(TOOLS_DIR) --no-audit --no-fund
	touch $@

## test-statetest: Ethereum GeneralStateTests through infergeth's EVM, from
## ../shared/fixtures/ethereum-tests or ETHEREUM_TESTS_DIR (a checkout of ethereum/tests).
ETHEREUM_TESTS_DIR ?= $(SHARED)/fixtures/ethereum-tests
test-statetest: build
	@if [ -d "$(ETHEREUM_TESTS_DIR)" ]; then \
		echo "$(BIN) statetest $(ETHEREUM_TESTS_DIR)"; \
		$(BIN) statetest "$(ETHEREUM_TESTS_DIR)"; \
	else \
		echo "test-statetest: SKIPPED: no ethereum/tests at $(ETHEREUM_TESTS_DIR) (set ETHEREUM_TESTS_DIR to a checkout)"; \
	fi

## test-e2e: real clients (cast, forge, ethers, viem) against a devnet the test
## starts on 127.0.0.1; E2E_NODE=anvil runs the same tests against anvil.
test-e2e: tools build
	$(GO) vet -tags e2e ./tests/e2e/
	INFERGETH_BIN=$(abspath $(BIN)) $(GO) test -tags e2e -count=1 -timeout 3m ./tests/e2e/

## contracts: rebuild the model registry's genesis artifact,
## contracts/artifacts/ModelRegistry.json, with the pinned solc-js (deterministic).
contracts: tools
	node contracts/build.js

## contracts-check: fail if the committed registry artifact is stale (run make contracts).
contracts-check: tools
	node contracts/build.js --check

## test-contracts: the forge tests of the Solidity SDK, the registry and the example dApps (offline).
test-contracts: tools contracts-check
	cd contracts && FOUNDRY_DISABLE_NIGHTLY_WARNING=1 NO_COLOR=1 $(abspath $(TOOLS_DIR))/node_modules/.bin/forge test

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## test-vectors: every tests/vectors/NAME/ through the CLI, both backends, GOMAXPROCS 1 and 2.
test-vectors: build
	./tests/vectors/check.sh $(BIN)

## vectors: regenerate the conformance vectors (deterministic; see tests/vectors/README.md).
vectors:
	$(GO) run ./tests/vectors/gen -out tests/vectors

## test-onnx: the project's ONNX test models (tests/models) load and run in
## onnxruntime-node; `infergeth model import` converts them and `model run`
## gives the same bytes on every backend; the output agreement with
## onnxruntime is printed (tests/models/ortcheck; offline); `model quantize`
## on the float test models against onnxruntime (tests/models/quantcheck);
## ONNX's own node tests through import and quantize (tests/onnxnode).
test-onnx: tools build onnx-testdata
	node tests/models/ort/run.mjs smoke tests/models/*.onnx
	$(GO) run ./tests/models/ortcheck -dir tests/models -bin $(BIN)
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
