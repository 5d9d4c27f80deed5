// Package vectors holds the conformance vectors (see README.md); this file
// lets a devnet register the composed models at genesis as demos.
package vectors

import "embed"

//go:embed mlp/model.bin cnn/model.bin transformer/model.bin
var demo embed.FS

// Demo is a composed vector's model, by name.
type Demo struct {
	Name, Description string
	Bytes             []byte
}

// Demos returns the composed models a devnet registers at genesis.
func Demos() []Demo {
	out := []Demo{
		{Name: "mlp", Description: "96-64-32-10 perceptron; input 96 int8, output 10 int8 logits + int32 class"},
		{Name: "cnn", Description: "12x12x1 image CNN; input 144 int8, output 10 int8 probabilities"},
		{Name: "transformer", Description: "one transformer block; input 8 int32 token ids (32 bytes), output 4 int8 logits"},
	}
	for i := range out {
		b, err := demo.ReadFile(out[i].Name + "/model.bin")
		if err != nil {
			panic("vectors: embedded model missing: " + err.Error()) // cannot happen: go:embed checked it at build time
		}
		out[i].Bytes = b
	}
	return out
}
