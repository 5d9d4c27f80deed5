// prims.cuh: the few GPU primitives the kernels use, in one place, so that
// the same kernel source runs on a GPU (inline PTX below) and in the CPU
// emulator (emu.h, selected by IG_EMU) that the cudaemu tests use.
//
// Every primitive is integer-only. Semantics (PTX ISA 7.8):
//   cp_async16(dst, src, valid)  copy 16 bytes global->shared, or zero-fill
//                                when !valid (cp.async.cg, src-size 0)
//   cp_async_commit()            close the current group of copies
//   cp_async_wait<N>()           wait until at most N committed groups are pending
//   ldmatrix_x4(r, p)            four 8x8 b16 matrices from shared memory; lane
//                                l gives the row address of matrix l/8, row l%8;
//                                lane (g=l/4, t=l%4) receives row g, bytes
//                                4t..4t+3 of matrix j in r[j]
//   mma_s8(d, a, b)              d += A(16x32, row) * B(32x8, col), s8 inputs,
//                                s32 accumulate (mma.sync m16n8k32, wrapping,
//                                never reached: see docs/spec.md section 5)
//   dp4a(a, b, c)                c + sum of the four s8*s8 byte products
//   shfl_xor(v, m)               the value of v in lane (lane ^ m)
#pragma once

#ifdef IG_EMU
#include "emu.h"
#else

#define IG_DEVICE __device__ __forceinline__
#define IG_GLOBAL extern "C" __global__
#define IG_LAUNCH_BOUNDS(threads, blocks) __launch_bounds__(threads, blocks)
#define IG_SMEM(name, bytes) __shared__ __align__(16) unsigned char name[bytes]

IG_DEVICE unsigned smem_addr(const void* p) {
  unsigned r;
  asm("{ .reg .u64 a; cvta.to.shared.u64 a, %1; cvt.u32.u64 %0, a; }" : "=r"(r) : "l"(p));
  return r;
}

IG_DEVICE void cp_async16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}

IG_DEVICE void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
IG_DEVICE void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

IG_DEVICE void ldmatrix_x4(unsigned r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

IG_DEVICE void mma_s8(int d[4], const unsigned a[4], const unsigned b[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

IG_DEVICE int dp4a(int a, int b, int c) { return __dp4a(a, b, c); }

IG_DEVICE int shfl_xor(int v, int m) { return __shfl_xor_sync(0xffffffffu, v, m); }

IG_DEVICE void sync_threads() { __syncthreads(); }

struct ig_int4 {
  int x, y, z, w;
};

IG_DEVICE ig_int4 load16(const signed char* p) {
  int4 v = *reinterpret_cast<const int4*>(p);
  return ig_int4{v.x, v.y, v.z, v.w};
}

#endif
