# infergeth: the two commands a newcomer needs are `make devnet` and `make test`.
GO       ?= go
BIN      := build/bin/infergeth
SHARED   ?= ../shared

.PHONY: all build devnet test test-go test-vectors bench fuzz vectors clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/infergeth

devnet: build
	$(BIN) devnet $(DEVNET_FLAGS)

## test: everything CI runs. Installs what the tests need first.
test: build test-go test-vectors

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## test-vectors: every tests/vectors/NAME/ through the CLI, both backends, GOMAXPROCS 1 and 2.
test-vectors: build
	./tests/vectors/check.sh $(BIN)

## vectors: regenerate the conformance vectors (deterministic; see tests/vectors/README.md).
vectors:
	$(GO) run ./tests/vectors/gen -out tests/vectors

## fuzz: each fuzz target for FUZZTIME (default 60s).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./inference/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./inference/ -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME)

bench: build
	./tests/bench/run.sh

clean:
	rm -rf build
