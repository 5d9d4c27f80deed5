// infergeth.cu: the CUDA kernels of infergeth's dense ops (docs/cuda.md).
//
// Compiled to PTX by `make cuda-ptx` (infergeth_sm80.ptx, infergeth_sm90.ptx
// beside this file, embedded by inference/cuda and JIT-compiled by the
// driver). The same source runs in the CPU emulator (emu.h) under the
// `cudaemu` build tag, which is how it is tested without a GPU.
//
// Every kernel is integer-only: no float, no atomics. Every dense op is
// computed as a GEMM over int8 data
//
//   out[b][m][n] = Requantize(dot(A[b][m], B[b][n]) + rowTerm[b][m] + colTerm[b][n])
//
// where A and B are K-major ([rows][Kp], Kp = K rounded up to 16, zero
// padded), the dot product is of the raw int8 values (so every partial sum
// is bounded by the static overflow proof of docs/spec.md section 5 and no
// order of summation can change it), and rowTerm/colTerm carry the bias and
// the zero-point cross terms, folded on the host. Adding the three terms
// wraps modulo 2^32 (unsigned arithmetic); the spec's exact accumulator
// lies in int32, so the wrapped sum is that accumulator exactly.
//
// Kernel parameters are all 8 bytes wide (pointers and long long):
// gorgonia.org/cu's Launch copies 8 bytes per parameter.
#include "prims.cuh"

// The tile shapes; inference/cuda/kernels.go mirrors them (a test compares).
#define IMMA_BM 128     // rows of A per block
#define IMMA_BN 128     // rows of B (output columns) per block
#define IMMA_BK 64      // bytes of K per pipeline stage
#define IMMA_STAGES 3   // pipeline depth
#define IMMA_LDT 132    // int32 row stride of the epilogue's half tile (64 x 128, 33792 bytes)
#define IMMA_THREADS 256
#define DP4A_ROWS 8     // rows of A per block in the dp4a kernel
#define DP4A_COLS 8     // output columns per block (one per warp)
#define DP4A_THREADS 256
#define ELEM_THREADS 256  // im2col and depthwise

// requant_store is docs/spec.md 1.3: clamp(zy + RoundShift(acc*mult, shift), qmin, qmax),
// in 64-bit integers (mul.wide.s32, add.s64, shr.s64, min, max), stored as
// int8, int16 or int32.
IG_DEVICE void requant_store(void* out, long long idx, long long osize, int acc, int mult, int shift,
                             long long zy, long long qmin, long long qmax) {
  long long v = (long long)acc * (long long)mult;
  if (shift > 0) v = (v + (1LL << (shift - 1))) >> shift;
  v += zy;
  v = v < qmin ? qmin : v;
  v = v > qmax ? qmax : v;
  if (osize == 1) {
    ((signed char*)out)[idx] = (signed char)v;
  } else if (osize == 2) {
    ((short*)out)[idx] = (short)v;
  } else {
    ((int*)out)[idx] = (int)v;
  }
}

// epilogue adds the folded terms to a dot product (mod 2^32) and stores the
// requantized value of element (bz, m, n).
IG_DEVICE void epilogue(int dot, long long bz, long long m, long long n, const int* rowTerm,
                        const int* colTerm, const int* mult, const int* shift, void* out, long long N,
                        long long strideRow, long long strideCol, long long strideOut, long long zy,
                        long long qmin, long long qmax, long long osize) {
  unsigned v = (unsigned)dot + (unsigned)colTerm[bz * strideCol + n];
  if (rowTerm) v += (unsigned)rowTerm[bz * strideRow + m];
  requant_store(out, bz * strideOut + m * N + n, osize, (int)v, mult[n], shift[n], zy, qmin, qmax);
}

