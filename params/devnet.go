package params

// Devnet defaults: what `infergeth devnet` runs with when no flag says
// otherwise. The chain id, mnemonic and balances are anvil's and Hardhat's,
// so that wallets, scripts and tests written for those work unchanged.
const (
	// DevnetChainID is 31337, the id anvil and Hardhat use.
	DevnetChainID uint64 = 31337
	// DevnetMnemonic derives the ten well-known development accounts.
	DevnetMnemonic = "test test test test test test test test test test test junk"
	// DevnetAccounts is how many accounts are derived and funded.
	DevnetAccounts = 10
	// DevnetBalanceEther is each account's balance in ether.
	DevnetBalanceEther = 10000
	// DevnetGasLimit is the block gas limit (anvil's default).
	DevnetGasLimit uint64 = 30_000_000
	// DevnetBaseFee is the genesis base fee in wei (1 gwei, as geth and anvil).
	DevnetBaseFee uint64 = 1_000_000_000
	// DevnetMaxTimestampDrift is how far, in seconds, a block's timestamp may
	// run ahead of the wall clock outside explicit time control.
	DevnetMaxTimestampDrift uint64 = 15
)

// DevnetConfig is the devnet's chain configuration: Prague at genesis,
// inference active from genesis.
func DevnetConfig(chainID uint64) *ChainConfig {
	zero := uint64(0)
	return &ChainConfig{
		Ethereum: PragueSchedule(chainID),
		Infergeth: InfergethConfig{
			InferenceTime:     &zero,
			MaxTimestampDrift: DevnetMaxTimestampDrift,
		},
	}
}
