package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/cpu"
	"github.com/infergeth/infergeth/params"
)

// A block of the worst (docs/reliability.md): a block's gas filled with
// calls of the calibration's costliest shapes, each call on a distinct
// model so that every one loads and prepares its model from state, as a
// node that never saw them must. For each CPU kernel path it times the
// block's calls on a fresh model cache twice (the builder, then a
// validator re-executing), and samples the heap's peak above what the
// state already held.
//
//	go run ./tests/bench/gascal -worst-block [-gas-limit 30000000]

// worstBlock is one block composition.
type worstBlock struct {
	name string
	base *inference.Builder
	// variant returns model i's bytes, distinct for each i.
	variant func(m *inference.Model, i int) ([]byte, error)
}

func worstBlocks() []worstBlock {
	return []worstBlock{
		{"first calls of 16 MB models (fc 1×4096×4000)", fc(1, 4096, 4000), weightVariant},
		{"first calls of 64 KB models (fc 1×256×256)", fc(1, 256, 256), weightVariant},
		{"mul broadcast rank 6, a new model each call", alternate(inference.OpMul, &inference.MulAttrs{Multiplier: 1 << 30, Shift: 35, QMin: -128, QMax: 127}), zeroPointVariant},
	}
}

// weightVariant moves weight i of the first constant by one.
func weightVariant(m *inference.Model, i int) ([]byte, error) {
	raw, err := inference.Encode(m)
	if err != nil {
		return nil, err
	}
	c, err := inference.Decode(raw)
	if err != nil {
		return nil, err
	}
	for t := range c.Tensors {
		tn := &c.Tensors[t]
		if tn.Kind != inference.Constant || tn.DType != inference.Int8 {
			continue
		}
		data := append([]byte(nil), tn.Data...)
		k := i % len(data)
		if v := int8(data[k]); v >= 100 {
			data[k] = byte(v - 1 - int8(i/len(data)%8))
		} else {
			data[k] = byte(v + 1 + int8(i/len(data)%8))
		}
		tn.Data = data
		return inference.Encode(c)
	}
	return nil, fmt.Errorf("no int8 constant to vary")
}

// zeroPointVariant gives the two inputs zero points from i.
func zeroPointVariant(m *inference.Model, i int) ([]byte, error) {
	raw, err := inference.Encode(m)
	if err != nil {
		return nil, err
	}
	c, err := inference.Decode(raw)
	if err != nil {
		return nil, err
	}
	c.Tensors[c.Inputs[0]].ZeroPoint = int32(i%255 - 127)
	c.Tensors[c.Inputs[len(c.Inputs)-1]].ZeroPoint = int32(i/255%255 - 127)
	return inference.Encode(c)
}

func runWorstBlocks(gasLimit uint64) {
	fmt.Printf("Blocks of %d gas filled with inference calls, each on a model the node has not seen (loaded and prepared from state); time to execute the block's calls with a fresh model cache (the builder) and again with another (a validator re-executing), and the heap's peak above the state's. In-process through the inference precompile (`go run ./tests/bench/gascal -worst-block`).\n\n", gasLimit)
	fmt.Println("| block | CPU path | calls (distinct models) | gas | build | re-execute | re-execute ÷ 1 s | heap peak |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, wb := range worstBlocks() {
		m, _, err := wb.base.Build()
		if err != nil {
			fail(fmt.Errorf("%s: %v", wb.name, err))
		}
		perCall := params.InferenceCallGas + m.Cost().Gas() + 30_000 // the call's own gas, calldata and the transaction
		calls := int(gasLimit / perCall)
		for _, path := range cpu.Supported() {
			backend, err := cpu.NewPath(path)
			if err != nil {
				fail(err)
			}
			fmt.Fprintf(os.Stderr, "gascal: worst block %s on %s: %d calls\n", wb.name, path, calls)
			e := &engine{name: "cpu " + path.String(), backend: backend, calibrated: true}
			b := newBench([]*engine{e})
			var data [][]byte
			for i := range calls {
				raw, err := wb.variant(m, i)
				if err != nil {
					fail(fmt.Errorf("%s variant %d: %v", wb.name, i, err))
				}
				vm, err := inference.Decode(raw)
				if err != nil {
					fail(fmt.Errorf("%s variant %d: %v", wb.name, i, err))
				}
				data = append(data, inferCalldata(b.register(raw), randomInput(vm)))
			}
			build, gas, peak1 := b.executeBlock(e, data)
			re, _, peak2 := b.executeBlock(e, data)
			fmt.Printf("| %s | %s | %d | %d | %s | %s | %.2f | %d MiB |\n", wb.name, path, calls, gas,
				build.Round(time.Millisecond), re.Round(time.Millisecond), re.Seconds(), max(peak1, peak2)>>20)
			b = nil
			runtime.GC()
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Printf("\nProcess peak RSS over all blocks (state of every block included): %d MiB.\n", ru.Maxrss>>10)
	}
}

// executeBlock runs the calls on a fresh model cache and returns the time,
// the gas used and the heap's peak above its level before the block.
func (b *bench) executeBlock(e *engine, data [][]byte) (time.Duration, uint64, uint64) {
	b.resetCache(e)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var s runtime.MemStats
				runtime.ReadMemStats(&s)
				if s.HeapInuse > base {
					peak = max(peak, s.HeapInuse-base)
				}
			}
		}
	}()
	var gas uint64
	start := time.Now()
	for _, d := range data {
		g, err := b.call(e, params.InferencePrecompileAddress, d)
		if err != nil {
			fail(fmt.Errorf("worst block call: %v", err))
		}
		gas += g
	}
	took := time.Since(start)
	close(stop)
	wg.Wait()
	return took, gas, peak
}
