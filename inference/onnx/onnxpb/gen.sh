#!/bin/sh
# Regenerates onnx.proto3.pb.go from onnx.proto3 (see doc.go for provenance).
# Needs protoc (Debian: apt-get install protobuf-compiler); builds
# protoc-gen-go from the google.golang.org/protobuf version in go.mod.
set -eu
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
protoc --plugin=protoc-gen-go="$dir/protoc-gen-go" --go_out=. --go_opt=paths=source_relative \
	'--go_opt=Monnx.proto3=github.com/infergeth/infergeth/inference/onnx/onnxpb;onnxpb' onnx.proto3
