// Command gen writes the project's test models (tests/models/*.onnx and
// models.json): go run ./tests/models/gen [-out DIR] [-float].
// It is deterministic: the same code writes the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/infergeth/infergeth/tests/models/zoo"
)

func main() {
	out := flag.String("out", "tests/models", "folder to write the models into")
	floats := flag.Bool("float", false, "also write the float models (NAME_float.onnx; not committed)")
	identity := flag.String("identity", "", "write only a one-element Identity model to this file (the benchmark's binding floor)")
	flag.Parse()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "gen: "+format+"\n", args...) }
	if *identity != "" {
		if err := zoo.WriteIdentity(*identity); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		return
	}
	if err := zoo.Generate(*out, *floats, logf); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