// ig_gemm_imma: tensor-core GEMM (mma.sync m16n8k32 s8). Grid: x = batch *
// mTiles (mTiles = ceil(M/128)), y = ceil(N/128); block: 256 threads, 8 warps
// in a 2x4 grid, each warp a 64x32 tile of 4x4 mma tiles. K advances 64
// bytes per stage through a three-stage cp.async pipeline in shared memory
// (3 x 16 KiB: the 48 KiB a kernel gets without cuFuncSetAttribute).
// A, B and their batch strides must be 16-byte aligned; Kp % 16 == 0.
//
// Shared rows are 64 bytes, four 16-byte chunks, stored swizzled: logical
// chunk c of row r sits at chunk c ^ ((r >> 1) & 3), so the eight rows one
// ldmatrix phase reads (same c, rows 8j..8j+7) fall in eight different
// 16-byte bank groups.
IG_DEVICE int swz(int row, int chunk) { return row * IMMA_BK + ((chunk ^ ((row >> 1) & 3)) << 4); }

IG_GLOBAL void IG_LAUNCH_BOUNDS(IMMA_THREADS, 2)
    ig_gemm_imma(const signed char* A, const signed char* B, const int* rowTerm, const int* colTerm,
                 const int* mult, const int* shift, void* out, long long M, long long N,
                 long long Kp, long long mTiles, long long strideA, long long strideB,
                 long long strideRow, long long strideCol, long long strideOut, long long zy,
                 long long qmin, long long qmax, long long osize) {
  IG_SMEM(smem, IMMA_STAGES * 2 * IMMA_BM * IMMA_BK);  // [stage][A, B][row][64 bytes, swizzled]
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const long long bz = blockIdx.x / mTiles;
  const long long m0 = (blockIdx.x % mTiles) * IMMA_BM;
  const long long n0 = (long long)blockIdx.y * IMMA_BN;
  A += bz * strideA;
  B += bz * strideB;
  const int wm = (warp >> 2) * 64;
  const int wn = (warp & 3) * 32;

  int acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int r = 0; r < 4; r++) acc[i][j][r] = 0;

  // Each stage is 128 rows x 64 bytes of A and of B: 512 16-byte chunks
  // each, two per thread. Chunks outside the matrix are zero-filled.
  auto load = [&](int stage, long long kt) {
    unsigned char* sA = smem + stage * 2 * IMMA_BM * IMMA_BK;
    unsigned char* sB = sA + IMMA_BM * IMMA_BK;
#pragma unroll
    for (int i = 0; i < 2; i++) {
      const int c = tid + i * IMMA_THREADS;
      const int row = c >> 2, chunk = c & 3;
      const long long k = kt * IMMA_BK + chunk * 16;
      const bool inK = k < Kp;
      const bool va = inK && m0 + row < M;
      const bool vb = inK && n0 + row < N;
      cp_async16(sA + swz(row, chunk), va ? A + (m0 + row) * Kp + k : A, va);
      cp_async16(sB + swz(row, chunk), vb ? B + (n0 + row) * Kp + k : B, vb);
    }
  };

  // Tile kt lives in stage kt % IMMA_STAGES and in commit group kt (the
  // prologue commits tiles 0 and 1, each iteration one more, possibly empty).
  const long long kTiles = (Kp + IMMA_BK - 1) / IMMA_BK;
