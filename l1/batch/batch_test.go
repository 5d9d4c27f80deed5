package batch

import (
	"bytes"
	"compress/zlib"
	"errors"
	"math/big"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// sampleBatch is three blocks of signed transactions: a transfer, a call
// with calldata, an empty block, and overridden header fields.
func sampleBatch(t testing.TB) *Batch {
	key, _ := crypto.HexToECDSA("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
	signer := types.LatestSignerForChainID(big.NewInt(31337))
	tx := func(nonce uint64, data []byte) []byte {
		to := common.HexToAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
		t := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{ChainID: big.NewInt(31337), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9), Gas: 100000, To: &to, Value: big.NewInt(1), Data: data})
		raw, _ := t.MarshalBinary()
		return raw
	}
	return &Batch{
		ParentHash: common.HexToHash("0x01"),
		First:      7,
		Blocks: []Block{
			{Time: 100, StateRoot: common.HexToHash("0xaa"), Txs: [][]byte{tx(0, nil), tx(1, bytes.Repeat([]byte{0x42}, 300))}},
			{Time: 101, StateRoot: common.HexToHash("0xbb")},
			{Time: 101, StateRoot: common.HexToHash("0xcc"), Coinbase: common.HexToAddress("0x02").Bytes(), GasLimit: 1 << 25, BaseFee: []byte{7}, Random: common.HexToHash("0x03").Bytes(), Extra: []byte("x"), Txs: [][]byte{tx(2, []byte{1, 2, 3})}},
		},
	}
}

func TestBatchRoundTrip(t *testing.T) {
	b := sampleBatch(t)
	data, err := Compress(b)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := Split(data, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 3 {
		t.Fatalf("%d frames of 100 bytes for %d bytes", len(frames), len(data))
	}
	var joined []byte
	for i, f := range frames {
		got, err := ParseFrames(MarshalFrames(f))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], f) {
			t.Fatalf("frame %d: parsed %+v, want %+v", i, got, f)
		}
		if f.IsLast != (i == len(frames)-1) || int(f.Number) != i || f.Channel != frames[0].Channel {
			t.Fatalf("frame %d: number %d last %v", i, f.Number, f.IsLast)
		}
		joined = append(joined, f.Data...)
	}
	back, err := Decompress(joined)
	if err != nil {
		t.Fatal(err)
	}
	if back.Last() != 9 {
		t.Fatalf("last block %d, want 9", back.Last())
	}
	want, _ := b.Encode()
	got, _ := back.Encode()
	if !bytes.Equal(got, want) {
		t.Fatal("batch differs after the round trip")
	}
	// Several frames in one transaction parse too.
	many, err := ParseFrames(MarshalFrames(frames...))
	if err != nil || len(many) != len(frames) {
		t.Fatalf("%d frames in one tx: %d, %v", len(frames), len(many), err)
	}
	// The same batch gives the same channel id (resubmissions are harmless).
	again, _ := Compress(b)
	frames2, _ := Split(again, 100)
	if frames2[0].Channel != frames[0].Channel {
		t.Fatal("channel id not deterministic")
	}
}

func TestParseFramesRefuses(t *testing.T) {
	good := MarshalFrames(Frame{Channel: ChannelID{1}, Number: 0, Data: []byte("abc"), IsLast: true})
	oversized := append([]byte{}, good...)
	oversized[1+16+2] = 0xff // length high byte
	badLast := append([]byte{}, good...)
	badLast[len(badLast)-1] = 2
	bigNumber := append([]byte{}, good...)
	bigNumber[1+16], bigNumber[1+16+1] = 0xff, 0xff
	cases := map[string][]byte{
		"empty":            nil,
		"version only":     {Version0},
		"unknown version":  append([]byte{1}, good[1:]...),
		"truncated header": good[:10],
		"truncated data":   good[:len(good)-2],
		"oversized":        oversized,
		"is-last 2":        badLast,
		"frame number":     bigNumber,
		"trailing bytes":   append(append([]byte{}, good...), 0),
	}
	for name, calldata := range cases {
		if _, err := ParseFrames(calldata); !errors.Is(err, ErrInvalidFrame) {
			t.Errorf("%s: err %v, want ErrInvalidFrame", name, err)
		}
	}
	if _, err := ParseFrames(good); err != nil {
		t.Fatal(err)
	}
}

func TestDecompressRefuses(t *testing.T) {
	good, err := Compress(sampleBatch(t))
	if err != nil {
		t.Fatal(err)
	}
	zip := func(b []byte) []byte {
		var buf bytes.Buffer
		w := zlib.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	enc, _ := sampleBatch(t).Encode()
	badTx := sampleBatch(t)
	badTx.Blocks[0].Txs[0] = []byte{0x02, 0xc0}
	badTxEnc, _ := rlp.EncodeToBytes(badTx)
	badRandom := sampleBatch(t)
	badRandom.Blocks[1].Random = []byte{1}
	badRandomEnc, _ := rlp.EncodeToBytes(badRandom)
	genesis := sampleBatch(t)
	genesis.First = 0
	genesisEnc, _ := rlp.EncodeToBytes(genesis)
	cases := map[string][]byte{
		"not zlib":        []byte("hello"),
		"truncated":       good[:len(good)-3],
		"trailing":        append(append([]byte{}, good...), 1),
		"bomb":            zip(make([]byte, MaxBatchBytes+10)),
		"rlp trailing":    zip(append(append([]byte{}, enc...), 0x80)),
		"not rlp":         zip([]byte{0xff, 0x01}),
		"bad transaction": zip(badTxEnc),
		"bad random":      zip(badRandomEnc),
		"block zero":      zip(genesisEnc),
		"no blocks":       zip(mustRLP(&Batch{First: 1})),
	}
	for name, data := range cases {
		if _, err := Decompress(data); !errors.Is(err, ErrInvalidChannel) {
			t.Errorf("%s: err %v, want ErrInvalidChannel", name, err)
		}
	}
}

func mustRLP(v any) []byte {
	b, err := rlp.EncodeToBytes(v)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecode feeds arbitrary calldata through everything a verifier runs on
// a batcher transaction: the frame parser, then (as if the frames were a
// whole channel) decompression and batch decoding. Nothing may panic, and
// whatever decodes must encode back to the same batch.
func FuzzDecode(f *testing.F) {
	b := sampleBatch(f)
	data, _ := Compress(b)
	frames, _ := Split(data, 64)
	f.Add(MarshalFrames(frames...))
	f.Add(MarshalFrames(frames[0]))
	f.Add(append([]byte{Version0}, data...))
	f.Add([]byte{Version0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, calldata []byte) {
		frames, err := ParseFrames(calldata)
		if err != nil {
			return
		}
		var joined []byte
		for _, fr := range frames {
			if len(fr.Data) > MaxFrameData {
				t.Fatalf("frame of %d bytes accepted", len(fr.Data))
			}
			joined = append(joined, fr.Data...)
		}
		if !bytes.Equal(MarshalFrames(frames...), calldata) {
			t.Fatal("frames do not marshal back to the calldata")
		}
		batch, err := Decompress(joined)
		if err != nil {
			return
		}
		if _, err := batch.Encode(); err != nil {
			t.Fatalf("decoded batch does not encode: %v", err)
		}
	})
}
