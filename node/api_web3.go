package node

import (
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// web3API is the web3_ namespace.
type web3API struct{}

// ClientVersion is web3_clientVersion.
func (web3API) ClientVersion() string { return ClientVersion }

// Sha3 is web3_sha3.
func (web3API) Sha3(input hexutil.Bytes) hexutil.Bytes { return crypto.Keccak256(input) }

// netAPI is the net_ namespace.
type netAPI struct{ n *Node }

// Version is net_version: the chain id in decimal.
func (api *netAPI) Version() string { return api.n.chainID().String() }

// Listening is net_listening.
func (api *netAPI) Listening() bool { return true }

// PeerCount is net_peerCount: a devnet has no peers.
func (api *netAPI) PeerCount() hexutil.Uint { return 0 }
