package vm

import (
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
	"github.com/infergeth/infergeth/params"
)

// abiLayout is IInference.TensorLayout as go-ethereum's ABI decoder sees it.
type abiLayout struct {
	Offset     uint32
	ByteLength uint32
	Dtype      uint8
	Shape      []uint32
	ZeroPoint  int32
}

// decodeOutputLayout decodes outputLayout's return data with go-ethereum's
// ABI package, not the precompile's own encoder, so the test checks the
// encoding a Solidity caller decodes.
func decodeOutputLayout(t *testing.T, ret []byte) []abiLayout {
	t.Helper()
	typ, err := abi.NewType("tuple[]", "", []abi.ArgumentMarshaling{
		{Name: "offset", Type: "uint32"}, {Name: "byteLength", Type: "uint32"}, {Name: "dtype", Type: "uint8"},
		{Name: "shape", Type: "uint32[]"}, {Name: "zeroPoint", Type: "int32"},
	})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := abi.Arguments{{Type: typ}}.Unpack(ret)
	if err != nil {
		t.Fatalf("outputLayout returned %x: %v", ret, err)
	}
	var out []abiLayout
	args := abi.Arguments{{Type: typ}}
	if err := args.Copy(&out, vals); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantLayout is what outputLayout must return for m: its OutputLayout, with
// the dtype as the format's code.
func wantLayout(m *inference.Model) []abiLayout {
	var want []abiLayout
	for i, l := range m.OutputLayout() {
		shape := make([]uint32, len(l.Shape))
		for j, d := range l.Shape {
			shape[j] = uint32(d)
		}
		want = append(want, abiLayout{uint32(l.Offset), uint32(l.Bytes), uint8(m.Tensors[m.Outputs[i]].DType), shape, l.ZeroPoint})
	}
	return want
}

func TestOutputLayoutOfTheDemoMLP(t *testing.T) {
	raw, _, _ := loadVector(t, "mlp")
	m, err := inference.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := inference.LayoutString(m.OutputLayout()); got != "int8[1,10]@0 int32[1]@10" {
		t.Fatalf("the demo mlp's output is %s; this test expects int8 logits then an int32 class", got)
	}
	c := newTestChain(t, reference.Backend{})
	id := c.register(raw)
	ret, gas, err := c.call(append(fnOutputLayout[:], id[:]...), true)
	if err != nil {
		t.Fatalf("outputLayout: %v %x", err, ret)
	}
	if got, want := decodeOutputLayout(t, ret), wantLayout(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("outputLayout = %+v, want %+v", got, want)
	}
	// Charged as modelInfo: it loads the model the same way.
	_, infoGas, err := c.call(append(fnModelInfo[:], id[:]...), true)
	if err != nil {
		t.Fatal(err)
	}
	if gas != infoGas || gas < params.InferenceModelInfoGas+uint64(len(raw))/params.InferenceBytesPerGas {
		t.Fatalf("outputLayout gas %d, modelInfo gas %d", gas, infoGas)
	}

	ret, _, err = c.call(append(fnOutputLayout[:], common.Hash{1}.Bytes()...), true)
	wantRevert(t, ret, err, errModelNotFound)
	ret, _, err = c.call(append(fnOutputLayout[:], id[:31]...), true)
	wantRevert(t, ret, err, errBadInput)
}

// Every conformance vector's outputs (several tensors, other dtypes, nonzero
// zero points) come back as the model declares them.
func TestOutputLayoutOfEveryVector(t *testing.T) {
	c := newTestChain(t, reference.Backend{})
	for _, name := range []string{"all_127", "all_neg128", "cnn", "max_k", "odd_shapes", "ties", "transformer"} {
		raw, _, _ := loadVector(t, name)
		m, err := inference.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		id := c.register(raw)
		ret, _, err := c.call(append(fnOutputLayout[:], id[:]...), true)
		if err != nil {
			t.Fatalf("%s: outputLayout: %v %x", name, err, ret)
		}
		if got, want := decodeOutputLayout(t, ret), wantLayout(m); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: outputLayout = %+v, want %+v", name, got, want)
		}
	}
}
