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
	// ID is the ID the model was loaded as (Source.ID): the hash of its
	// bytes, except for bytes a state override or a devnet setter listed
	// under another ID (see Stored).
	ID      inference.ModelID
	Model   *inference.Model
	Size    int // canonical bytes
	Backend string

	run *chainProgram // the backend, then its fallbacks (guard.go)
}

// Cache keeps prepared models, least recently used first out, bounded by
// the memory they hold (Prepared.HeldBytes). It is shared by every
// execution on a node (blocks, eth_call with its state overrides, gas
// estimation, tracing, the devnet's setters), so an entry is used only for
// the exact bytes it was built from: its key is a Source, which names the
// bytes themselves, never a claim about them such as the model ID a state's
// registry lists them under. The cache then changes how fast a result
// comes, never what it is.
//
// Concurrent misses on one source load it once: the others wait for it.
type Cache struct {
	backend inference.Backend
	budget  int
	log     *slog.Logger

	mu      sync.Mutex
	used    int
	entries map[string]*list.Element // by Source.key
	lru     *list.List               // of *entry, most recent at the front
	loading map[string]*flight       // by Source.key
}

type entry struct {
	key  string
	p    *Prepared
	held int
}

// flight is one load in progress; done is closed when p or err is set.
type flight struct {
	done    chan struct{}
	p       *Prepared
	err     error
	waiters int // callers waiting for it (tests)
}

// NewCache returns a cache that prepares models on backend and holds up to
// budget bytes of prepared models (at least one model, whatever it holds).
func NewCache(backend inference.Backend, budget int, log *slog.Logger) *Cache {
	if log == nil {
		log = slog.Default()
	}
	return &Cache{backend: backend, budget: budget, log: log, entries: map[string]*list.Element{},
		lru: list.New(), loading: map[string]*flight{}}
}

// Backend is the backend the cache prepares models on.
func (c *Cache) Backend() inference.Backend { return c.backend }

// Used is the memory the cached models hold (the sum of their HeldBytes).
func (c *Cache) Used() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Len is the number of cached models.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Get returns model id if Load cached it.
func (c *Cache) Get(id inference.ModelID) (*Prepared, bool) {
	return c.get(Hashed(id).key)
}

func (c *Cache) get(key string) (*Prepared, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*entry).p, true
	}
	return nil, false
}

// Load returns the prepared model id, calling read for its bytes on a
// miss. The bytes are hashed and must hash to id: Load is for bytes from
// anywhere (a file, a peer). Bytes read from state are loaded by what they
// are (LoadFrom), which costs no hashing.
func (c *Cache) Load(id inference.ModelID, read func() ([]byte, error)) (*Prepared, error) {
	p, _, err := c.LoadFrom(Hashed(id), read)
	return p, err
}

// LoadFrom returns the model read from src, prepared; cached says whether
// it came from the cache. On a miss it calls read, which must return
// exactly the bytes src names; they are decoded, validated and prepared.
// Concurrent misses on one source call read once; a failed load is not
// cached.
func (c *Cache) LoadFrom(src Source, read func() ([]byte, error)) (p *Prepared, cached bool, err error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[src.key]; ok {
			c.lru.MoveToFront(e)
			c.mu.Unlock()
			return e.Value.(*entry).p, true, nil
		}
		f, waiting := c.loading[src.key]
		if waiting {
			f.waiters++
		} else {
			f = &flight{done: make(chan struct{})}
			c.loading[src.key] = f
		}
		c.mu.Unlock()
		if !waiting {
			p, err := c.fill(src, f, read)
			return p, false, err
		}
		<-f.done
		if f.err == nil {
			return f.p, false, nil
		}
		// The load failed. Its read was another caller's, and its failure
		// may be that caller's own (a read that fails, bytes that do not
		// hash to the ID): load for ourselves rather than take it.
	}
}

// fill loads src for flight f and caches the result. f ends however the
// load ends, a panic included, so that no waiter waits forever.
func (c *Cache) fill(src Source, f *flight, read func() ([]byte, error)) (*Prepared, error) {
	defer func() {
		if r := recover(); r != nil {
			f.err = fmt.Errorf("loading model %x panicked: %v", src.id[:8], r)
			c.finish(src, f)
			panic(r)
		}
		c.finish(src, f)
	}()
	raw, err := read()
	if err != nil {
		f.err = err
		return nil, err
	}
	if src.hashed {
		if got := inference.ID(raw); got != src.id {
			f.err = fmt.Errorf("model bytes hash to %x, not the requested %x", got, src.id)
			return nil, f.err
		}
	}
	p, err := prepare(c.backend, raw, src.id, c.log)
	if err != nil {
		f.err = err
		return nil, err
	}
	// Cost is computed once and memoized in the model: do it before the
	// model is shared, so that concurrent callers only read it.
	p.Model.Cost()
	f.p = p
	return p, nil
}

// waiters is the number of callers waiting for a load of src in progress.
func (c *Cache) waiters(src Source) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.loading[src.key]; ok {
		return f.waiters
	}
	return 0
}

// finish ends flight f: its model, if any, enters the cache, evicting the
// least recently used models while more than the budget is held.
func (c *Cache) finish(src Source, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.loading, src.key)
	close(f.done)
	if f.err != nil || f.p == nil {
		return
	}
	e := &entry{key: src.key, p: f.p, held: f.p.HeldBytes()}
	c.entries[src.key] = c.lru.PushFront(e)
	c.used += e.held
	for c.used > c.budget && c.lru.Len() > 1 {
		old := c.lru.Back()
		c.lru.Remove(old)
		oe := old.Value.(*entry)
		delete(c.entries, oe.key)
		c.used -= oe.held
	}
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
