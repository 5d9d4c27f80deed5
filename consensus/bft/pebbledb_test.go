package bft

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

// The pebble adapter and cometbft-db's memdb, given the same random
// operations, answer every Get and every forward and reverse iteration
// alike.
func TestPebbleDBMatchesMemDB(t *testing.T) {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(t.TempDir())
	p, err := pebbleProvider(&cmtcfg.DBContext{ID: "test", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m := dbm.NewMemDB()
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() []byte { return []byte(fmt.Sprintf("k%03d", rng.IntN(200))) }
	for i := 0; i < 3000; i++ {
		k := key()
		switch rng.IntN(4) {
		case 0, 1:
			v := []byte(fmt.Sprint(i))
			p.Set(k, v)
			m.Set(k, v)
		case 2:
			p.Delete(k)
			m.Delete(k)
		case 3:
			pb, mb := p.NewBatch(), m.NewBatch()
			for j := 0; j < 5; j++ {
				k, v := key(), []byte(fmt.Sprint(i, j))
				pb.Set(k, v)
				mb.Set(k, v)
			}
			if err := pb.WriteSync(); err != nil {
				t.Fatal(err)
			}
			mb.WriteSync()
			if err := pb.Set(k, k); err == nil {
				t.Fatal("set on a written batch succeeded")
			}
		}
	}
	for i := 0; i < 200; i++ {
		k := []byte(fmt.Sprintf("k%03d", i))
		a, _ := p.Get(k)
		b, _ := m.Get(k)
		if !bytes.Equal(a, b) {
			t.Fatalf("Get(%s): pebble %q, memdb %q", k, a, b)
		}
	}
	for _, r := range [][2][]byte{{nil, nil}, {[]byte("k050"), []byte("k150")}, {nil, []byte("k100")}, {[]byte("k199"), nil}} {
		for _, reverse := range []bool{false, true} {
			var pi, mi dbm.Iterator
			if reverse {
				pi, _ = p.ReverseIterator(r[0], r[1])
				mi, _ = m.ReverseIterator(r[0], r[1])
			} else {
				pi, _ = p.Iterator(r[0], r[1])
				mi, _ = m.Iterator(r[0], r[1])
			}
			for mi.Valid() {
				if !pi.Valid() || !bytes.Equal(pi.Key(), mi.Key()) || !bytes.Equal(pi.Value(), mi.Value()) {
					t.Fatalf("range %q reverse %v: differs at memdb key %s", r, reverse, mi.Key())
				}
				pi.Next()
				mi.Next()
			}
			if pi.Valid() {
				t.Fatalf("range %q reverse %v: pebble has more (%s)", r, reverse, pi.Key())
			}
			pi.Close()
			mi.Close()
		}
	}
	if _, err := p.Get(nil); err == nil {
		t.Fatal("Get of an empty key succeeded")
	}
	if err := p.Set([]byte("x"), nil); err == nil {
		t.Fatal("Set of a nil value succeeded")
	}
}
