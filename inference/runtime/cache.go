package runtime

import (
	"container/list"
	"fmt"
	"log/slog"
	"sync"

	"github.com/infergeth/infergeth/inference"
)

// Prepared is a decoded, validated model ready to run on a backend.
type Prepared struct {
	ID      inference.ModelID
	Model   *inference.Model
	Size    int // canonical bytes
	Backend string

	run *chainProgram // the backend, then its fallbacks (guard.go)
}

// Cache keeps prepared models by model ID, least recently used first out,
// bounded by the models' canonical sizes. A model ID is the hash of the
// model's bytes, so an entry can never be stale: the cache changes how fast
// a result comes, never what it is.
type Cache struct {
	backend inference.Backend
	budget  int
	log     *slog.Logger

	mu      sync.Mutex
	used    int
	entries map[inference.ModelID]*list.Element
	lru     *list.List // of *Prepared, most recent at the front
}

// NewCache returns a cache that prepares models on backend and holds up to
// budget bytes of models (at least one model, whatever its size).
func NewCache(backend inference.Backend, budget int, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	return &Cache{backend: backend, budget: budget, log: log, entries: map[inference.ModelID]*list.Element{}, lru: list.New()}
}

// Backend is the backend the cache prepares models on.
func (c *Cache) Backend() inference.Backend { return c.backend }

// Get returns the prepared model id if cached.
func (c *Cache) Get(id inference.ModelID) (*Prepared, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*Prepared), true
	}
	return nil, false
}

// Load returns the prepared model id, calling read for its bytes on a miss.
// The bytes must hash to id; they are decoded, validated and prepared.
func (c *Cache) Load(id inference.ModelID, read func() ([]byte, error)) (*Prepared, error) {
	return c.load(id, read, true)
}

// LoadAddressed is Load for bytes whose hash is guaranteed by where they
// were read from: a registered model's chunks are data contracts at CREATE2
// addresses derived from their payloads' hashes, listed by a manifest at an
// address derived from the model ID and the list, recorded by the registry
// only after validate() hashed the whole. Hashing 16 MB again on every
// cache miss would be the most expensive part of loading, for nothing.
func (c *Cache) LoadAddressed(id inference.ModelID, read func() ([]byte, error)) (*Prepared, error) {
	return c.load(id, read, false)
}

func (c *Cache) load(id inference.ModelID, read func() ([]byte, error), verify bool) (*Prepared, error) {
	if p, ok := c.Get(id); ok {
		return p, nil
	}
	raw, err := read()
	if err != nil {
		return nil, err
	}
	if verify {
		if got := inference.ID(raw); got != id {
			return nil, fmt.Errorf("model bytes hash to %x, not the requested %x", got, id)
		}
	}
	p, err := prepare(c.backend, raw, id, c.log)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok { // prepared concurrently
		c.lru.MoveToFront(e)
		return e.Value.(*Prepared), nil
	}
	c.entries[id] = c.lru.PushFront(p)
	c.used += p.Size
	for c.used > c.budget && c.lru.Len() > 1 {
		old := c.lru.Back()
		c.lru.Remove(old)
		op := old.Value.(*Prepared)
		delete(c.entries, op.ID)
		c.used -= op.Size
	}
	return p, nil
}

// Prepare decodes canonical model bytes and prepares them on backend, with
// the faster backends after it and then the reference as its fallbacks
// (DefaultChain; a Chain is used as it is).
func Prepare(backend inference.Backend, raw []byte, log *slog.Logger) (*Prepared, error) {
	return prepare(backend, raw, inference.ID(raw), log)
}

func prepare(backend inference.Backend, raw []byte, id inference.ModelID, log *slog.Logger) (*Prepared, error) {
	if log == nil {
		log = slog.Default()
	}
	m, err := decode(raw)
	if err != nil {
		return nil, err
	}
	run, err := DefaultChain(backend).prepare(m, id, log)
	if err != nil {
		return nil, err
	}
	return &Prepared{ID: id, Model: m, Size: len(raw), Backend: run.Backend(), run: run}, nil
}
