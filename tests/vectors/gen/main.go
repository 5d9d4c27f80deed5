// Command gen writes the composed conformance vectors: for each NAME,
// tests/vectors/NAME/model.bin (canonical bytes), input.hex and output.hex
// (the reference backend's answer). Weights, inputs and requantization
// parameters come from a fixed-seed integer generator, so a run reproduces
// the committed files byte for byte (TestGeneratedVectorsAreCurrent checks).
//
//	go run ./tests/vectors/gen -out tests/vectors
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/infergeth/infergeth/tests/vectors/composed"
)

func main() {
	out := flag.String("out", "tests/vectors", "folder to write NAME/ subfolders into")
	flag.Parse()
	for _, v := range composed.All() {
		if err := write(*out, v); err != nil {
			fmt.Fprintf(os.Stderr, "gen: %s: %v\n", v.Name, err)
			os.Exit(1)
		}
		fmt.Printf("%-16s %7d model bytes, %6d input bytes, %5d output bytes\n", v.Name, len(v.Model), len(v.Input), len(v.Output))
	}
}

func write(root string, v composed.Vector) error {
	dir := filepath.Join(root, v.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string][]byte{
		"model.bin":  v.Model,
		"input.hex":  []byte(hex.EncodeToString(v.Input) + "\n"),
		"output.hex": []byte(hex.EncodeToString(v.Output) + "\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
