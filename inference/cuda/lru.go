package cuda

import (
	"container/list"
	"errors"
	"fmt"

	"github.com/infergeth/infergeth/inference"
)

// weightCache keeps models' constant data (packed weights, folded biases,
// multipliers: densePlan.blob) on the device, keyed by model ID, within a
// byte budget; the least recently used model leaves first. A model's nodes
// are uploaded on their first run. Because a model ID is the hash of the
// model's bytes, a cached entry is never stale: the cache changes how fast
// a node runs, never what it computes. Used under the device lock only.
type weightCache struct {
	budget int64
	used   int64
	models map[inference.ModelID]*residentModel
	lru    *list.List // of *residentModel, most recent at the front
}

type residentModel struct {
	id    inference.ModelID
	nodes map[int]devPtr
	bytes int64
	elem  *list.Element
}

func newWeightCache(budget int64) *weightCache {
	return &weightCache{budget: budget, models: map[inference.ModelID]*residentModel{}, lru: list.New()}
}

// resident returns the device copy of node's blob for model id, uploading
// it (and evicting other models) when it is not there yet.
func (c *weightCache) resident(d device, id inference.ModelID, node int, blob []byte) (devPtr, error) {
	rm := c.models[id]
	if rm == nil {
		rm = &residentModel{id: id, nodes: map[int]devPtr{}}
		rm.elem = c.lru.PushFront(rm)
		c.models[id] = rm
	} else {
		c.lru.MoveToFront(rm.elem)
	}
	if p, ok := rm.nodes[node]; ok {
		return p, nil
	}
	size := int64(len(blob))
	for c.used+size > c.budget && c.evictOne(d, id) {
	}
	if c.used+size > c.budget {
		return 0, fmt.Errorf("%w: node %d needs %d bytes, %d of %d in use by this model", errOverBudget, node, size, c.used, c.budget)
	}
	p, err := c.alloc(d, len(blob), id)
	if err != nil {
		return 0, err
	}
	if err := d.upload(p, blob); err != nil {
		_ = d.free(p)
		return 0, err
	}
	rm.nodes[node] = p
	rm.bytes += size
	c.used += size
	return p, nil
}

// alloc allocates n bytes, evicting models other than keep while the
// device is out of memory.
func (c *weightCache) alloc(d device, n int, keep inference.ModelID) (devPtr, error) {
	for {
		p, err := d.alloc(n)
		if err == nil || !errors.Is(err, errOutOfMemory) || !c.evictOne(d, keep) {
			return p, err
		}
	}
}

// evictOne frees the least recently used model other than keep, and
// reports whether there was one.
func (c *weightCache) evictOne(d device, keep inference.ModelID) bool {
	for e := c.lru.Back(); e != nil; e = e.Prev() {
		rm := e.Value.(*residentModel)
		if rm.id == keep {
			continue
		}
		c.drop(d, rm)
		return true
	}
	return false
}

func (c *weightCache) drop(d device, rm *residentModel) {
	for _, p := range rm.nodes {
		// A failing free means the device is broken; the backend learns it
		// from the call that fails next. The memory is lost either way.
		_ = d.free(p)
	}
	c.used -= rm.bytes
	c.lru.Remove(rm.elem)
	delete(c.models, rm.id)
}

// clear frees everything (device shutdown).
func (c *weightCache) clear(d device) {
	for c.lru.Len() > 0 {
		c.drop(d, c.lru.Front().Value.(*residentModel))
	}
}