#pragma unroll
  for (int s = 0; s < IMMA_STAGES - 1; s++) {
    if (s < kTiles) load(s, s);
    cp_async_commit();
  }
  for (long long kt = 0; kt < kTiles; kt++) {
    cp_async_wait<IMMA_STAGES - 2>();  // this thread's copies of tile kt have landed
    sync_threads();  // everyone's have, and everyone is done with tile kt-1
    // Prefetch tile kt+2 into the stage tile kt-1 used.
    if (kt + IMMA_STAGES - 1 < kTiles) load((int)((kt + IMMA_STAGES - 1) % IMMA_STAGES), kt + IMMA_STAGES - 1);
    cp_async_commit();
    const unsigned char* sA = smem + (int)(kt % IMMA_STAGES) * 2 * IMMA_BM * IMMA_BK;
    const unsigned char* sB = sA + IMMA_BM * IMMA_BK;
#pragma unroll
    for (int ks = 0; ks < IMMA_BK / 16; ks += 2) {  // ks: the k32 step's first chunk
      unsigned a[4][4], b[4][2];
#pragma unroll
      for (int mt = 0; mt < 4; mt++)
        ldmatrix_x4(a[mt], sA + swz(wm + mt * 16 + (lane & 15), ks + (lane >> 4)));
#pragma unroll
      for (int np = 0; np < 2; np++) {
        unsigned r[4];
        ldmatrix_x4(r, sB + swz(wn + np * 16 + ((lane >> 4) << 3) + (lane & 7), ks + ((lane >> 3) & 1)));
        b[2 * np][0] = r[0];
        b[2 * np][1] = r[1];
        b[2 * np + 1][0] = r[2];
        b[2 * np + 1][1] = r[3];
      }
#pragma unroll
      for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++) mma_s8(acc[mt][nt], a[mt], b[nt]);
    }
  }
  sync_threads();  // every warp is done with the last tile before the epilogue reuses the buffer

  // The epilogue goes through shared memory (free now: every real copy has
  // landed and every warp is past the last tile), half a tile at a time,
  // so that each thread requantizes whole rows' worth of elements in a
  // short loop and the global stores are coalesced along n.
  int* tile = reinterpret_cast<int*>(smem);  // [64][IMMA_LDT]
  const int g = lane >> 2, t = lane & 3;
  for (int half = 0; half < 2; half++) {
    if ((warp >> 2) == half) {
#pragma unroll
      for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
          for (int i = 0; i < 4; i++)
            tile[(mt * 16 + g + (i >> 1) * 8) * IMMA_LDT + wn + nt * 8 + t * 2 + (i & 1)] = acc[mt][nt][i];
    }
    sync_threads();
#pragma unroll 1
    for (int idx = tid; idx < 64 * IMMA_BN; idx += IMMA_THREADS) {
      const int r = idx / IMMA_BN, c = idx % IMMA_BN;
      const long long m = m0 + half * 64 + r, n = n0 + c;
      if (m < M && n < N)
        epilogue(tile[r * IMMA_LDT + c], bz, m, n, rowTerm, colTerm, mult, shift, out, N, strideRow,
                 strideCol, strideOut, zy, qmin, qmax, osize);
    }
    sync_threads();
  }
}

// ig_gemm_dp4a: the same GEMM for few rows (batch-1 FullyConnected, small
// MatMul): memory-bound, so each warp streams one row of B once for up to 8
// rows of A with 16-byte loads and dp4a, then sums its lanes with shuffles.
// Grid: x = batch * ceil(M/8), y = ceil(N/8); block: 256 threads.
IG_GLOBAL void IG_LAUNCH_BOUNDS(DP4A_THREADS, 4)
    ig_gemm_dp4a(const signed char* A, const signed char* B, const int* rowTerm, const int* colTerm,
                 const int* mult, const int* shift, void* out, long long M, long long N,
                 long long Kp, long long mTiles, long long strideA, long long strideB,
                 long long strideRow, long long strideCol, long long strideOut, long long zy,
                 long long qmin, long long qmax, long long osize) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const long long bz = blockIdx.x / mTiles;
  const long long m0 = (blockIdx.x % mTiles) * DP4A_ROWS;
  const long long n = (long long)blockIdx.y * DP4A_COLS + warp;
  if (n >= N) return;  // the whole warp leaves together
  const long long rows = M - m0 < DP4A_ROWS ? M - m0 : DP4A_ROWS;
  const signed char* a = A + bz * strideA + m0 * Kp;
  const signed char* b = B + bz * strideB + n * Kp;
  int acc[DP4A_ROWS];
