// emu.h: a CPU emulator for the kernels in infergeth.cu, so that the CUDA
// source itself (index arithmetic, fragment layouts, the cp.async pipeline,
// the epilogue) is tested on machines without a GPU (build tag cudaemu,
// inference/cuda/emu.cc). Not part of any GPU build.
//
// A launch runs the threads of a block as coroutines (ucontext) on the
// calling thread: each runs until it waits at a barrier, then the next
// one runs, so every thread gets as far as it can before the others move:
// a kernel that reads shared memory another thread has not written yet, for
// want of a barrier, reads junk. Blocks run one after another, sharing one
// shared-memory buffer that is filled with junk before each block.
// Warp-collective primitives (ldmatrix, mma, shuffles) exchange operands
// through per-warp slots between two warp barriers, and compute exactly what
// the PTX ISA documents for them. cp.async copies are queued per thread and
// performed, depending on the mode the test picks, at once (eager) or only
// when a cp.async.wait_group requires them (lazy): a kernel that reads
// shared memory before waiting, or overwrites a stage that another warp
// still reads, fails in one of the two modes.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

struct ig_dim3 {
  unsigned x, y, z;
};

// The running coroutine's indices (the scheduler sets them on each switch).
extern ig_dim3 threadIdx;
extern ig_dim3 blockIdx;
extern ig_dim3 blockDim;
extern ig_dim3 gridDim;

#define IG_DEVICE static inline
#define IG_GLOBAL extern "C"
#define IG_LAUNCH_BOUNDS(threads, blocks)
#define IG_SMEM(name, bytes) unsigned char* name = ig_emu_shared(bytes)

// The block's shared memory (bytes must not exceed the launcher's buffer).
unsigned char* ig_emu_shared(unsigned bytes);

// A barrier for count coroutines: each waits until all have arrived.
struct ig_emu_bar {
  int count, arrived, gen;
  void arrive_and_wait();
};

struct ig_emu_warp {
  const void* addr[32];
  unsigned a[32][4];
  unsigned b[32][2];
  int v[32];
  ig_emu_bar* bar;
};

ig_emu_warp& ig_emu_this_warp();
void ig_emu_syncthreads();

IG_DEVICE void sync_threads() { ig_emu_syncthreads(); }

// cp.async emulation.
struct ig_emu_copy {
  void* dst;
  const void* src;
  bool valid;
  int group;
};
struct ig_emu_async {
  std::vector<ig_emu_copy> pending;
  int open = 0;  // the group that new copies join; groups below it are committed
};
ig_emu_async& ig_emu_async_now();  // the running coroutine's copies
extern bool ig_emu_lazy;

IG_DEVICE void ig_emu_do_copy(const ig_emu_copy& c) {
  if (c.valid)
    std::memcpy(c.dst, c.src, 16);
  else
    std::memset(c.dst, 0, 16);
}

IG_DEVICE void cp_async16(void* dst, const void* src, bool valid) {
  ig_emu_copy c{dst, src, valid, ig_emu_async_now().open};
  if (ig_emu_lazy)
    ig_emu_async_now().pending.push_back(c);
  else
    ig_emu_do_copy(c);
}

IG_DEVICE void cp_async_commit() { ig_emu_async_now().open++; }

template <int N>
IG_DEVICE void cp_async_wait() {
  // Complete every copy of a committed group older than the N most recent.
  auto& s = ig_emu_async_now();
  const int limit = s.open - N;  // groups < limit must be complete
  std::vector<ig_emu_copy> keep;
  for (const auto& c : s.pending) {
    if (c.group < limit)
      ig_emu_do_copy(c);
    else
      keep.push_back(c);
  }
  s.pending.swap(keep);
}

IG_DEVICE unsigned ig_emu_lane() { return threadIdx.x & 31; }

IG_DEVICE void ldmatrix_x4(unsigned r[4], const void* p) {
  ig_emu_warp& w = ig_emu_this_warp();
  const unsigned lane = ig_emu_lane();
  w.addr[lane] = p;
  w.bar->arrive_and_wait();
  const unsigned g = lane >> 2, t = lane & 3;
  for (int j = 0; j < 4; j++)
    std::memcpy(&r[j], static_cast<const unsigned char*>(w.addr[j * 8 + g]) + 4 * t, 4);
  w.bar->arrive_and_wait();
}

IG_DEVICE int ig_emu_byte(unsigned word, int i) { return (signed char)(word >> (8 * i)); }

IG_DEVICE void mma_s8(int d[4], const unsigned a[4], const unsigned b[2]) {
  ig_emu_warp& w = ig_emu_this_warp();
  const unsigned lane = ig_emu_lane();
  for (int i = 0; i < 4; i++) w.a[lane][i] = a[i];
  for (int i = 0; i < 2; i++) w.b[lane][i] = b[i];
  w.bar->arrive_and_wait();
  // Assemble A (16x32) and B (32x8) from the fragments of all lanes (PTX ISA,
  // "Matrix Fragments for mma.m16n8k32", .s8): lane (g, t) holds
  //   a[0] = A[g][4t..4t+3]    a[1] = A[g+8][4t..]   a[2] = A[g][16+4t..]   a[3] = A[g+8][16+4t..]
  //   b[0] = B[4t..4t+3][g]    b[1] = B[16+4t..][g]
  // and its accumulators are D[g][2t], D[g][2t+1], D[g+8][2t], D[g+8][2t+1].
  int A[16][32], B[32][8];
  for (int L = 0; L < 32; L++) {
    const int g = L >> 2, t = L & 3;
    for (int i = 0; i < 4; i++) {
      A[g][4 * t + i] = ig_emu_byte(w.a[L][0], i);
      A[g + 8][4 * t + i] = ig_emu_byte(w.a[L][1], i);
      A[g][16 + 4 * t + i] = ig_emu_byte(w.a[L][2], i);
      A[g + 8][16 + 4 * t + i] = ig_emu_byte(w.a[L][3], i);
      B[4 * t + i][g] = ig_emu_byte(w.b[L][0], i);
      B[16 + 4 * t + i][g] = ig_emu_byte(w.b[L][1], i);
    }
  }
  w.bar->arrive_and_wait();
  const int g = lane >> 2, t = lane & 3;
  for (int i = 0; i < 4; i++) {
    const int row = g + (i >> 1) * 8, col = 2 * t + (i & 1);
    unsigned s = (unsigned)d[i];
    for (int k = 0; k < 32; k++) s += (unsigned)(A[row][k] * B[k][col]);
    d[i] = (int)s;
  }
}

IG_DEVICE int dp4a(int a, int b, int c) {
  unsigned s = (unsigned)c;
  for (int i = 0; i < 4; i++) s += (unsigned)(ig_emu_byte((unsigned)a, i) * ig_emu_byte((unsigned)b, i));
  return (int)s;
}

IG_DEVICE int shfl_xor(int v, int m) {
  ig_emu_warp& w = ig_emu_this_warp();
  const unsigned lane = ig_emu_lane();
  w.v[lane] = v;
  w.bar->arrive_and_wait();
  const int r = w.v[lane ^ (unsigned)m];
  w.bar->arrive_and_wait();
  return r;
}

struct ig_int4 {
  int x, y, z, w;
};

IG_DEVICE ig_int4 load16(const signed char* p) {
  ig_int4 v;
  std::memcpy(&v, p, 16);
  return v;
}
