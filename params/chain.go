package params

import (
	"encoding/json"
	"fmt"
	"math/big"

	gethparams "github.com/ethereum/go-ethereum/params"
)

// ChainConfig is the whole of a chain's consensus configuration: geth's fork
// schedule, which the EVM and the block rules read, and infergeth's own
// section. Nodes that disagree on any field disagree on blocks.
type ChainConfig struct {
	// Ethereum is the fork schedule handed to geth's packages.
	Ethereum *gethparams.ChainConfig `json:"ethereum"`
	// Infergeth holds what geth's schedule has no field for.
	Infergeth InfergethConfig `json:"infergeth"`
}

// InfergethConfig is infergeth's section of the chain configuration. It grows
// with the project (inference limits and gas schedule come with the engine).
type InfergethConfig struct {
	// InferenceTime activates the inference precompile at this block
	// timestamp; nil means never.
	InferenceTime *uint64 `json:"inferenceTime,omitempty"`
	// MaxTimestampDrift bounds, in seconds, how far a block's timestamp may
	// run ahead of the wall clock of the node that seals or imports it. It is
	// what makes "now" in the freshness guard mean now (PRECOMPILE.md).
	MaxTimestampDrift uint64 `json:"maxTimestampDrift"`
}

// IsInference reports whether the inference precompile is active at time.
func (c *ChainConfig) IsInference(time uint64) bool {
	return c.Infergeth.InferenceTime != nil && *c.Infergeth.InferenceTime <= time
}

// ChainID is the EIP-155 chain id.
func (c *ChainConfig) ChainID() *big.Int { return c.Ethereum.ChainID }

// Check refuses configurations that geth would mis-handle or that enable
// forks infergeth does not run.
func (c *ChainConfig) Check() error {
	if c == nil || c.Ethereum == nil {
		return fmt.Errorf("chain config: missing ethereum fork schedule")
	}
	if c.Ethereum.ChainID == nil || c.Ethereum.ChainID.Sign() <= 0 {
		return fmt.Errorf("chain config: chain id must be positive")
	}
	if err := c.Ethereum.CheckConfigForkOrder(); err != nil {
		return fmt.Errorf("chain config: %w", err)
	}
	if c.Ethereum.BogotaTime != nil || c.Ethereum.AmsterdamTime != nil {
		return fmt.Errorf("chain config: experimental forks (Amsterdam, Bogota) are not supported")
	}
	return nil
}

// Encode is the canonical JSON of the configuration, stored beside the chain.
func (c *ChainConfig) Encode() ([]byte, error) { return json.Marshal(c) }

// DecodeChainConfig parses what Encode wrote.
func DecodeChainConfig(b []byte) (*ChainConfig, error) {
	var c ChainConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("chain config: %w", err)
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// PragueSchedule returns geth's fork schedule with every fork up to and
// including Prague active at genesis, and nothing after it. Osaka's per
// transaction gas cap (2^24) would refuse the large deployments that forge
// scripts send to anvil, which also defaults to Prague.
func PragueSchedule(chainID uint64) *gethparams.ChainConfig {
	zero := uint64(0)
	return &gethparams.ChainConfig{
		ChainID:                 new(big.Int).SetUint64(chainID),
		HomesteadBlock:          big.NewInt(0),
		EIP150Block:             big.NewInt(0),
		EIP155Block:             big.NewInt(0),
		EIP158Block:             big.NewInt(0),
		ByzantiumBlock:          big.NewInt(0),
		ConstantinopleBlock:     big.NewInt(0),
		PetersburgBlock:         big.NewInt(0),
		IstanbulBlock:           big.NewInt(0),
		MuirGlacierBlock:        big.NewInt(0),
		BerlinBlock:             big.NewInt(0),
		LondonBlock:             big.NewInt(0),
		ArrowGlacierBlock:       big.NewInt(0),
		GrayGlacierBlock:        big.NewInt(0),
		MergeNetsplitBlock:      big.NewInt(0),
		TerminalTotalDifficulty: big.NewInt(0),
		ShanghaiTime:            &zero,
		CancunTime:              &zero,
		PragueTime:              &zero,
		BlobScheduleConfig: &gethparams.BlobScheduleConfig{
			Cancun: gethparams.DefaultCancunBlobConfig,
			Prague: gethparams.DefaultPragueBlobConfig,
		},
	}
}
