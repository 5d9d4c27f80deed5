package runtime

import "github.com/infergeth/infergeth/inference"

// Source names the exact bytes a model is loaded from: the key of a cache
// entry. Two equal sources name equal bytes, so an entry built from one
// state's bytes is never used for another state's different bytes, whatever
// model ID either state lists them under (issue 11, item 1).
type Source struct {
	id     inference.ModelID // the ID the bytes are loaded as
	hashed bool              // the bytes are hashed and must hash to id
	key    string
}

// Hashed is the source of bytes that hash to id: the load hashes them and
// refuses others. Use it for bytes from anywhere (a file, a peer).
func Hashed(id inference.ModelID) Source {
	return Source{id: id, hashed: true, key: "h" + string(id[:])}
}

// Stored is the source of bytes kept in parts by a store that holds a
// collision-resistant digest of each part: the concatenation of the parts
// whose digests are digests, in order, loaded as model id. In state the
// parts are a model's chunk contracts and the digests their code hashes,
// which the state keeps for every account: naming the bytes costs no
// hashing, and a cache hit reads no code. Whatever else decides how a load
// of the bytes ends (vm puts the registry's info word first) goes in
// digests too: everything a load's outcome depends on must be in its key,
// so that the outcome never depends on whether the entry was there.
//
// The bytes need not hash to id: id is what a state's registry lists them
// under, which the registry guarantees for what it registers but a state
// override or a devnet setter need not. Such bytes compute what they are
// for the call that reads them, and their entry serves only loads of the
// same bytes under the same ID.
func Stored(id inference.ModelID, digests [][32]byte) Source {
	key := make([]byte, 0, 1+len(id)+32*len(digests))
	key = append(append(key, 's'), id[:]...)
	for _, d := range digests {
		key = append(key, d[:]...)
	}
	return Source{id: id, key: string(key)}
}

// ID is the model ID the bytes are loaded as.
func (s Source) ID() inference.ModelID { return s.id }
