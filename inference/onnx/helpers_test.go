package onnx

import (
	"math"
	"math/rand/v2"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/reference"
	"google.golang.org/protobuf/proto"
)

// rng is a deterministic source for test data.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 42)) }

func randInt8(r *rand.Rand, n int, lo, hi int) []int8 {
	out := make([]int8, n)
	for i := range out {
		out[i] = int8(lo + r.IntN(hi-lo+1))
	}
	return out
}

func randInt32(r *rand.Rand, n int, lim int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(r.IntN(2*lim+1) - lim)
	}
	return out
}

func scales(r *rand.Rand, n int, base float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = base * (0.5 + r.Float32())
	}
	return out
}

func mustMarshal(t testing.TB, g *ob.Graph) []byte {
	t.Helper()
	b, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *onnxpb.ModelProto {
	t.Helper()
	m := new(onnxpb.ModelProto)
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkModel imports an ONNX model, runs it on random samples with the
// reference backend and compares with the evaluator's ONNX semantics: at
// most maxDiffering output elements may differ, by at most maxStep.
func checkModel(t *testing.T, g *ob.Graph, samples int, maxStep int64, maxDifferingFrac float64) (*Result, *Gap) {
	t.Helper()
	b := mustMarshal(t, g)
	res, err := Import(b, Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	m := mustParse(t, b)
	gap, err := Compare(res, m, RandomSamples(m, res.Report, samples, 7), CompareOptions{Backend: reference.Backend{}})
	if err != nil {
		t.Fatalf("compare: %v", err)
	}
	frac := float64(gap.Differing) / math.Max(1, float64(gap.Elements))
	if gap.MaxStepDiff > maxStep || frac > maxDifferingFrac {
		t.Errorf("engine vs ONNX semantics: %d of %d elements differ (max %d steps); allowed max %d steps, %.3g of elements",
			gap.Differing, gap.Elements, gap.MaxStepDiff, maxStep, maxDifferingFrac)
	}
	return res, gap
}

func engineOps(res *Result) []string {
	var out []string
	for _, n := range res.Model.Nodes {
		out = append(out, n.Op.String())
	}
	return out
}
