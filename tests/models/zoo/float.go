package zoo

import (
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// The keyword spotter's data and training budget.
const (
	KWSTrainSeed = 111
	KWSTestSeed  = 222
	KWSTrainSize = 3000
	KWSEpochs    = 4
)

// FloatModel is one of the project's float test models, as an exporter
// would write it, with data to calibrate and evaluate it.
type FloatModel struct {
	Name        string
	Model       *onnxpb.ModelProto
	Shape       []int       // the input "x"
	Calib       [][]float64 // calibration samples (from the training set)
	Test        [][]float64 // held-out samples
	Labels      []int       // the held-out samples' classes; nil when not a classifier
	Activations string      // the QDQ activation type its committed twin uses
}

// FloatModels trains (the MLP, the CNN, the keyword spotter) or seeds (the
// transformer block) the float test models: about 30 s on two cores. The
// same code and seeds as Generate, so the MLP and CNN are the float models
// behind the committed mlp.onnx and cnn.onnx.
func FloatModels(logf func(format string, args ...any)) []FloatModel {
	xs, ys := Digits(TrainSize, TrainSeed)
	tx, ty := TestSet()
	logf("training the MLP and the CNN")
	mlp := trainMLP([]int{Pixels, 256, 128, Classes}, xs, ys, MLPEpochs, WeightSeed)
	cnn := trainCNN(xs[:CNNTrain], ys[:CNNTrain], CNNEpochs, WeightSeed)
	kx, ky := Keywords(KWSTrainSize, KWSTrainSeed)
	kt, kl := Keywords(TestSize, KWSTestSeed)
	logf("training the keyword spotter")
	kws := trainKWS(kx, ky, KWSEpochs, WeightSeed)
	return []FloatModel{
		{"mlp", mlpGraph(mlp), []int{1, Pixels}, xs[:CalibSize], tx, ty, "uint8"},
		{"cnn", cnnGraph(cnn), []int{1, 1, Side, Side}, xs[:CalibSize], tx, ty, "uint8"},
		{"kws", kwsGraph(kws), []int{1, KWSBands, KWSFrames}, kx[:CalibSize], kt, kl, "uint8"},
		{"transformer", transformerGraph(BlockSeed), []int{1, SeqLen, Width}, transformerInputs(BlockCalib, BlockInputs),
			transformerInputs(200, 404), nil, "int8"},
	}
}