#pragma unroll
  for (int r = 0; r < DP4A_ROWS; r++) acc[r] = 0;
  for (long long k = lane * 16; k < Kp; k += 32 * 16) {
    const ig_int4 bw = load16(b + k);
#pragma unroll
    for (int r = 0; r < DP4A_ROWS; r++) {
      if (r < rows) {
        const ig_int4 aw = load16(a + r * Kp + k);
        acc[r] = dp4a(aw.x, bw.x, acc[r]);
        acc[r] = dp4a(aw.y, bw.y, acc[r]);
        acc[r] = dp4a(aw.z, bw.z, acc[r]);
        acc[r] = dp4a(aw.w, bw.w, acc[r]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < DP4A_ROWS; r++)
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc[r] += shfl_xor(acc[r], off);
  if (lane == 0) {
#pragma unroll
    for (int r = 0; r < DP4A_ROWS; r++)
      if (r < rows)
        epilogue(acc[r], bz, m0 + r, n, rowTerm, colTerm, mult, shift, out, N, strideRow, strideCol,
                 strideOut, zy, qmin, qmax, osize);
  }
}

// ig_im2col writes rows [row0, row0+rows) of Conv2D's A matrix: row r is
// output pixel (b, oy, ox), byte k < K is tap (ky, kx, ic) in the OHWI order
// of the weights, Kp-K bytes of zeros follow. A tap outside the input reads
// the input zero point zx: it then adds zx*w to the dot product, which the
// folded bias (bias - zx*sum(w)) cancels, as docs/spec.md's "padding holds
// zx" says. Grid-stride over rows*Kp bytes; every index is below 2^31
// (the host keeps chunks small).
IG_GLOBAL void IG_LAUNCH_BOUNDS(ELEM_THREADS, 4)
    ig_im2col(const signed char* x, signed char* a, long long rows, long long row0, long long Kp,
              long long K, long long H, long long W, long long C, long long OH, long long OW,
              long long KW, long long sh, long long sw, long long dh, long long dw, long long padT,
              long long padL, long long zx) {
  const int total = (int)(rows * Kp);
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
    const int r = idx / (int)Kp, k = idx % (int)Kp;
    signed char v = 0;
    if (k < (int)K) {
      const int R = (int)row0 + r;
      const int ox = R % (int)OW, t = R / (int)OW;
      const int oy = t % (int)OH, b = t / (int)OH;
      const int ic = k % (int)C, t2 = k / (int)C;
      const int kx = t2 % (int)KW, ky = t2 / (int)KW;
      const int iy = oy * (int)sh - (int)padT + ky * (int)dh;
      const int ix = ox * (int)sw - (int)padL + kx * (int)dw;
      v = (iy >= 0 && iy < (int)H && ix >= 0 && ix < (int)W)
              ? x[((b * (int)H + iy) * (int)W + ix) * (int)C + ic]
              : (signed char)zx;
    }
    a[idx] = v;
  }
}

// ig_depthwise computes DepthwiseConv2D directly, one output element per
// thread: acc = bias[c] + sum over inside taps of (x - zx) * w, exact in
// int32 by the static overflow proof. Weights are [KH][KW][OC].
IG_GLOBAL void IG_LAUNCH_BOUNDS(ELEM_THREADS, 4)
    ig_depthwise(const signed char* x, const signed char* w, const int* bias, const int* mult,
                 const int* shift, void* out, long long total, long long H, long long W, long long C,
                 long long OH, long long OW, long long OC, long long KH, long long KW, long long dm,
                 long long sh, long long sw, long long dh, long long dw, long long padT,
                 long long padL, long long zx, long long zy, long long qmin, long long qmax,
                 long long osize) {
  for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < (int)total;
       idx += gridDim.x * blockDim.x) {
    const int c = idx % (int)OC;
    int t = idx / (int)OC;
    const int ox = t % (int)OW;
    t /= (int)OW;
    const int oy = t % (int)OH, b = t / (int)OH;
    const int ic = c / (int)dm;
    int acc = bias[c];
    for (int ky = 0; ky < (int)KH; ky++) {
      const int iy = oy * (int)sh - (int)padT + ky * (int)dh;
      if (iy < 0 || iy >= (int)H) continue;
      for (int kx = 0; kx < (int)KW; kx++) {
        const int ix = ox * (int)sw - (int)padL + kx * (int)dw;
        if (ix < 0 || ix >= (int)W) continue;
        const int xv = x[((b * (int)H + iy) * (int)W + ix) * (int)C + ic];
        acc += (xv - (int)zx) * (int)w[(ky * (int)KW + kx) * (int)OC + c];
      }
    }
    requant_store(out, idx, osize, acc, mult[c], shift[c], zy, qmin, qmax);
  }
}
