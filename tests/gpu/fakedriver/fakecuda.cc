// fakecuda.cc: a stand-in for the CUDA driver (libcuda.so.1) that runs
// infergeth's kernels in the CPU emulator (inference/cuda/emu.cc), so that
// the `cuda` build itself — gorgonia.org/cu's calls, inference/cuda/cu.go,
// the kernel parameters as cuLaunchKernel receives them, runtime's
// gpu_cuda.go, the CLI — runs on a machine without a GPU
// (tests/gpu/fake-run.sh). It implements the calls that build makes, as one
// device of compute capability 9.0; it does not read the PTX (the module's
// functions are the emulator's kernels, by name). Test-only: never part of
// a build that ships.
//
// FAKECUDA_MEMORY sets the device's memory in bytes (default 1 GiB);
// FAKECUDA_DEVICES the number of devices (default 1; 0 = none, as on a
// machine whose driver sees no GPU).
#include <cuda.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "../../../inference/cuda/emu.cc"

namespace {

std::mutex mu;
std::map<CUdeviceptr, size_t> allocs;
size_t used;

size_t envSize(const char* name, size_t def) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : def;
}

size_t capacity() { return envSize("FAKECUDA_MEMORY", size_t(1) << 30); }

// The kernels in kernels/infergeth.cu, in the emulator's numbering, and
// their parameter counts (all 8 bytes wide).
struct kernel {
  const char* name;
  int params;
};
const kernel kernels[] = {{"ig_gemm_imma", 20}, {"ig_gemm_dp4a", 20}, {"ig_im2col", 19}, {"ig_depthwise", 27}};

int ctxDummy, modDummy;

}  // namespace

extern "C" {

CUresult cuInit(unsigned int) { return CUDA_SUCCESS; }

CUresult cuDriverGetVersion(int* v) {
  *v = CUDA_VERSION;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int* n) {
  *n = (int)envSize("FAKECUDA_DEVICES", 1);
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice* d, int ordinal) {
  if (ordinal < 0 || ordinal >= (int)envSize("FAKECUDA_DEVICES", 1)) return CUDA_ERROR_INVALID_DEVICE;
  *d = ordinal;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice) {
  std::strncpy(name, "fakecuda (CPU emulator)", len);
  if (len > 0) name[len - 1] = 0;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice) {
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 1; break;
    default: *v = 0;
  }
  return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem(size_t* b, CUdevice) {
  *b = capacity();
  return CUDA_SUCCESS;
}

CUresult cuCtxCreate(CUcontext* c, unsigned int, CUdevice) {
  *c = (CUcontext)&ctxDummy;
  return CUDA_SUCCESS;
}

CUresult cuCtxDestroy(CUcontext) { return CUDA_SUCCESS; }
CUresult cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }

CUresult cuModuleLoadDataEx(CUmodule* m, const void* image, unsigned int, CUjit_option*, void**) {
  if (!image || std::strstr((const char*)image, ".entry ig_gemm_imma") == nullptr) return CUDA_ERROR_INVALID_IMAGE;
  *m = (CUmodule)&modDummy;
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadData(CUmodule* m, const void* image) { return cuModuleLoadDataEx(m, image, 0, nullptr, nullptr); }

CUresult cuModuleUnload(CUmodule) { return CUDA_SUCCESS; }

CUresult cuModuleGetFunction(CUfunction* f, CUmodule, const char* name) {
  for (int i = 0; i < 4; i++)
    if (std::strcmp(kernels[i].name, name) == 0) {
      *f = (CUfunction)(uintptr_t)(i + 1);
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult cuMemGetInfo(size_t* free, size_t* total) {
  std::lock_guard<std::mutex> l(mu);
  *total = capacity();
  *free = *total - used;
  return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr* p, size_t n) {
  std::lock_guard<std::mutex> l(mu);
  size_t size = (n + 255) / 256 * 256;
  if (size == 0 || used + size > capacity()) return CUDA_ERROR_OUT_OF_MEMORY;
  void* m = std::aligned_alloc(256, size);
  if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
  std::memset(m, 0xA5, size);  // device memory starts as junk
  *p = (CUdeviceptr)(uintptr_t)m;
  allocs[*p] = size;
  used += size;
  return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr p) {
  std::lock_guard<std::mutex> l(mu);
  auto it = allocs.find(p);
  if (it == allocs.end()) return CUDA_ERROR_INVALID_VALUE;
  used -= it->second;
  allocs.erase(it);
  std::free((void*)(uintptr_t)p);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void* src, size_t n) {
  std::memcpy((void*)(uintptr_t)dst, src, n);
  return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, size_t n) {
  std::memcpy(dst, (const void*)(uintptr_t)src, n);
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, CUstream, void** params, void** extra) {
  const uintptr_t k = (uintptr_t)f;
  if (k < 1 || k > 4 || shared != 0 || extra != nullptr || params == nullptr) return CUDA_ERROR_INVALID_VALUE;
  uint64_t args[32];
  for (int i = 0; i < kernels[k - 1].params; i++) std::memcpy(&args[i], params[i], 8);
  if (ig_emu_launch((int)k - 1, gx, gy, gz, bx, by, bz, args, 0) != 0) return CUDA_ERROR_LAUNCH_FAILED;
  return CUDA_SUCCESS;
}

}  // extern "C"
