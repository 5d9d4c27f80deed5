package inference_test

import (
	"encoding/json"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/tests/vectors"
)

// TestLayoutOfMixedOutputs: the demo MLP's output is ten int8 logits and
// then an int32 class; the layout says where each starts, so a contract can
// read the class at byte 10.
func TestLayoutOfMixedOutputs(t *testing.T) {
	var mlp []byte
	for _, d := range vectors.Demos() {
		if d.Name == "mlp" {
			mlp = d.Bytes
		}
	}
	if mlp == nil {
		t.Fatal("no demo model mlp")
	}
	m, err := inference.Decode(mlp)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(m.OutputLayout())
	want := `[{"offset":0,"bytes":10,"dtype":"int8","shape":[1,10],"zeroPoint":5},{"offset":10,"bytes":4,"dtype":"int32","shape":[1],"zeroPoint":0}]`
	if string(got) != want {
		t.Errorf("output layout\n got %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(m.InputLayout())
	if want := `[{"offset":0,"bytes":96,"dtype":"int8","shape":[1,96],"zeroPoint":-3}]`; string(got) != want {
		t.Errorf("input layout\n got %s\nwant %s", got, want)
	}
	if s := inference.LayoutString(m.OutputLayout()); s != "int8[1,10]@0 int32[1]@10" {
		t.Errorf("LayoutString = %q", s)
	}
}
