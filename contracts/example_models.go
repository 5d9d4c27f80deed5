package contracts

import _ "embed"

// The example dApps' models (contracts/examples/*/NAME.model, built from the
// NAME.model.txt beside each), for devnets that register them at genesis.
var (
	//go:embed examples/trading/signal.model
	signalModel []byte
	//go:embed examples/classifier/fraud.model
	fraudModel []byte
)

// ExampleModel is a model the examples use, with the name a devnet shows.
type ExampleModel struct {
	Name, Description string
	Bytes             []byte
}

// ExampleModels returns the example dApps' models.
func ExampleModels() []ExampleModel {
	return []ExampleModel{
		{"signal", "trading example: [oracle price, AMM price] -> [hold, buy, sell]; element 0 fed by a price feed, at most 1 h old", signalModel},
		{"fraud", "classifier example: transfer features -> [ok, fraud]; the risk score must be stamped", fraudModel},
	}
}
