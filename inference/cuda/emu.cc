//go:build cudaemu && !cuda

// emu.cc runs the CUDA kernels of kernels/infergeth.cu on the CPU (see
// kernels/emu.h), for the cudaemu build's tests. Not part of any GPU build.
#define IG_EMU 1
#include "kernels/infergeth.cu"

#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

ig_dim3 threadIdx;
ig_dim3 blockIdx;
ig_dim3 blockDim;
ig_dim3 gridDim;
bool ig_emu_lazy;

static const unsigned kSharedBytes = 48 * 1024;
static const size_t kStackBytes = 256 * 1024;
static unsigned char g_shared[kSharedBytes] __attribute__((aligned(16)));

// One coroutine per thread of the block being run.
struct emu_thread {
  ucontext_t ctx;
  std::unique_ptr<char[]> stack;
  ig_emu_async async;
  bool done;
  const ig_emu_bar* waiting;  // the barrier it waits at, or null
  int waitGen;                // the barrier's generation when it arrived
  bool runnable() const { return !done && (waiting == nullptr || waiting->gen != waitGen); }
};

static ucontext_t g_sched;               // the scheduler's context
static std::vector<emu_thread>* g_threads;
static unsigned g_cur;                   // the running coroutine
static ig_emu_bar g_block_bar;
static std::vector<ig_emu_warp>* g_warps;

unsigned char* ig_emu_shared(unsigned bytes) {
  if (bytes > kSharedBytes) std::abort();
  return g_shared;
}

ig_emu_warp& ig_emu_this_warp() { return (*g_warps)[threadIdx.x / 32]; }

ig_emu_async& ig_emu_async_now() { return (*g_threads)[g_cur].async; }

static void yield() { swapcontext(&(*g_threads)[g_cur].ctx, &g_sched); }

void ig_emu_bar::arrive_and_wait() {
  if (++arrived == count) {
    arrived = 0;
    gen++;
    return;
  }
  emu_thread& me = (*g_threads)[g_cur];
  me.waiting = this;
  me.waitGen = gen;
  yield();  // the scheduler resumes this thread once gen has moved on
  me.waiting = nullptr;
}

void ig_emu_syncthreads() { g_block_bar.arrive_and_wait(); }

static void call(int kernel, const uint64_t* p) {
#define PTR(T, i) ((T)(uintptr_t)p[i])
#define LL(i) ((long long)p[i])
  switch (kernel) {
    case 0:
    case 1: {
      auto fn = kernel == 0 ? ig_gemm_imma : ig_gemm_dp4a;
      fn(PTR(const signed char*, 0), PTR(const signed char*, 1), PTR(const int*, 2),
         PTR(const int*, 3), PTR(const int*, 4), PTR(const int*, 5), PTR(void*, 6), LL(7), LL(8),
         LL(9), LL(10), LL(11), LL(12), LL(13), LL(14), LL(15), LL(16), LL(17), LL(18), LL(19));
      break;
    }
    case 2:
      ig_im2col(PTR(const signed char*, 0), PTR(signed char*, 1), LL(2), LL(3), LL(4), LL(5), LL(6),
                LL(7), LL(8), LL(9), LL(10), LL(11), LL(12), LL(13), LL(14), LL(15), LL(16), LL(17),
                LL(18));
      break;
    case 3:
      ig_depthwise(PTR(const signed char*, 0), PTR(const signed char*, 1), PTR(const int*, 2),
                   PTR(const int*, 3), PTR(const int*, 4), PTR(void*, 5), LL(6), LL(7), LL(8),
                   LL(9), LL(10), LL(11), LL(12), LL(13), LL(14), LL(15), LL(16), LL(17), LL(18),
                   LL(19), LL(20), LL(21), LL(22), LL(23), LL(24), LL(25), LL(26));
      break;
  }
#undef PTR
#undef LL
}

static int g_kernel;
static const uint64_t* g_args;

static void thread_main() {
  call(g_kernel, g_args);
  (*g_threads)[g_cur].done = true;
  // returning resumes uc_link: the scheduler
}

// ig_emu_launch runs one kernel launch to completion. It returns 0, -1 for
// a block shape the emulator does not take (not 1-D, not whole warps), or
// -2 when the threads of a block deadlock (wait at different barriers).
extern "C" int ig_emu_launch(int kernel, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, const uint64_t* args, int lazy) {
  if (by != 1 || bz != 1 || bx == 0 || bx % 32 != 0 || bx > 1024) return -1;
  // One launch at a time: the emulated GPU's state is global.
  static std::mutex one;
  std::lock_guard<std::mutex> lock(one);
  blockDim = ig_dim3{bx, 1, 1};
  gridDim = ig_dim3{gx, gy, gz};
  ig_emu_lazy = lazy != 0;
  g_kernel = kernel;
  g_args = args;
  const unsigned n = bx;
  std::vector<emu_thread> threads(n);
  for (auto& t : threads) t.stack.reset(new char[kStackBytes]);
  std::vector<ig_emu_bar> warpBars(n / 32, ig_emu_bar{32, 0, 0});
  std::vector<ig_emu_warp> warps(n / 32);
  for (unsigned w = 0; w < n / 32; w++) warps[w].bar = &warpBars[w];
  g_threads = &threads;
  g_warps = &warps;
  unsigned phase = 0;
  for (unsigned z = 0; z < gz; z++)
    for (unsigned y = 0; y < gy; y++)
      for (unsigned x = 0; x < gx; x++) {
        blockIdx = ig_dim3{x, y, z};
        // Junk that changes from block to block: a kernel that reads shared
        // memory it did not write fails.
        phase++;
        for (unsigned i = 0; i < kSharedBytes; i++) g_shared[i] = (unsigned char)(i * 131 + phase * 71 + 0x5A);
        g_block_bar = ig_emu_bar{(int)n, 0, 0};
        for (auto& b : warpBars) b = ig_emu_bar{32, 0, 0};
        for (unsigned t = 0; t < n; t++) {
          emu_thread& th = threads[t];
          th.async = ig_emu_async{};
          th.done = false;
          th.waiting = nullptr;
          getcontext(&th.ctx);
          th.ctx.uc_stack.ss_sp = th.stack.get();
          th.ctx.uc_stack.ss_size = kStackBytes;
          th.ctx.uc_link = &g_sched;
          makecontext(&th.ctx, thread_main, 0);
        }
        // Two schedules, on alternate blocks. Even blocks: always the
        // lowest-numbered thread that can run, so the first warps race as
        // far ahead of the others as the barriers let them (a stage
        // overwritten while another warp still reads it shows). Odd blocks:
        // round robin, every thread one step at a time.
        const bool skewed = ((z * gy + y) * gx + x) % 2 == 0;
        unsigned live = n, next = 0;
        while (live > 0) {
          unsigned t = 0, seen = 0;
          for (; seen < n; seen++) {
            t = skewed ? seen : (next + seen) % n;
            if (threads[t].runnable()) break;
          }
          if (seen == n) {
            std::fprintf(stderr, "emu: kernel %d block (%u,%u,%u): %u threads wait at barriers that never open\n",
                         kernel, x, y, z, live);
            return -2;
          }
          next = (t + 1) % n;
          g_cur = t;
          threadIdx = ig_dim3{t, 0, 0};
          swapcontext(&g_sched, &threads[t].ctx);
          if (threads[t].done) live--;
        }
      }
  return 0;
}
