package bft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

// pebbleProvider opens each of CometBFT's databases (blockstore, state,
// evidence, tx_index) as a pebble database under data/, the engine the EVM
// chain uses too. cometbft-db has a pebble backend only behind the
// pebbledb build tag, on pebble v1; this adapter is what NewNode's
// DBProvider argument is for.
func pebbleProvider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	dir := filepath.Join(ctx.Config.DBDir(), ctx.ID+".pebble")
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &pebbleDB{db: db}, nil
}

// pebbleDB is cometbft-db's DB interface over pebble.
type pebbleDB struct{ db *pebble.DB }

var (
	errEmptyKey = errors.New("key cannot be empty")
	errNilValue = errors.New("value cannot be nil")
)

func (p *pebbleDB) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, errEmptyKey
	}
	v, closer, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

func (p *pebbleDB) Has(key []byte) (bool, error) {
	v, err := p.Get(key)
	return v != nil, err
}

func (p *pebbleDB) set(key, value []byte, opts *pebble.WriteOptions) error {
	switch {
	case len(key) == 0:
		return errEmptyKey
	case value == nil:
		return errNilValue
	}
	return p.db.Set(key, value, opts)
}

func (p *pebbleDB) Set(key, value []byte) error     { return p.set(key, value, pebble.NoSync) }
func (p *pebbleDB) SetSync(key, value []byte) error { return p.set(key, value, pebble.Sync) }

func (p *pebbleDB) del(key []byte, opts *pebble.WriteOptions) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	return p.db.Delete(key, opts)
}

func (p *pebbleDB) Delete(key []byte) error     { return p.del(key, pebble.NoSync) }
func (p *pebbleDB) DeleteSync(key []byte) error { return p.del(key, pebble.Sync) }

func (p *pebbleDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	return p.newIterator(start, end, false)
}

func (p *pebbleDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	return p.newIterator(start, end, true)
}

func (p *pebbleDB) newIterator(start, end []byte, reverse bool) (dbm.Iterator, error) {
	if (start != nil && len(start) == 0) || (end != nil && len(end) == 0) {
		return nil, errEmptyKey
	}
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return nil, err
	}
	if reverse {
		it.Last()
	} else {
		it.First()
	}
	return &pebbleIterator{it: it, start: start, end: end, reverse: reverse}, nil
}

func (p *pebbleDB) Close() error { return p.db.Close() }

func (p *pebbleDB) NewBatch() dbm.Batch { return &pebbleBatch{b: p.db.NewBatch()} }

func (p *pebbleDB) Print() error { return nil }

func (p *pebbleDB) Stats() map[string]string {
	return map[string]string{"pebble": p.db.Metrics().String()}
}

func (p *pebbleDB) Compact(start, end []byte) error {
	return p.db.Compact(context.Background(), start, end, true)
}

// pebbleIterator is cometbft-db's Iterator over a pebble iterator.
type pebbleIterator struct {
	it         *pebble.Iterator
	start, end []byte
	reverse    bool
}

func (i *pebbleIterator) Domain() ([]byte, []byte) { return i.start, i.end }
func (i *pebbleIterator) Valid() bool              { return i.it.Valid() }

func (i *pebbleIterator) Next() {
	if !i.it.Valid() {
		panic("iterator is invalid")
	}
	if i.reverse {
		i.it.Prev()
	} else {
		i.it.Next()
	}
}

func (i *pebbleIterator) Key() []byte {
	if !i.it.Valid() {
		panic("iterator is invalid")
	}
	return bytes.Clone(i.it.Key())
}

func (i *pebbleIterator) Value() []byte {
	if !i.it.Valid() {
		panic("iterator is invalid")
	}
	v, err := i.it.ValueAndErr()
	if err != nil {
		return nil
	}
	return bytes.Clone(v)
}

func (i *pebbleIterator) Error() error { return i.it.Error() }
func (i *pebbleIterator) Close() error { return i.it.Close() }

// pebbleBatch is cometbft-db's Batch over a pebble batch.
type pebbleBatch struct{ b *pebble.Batch }

var errBatchClosed = errors.New("batch has been written or closed")

func (b *pebbleBatch) Set(key, value []byte) error {
	switch {
	case b.b == nil:
		return errBatchClosed
	case len(key) == 0:
		return errEmptyKey
	case value == nil:
		return errNilValue
	}
	return b.b.Set(key, value, nil)
}

func (b *pebbleBatch) Delete(key []byte) error {
	switch {
	case b.b == nil:
		return errBatchClosed
	case len(key) == 0:
		return errEmptyKey
	}
	return b.b.Delete(key, nil)
}

func (b *pebbleBatch) write(opts *pebble.WriteOptions) error {
	if b.b == nil {
		return errBatchClosed
	}
	err := b.b.Commit(opts)
	b.Close()
	return err
}

func (b *pebbleBatch) Write() error     { return b.write(pebble.NoSync) }
func (b *pebbleBatch) WriteSync() error { return b.write(pebble.Sync) }

func (b *pebbleBatch) Close() error {
	if b.b != nil {
		b.b.Close()
		b.b = nil
	}
	return nil
}
