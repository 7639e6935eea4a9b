// The emulated device 0 behind the harness: device memory (host memory the harness
// tracks), the part of the CUDA runtime API that kernels/ calls, kernelnet's runtime
// (what kernels/runtime.cu is on a GPU: kn::cuda::malloc, the copies, the launch check),
// and kn_emu::run, which runs one launch in several orders and compares what they leave.
// Everything is synchronous: a launch has finished when it returns.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <kernelnet/cuda/runtime.hpp>
#include <kernelnet/error.hpp>

#include "common.cuh"
#include "internal.hpp"

namespace kn_emu {
namespace {

// ---- Device memory ------------------------------------------------------------------
struct Allocation {
  std::size_t bytes;
  std::int64_t id;  // the how-manieth allocation of the process: names it in reports
};
std::map<const char*, Allocation>& allocations() {
  static auto* a = new std::map<const char*, Allocation>;
  return *a;
}
std::int64_t g_next_id = 1;
constexpr std::size_t kAlign = 256;  // as cudaMalloc

// The allocation holding [p, p + bytes), or null.
const std::pair<const char* const, Allocation>* find(const void* p, std::size_t bytes) {
  auto& all = allocations();
  auto it = all.upper_bound(static_cast<const char*>(p));
  if (it == all.begin()) return nullptr;
  --it;
  const char* c = static_cast<const char*>(p);
  return c >= it->first && c + bytes <= it->first + it->second.bytes ? &*it : nullptr;
}

void check_range(const void* p, std::size_t bytes, const char* who) {
  if (bytes && !find(p, bytes))
    throw kn::Error(kn::str(who, ": [", p, ", +", bytes, ") is not inside one allocation of the emulated device"));
}

// ---- Launch errors, as CUDA keeps them ------------------------------------------------
thread_local cudaError_t g_last_error = cudaSuccess;
thread_local std::string g_last_message;
int g_current_device = 0;
std::map<const void*, int>& max_dynamic_shared() {
  static auto* m = new std::map<const void*, int>;
  return *m;
}
std::vector<std::string> g_launched;

cudaError_t set_error(cudaError_t err, const std::string& message) {
  g_last_error = err;
  g_last_message = message;
  return err;
}

std::string describe(int order, std::uint64_t seed) {
  if (order == 1) return "reverse";
  return "shuffled (seed " + std::to_string(seed) + ", run " + std::to_string(order) + ")";
}

using Snapshot = std::vector<std::pair<const char*, std::vector<char>>>;
Snapshot snapshot() {
  Snapshot s;
  for (const auto& [p, a] : allocations()) s.emplace_back(p, std::vector<char>(p, p + a.bytes));
  return s;
}
void restore(const Snapshot& s) {
  for (const auto& [p, bytes] : s) std::memcpy(const_cast<char*>(p), bytes.data(), bytes.size());
}

std::string word(const char* p) {
  std::uint32_t u;
  float f;
  std::memcpy(&u, p, 4);
  std::memcpy(&f, p, 4);
  char buf[64];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32 " (%g as a float)", u, double(f));
  return buf;
}

// Empty when every allocation holds what the first (forward) run left; else the first difference.
std::string first_difference(const Snapshot& forward, int order, std::uint64_t seed) {
  for (const auto& [p, ref] : forward) {
    const std::size_t n = ref.size();
    std::size_t i = 0;
    while (i < n && p[i] == ref[i]) ++i;
    if (i == n) continue;
    const Allocation& a = allocations().at(p);
    const std::size_t w = i / 4 * 4;
    std::ostringstream os;
    os << "race: the launch left different memory when its blocks and threads ran in " << describe(order, seed)
       << " order than in forward order. First difference: device allocation #" << a.id
       << " (" << a.bytes << " bytes at " << static_cast<const void*>(p) << "), byte " << i;
    if (w + 4 <= n)
      os << ", 4-byte element " << w / 4 << ": " << word(ref.data() + w) << " in forward order, " << word(p + w)
         << " in " << describe(order, seed) << " order";
    os << ". Two threads write one place, or one reads a place another writes, without a barrier between "
          "them (or a thread reads shared memory no thread wrote)";
    return os.str();
  }
  return {};
}

}  // namespace

Options& options() {
  static Options* o = [] {
    auto* opts = new Options;
    if (const char* e = std::getenv("KN_EMU_ORDERS")) opts->orders = std::atoi(e) > 0 ? std::atoi(e) : 1;
    if (const char* e = std::getenv("KN_EMU_SEED")) opts->seed = std::strtoull(e, nullptr, 10);
    return opts;
  }();
  return *o;
}

Counters counters() { return mutable_counters(); }
std::vector<std::string> launched() { return g_launched; }
void reset() {
  mutable_counters() = Counters{};
  g_launched.clear();
}
std::size_t device_bytes() {
  std::size_t total = 0;
  for (const auto& [p, a] : allocations()) total += a.bytes;
  return total;
}

long long clock() {
  // A 2 GHz clock, as on a GPU: the trace's gate kernel counts cycles with it.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
             .count() *
         2;
}

cudaError_t set_max_dynamic_shared(const void* kernel, int bytes) {
  if (bytes < 0 || std::size_t(bytes) > kMaxSharedPerBlock)
    return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: " + std::to_string(bytes) +
                                                " bytes of dynamic shared memory is past the device's " +
                                                std::to_string(kMaxSharedPerBlock));
  max_dynamic_shared()[kernel] = bytes;
  return cudaSuccess;
}

void run(const Config& c, ThreadBody body, void* closure) {
  const std::uint64_t threads = std::uint64_t(c.block.x) * c.block.y * c.block.z;
  if (c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 || c.grid.y > 65535 || c.grid.z > 65535 || threads == 0 ||
      threads > 1024 || c.block.z > 64) {
    set_error(cudaErrorInvalidConfiguration,
              kn::str("invalid configuration: grid (", c.grid.x, ",", c.grid.y, ",", c.grid.z, "), block (", c.block.x,
                      ",", c.block.y, ",", c.block.z, "): a block has 1 to 1024 threads, z at most 64; grid y and z "
                      "at most 65535"));
    return;
  }
  auto limit = max_dynamic_shared().find(c.kernel);
  const std::size_t allowed = limit == max_dynamic_shared().end() ? kDefaultSharedPerBlock : std::size_t(limit->second);
  if (c.shared_bytes > allowed) {
    set_error(cudaErrorInvalidValue,
              kn::str("the launch asks for ", c.shared_bytes, " bytes of dynamic shared memory; the kernel may have ",
                      allowed, limit == max_dynamic_shared().end()
                                   ? " (past 48 KiB it must ask with cudaFuncSetAttribute(kernel, "
                                     "cudaFuncAttributeMaxDynamicSharedMemorySize, bytes))"
                                   : " (what cudaFuncSetAttribute set)"));
    return;
  }
  ++mutable_counters().launches;
  const int orders = options().orders;
  const std::uint64_t seed = options().seed;
  try {
    const Snapshot before = orders > 1 ? snapshot() : Snapshot{};
    run_grid(c, body, closure, 0, seed);
    if (orders > 1) {
      const Snapshot first = snapshot();
      for (int order = 1; order < orders; ++order) {
        restore(before);
        run_grid(c, body, closure, order, seed);
        const std::string diff = first_difference(first, order, seed);
        if (!diff.empty()) throw Failure(diff);
      }
    }
  } catch (const Failure& f) {
    set_error(cudaErrorLaunchFailure, f.what());
  }
}

}  // namespace kn_emu

// ---- The CUDA runtime API ---------------------------------------------------------------
using kn_emu::set_error;

cudaError_t cudaGetDevice(int* device) {
  *device = kn_emu::g_current_device;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice, "the emulator has one device, 0");
  kn_emu::g_current_device = device;
  return cudaSuccess;
}
cudaError_t cudaGetLastError() { return std::exchange(kn_emu::g_last_error, cudaSuccess); }
cudaError_t cudaPeekAtLastError() { return kn_emu::g_last_error; }
const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}
// The message of the last failure: what the harness found, in words.
const char* cudaGetErrorString(cudaError_t err) {
  return err == cudaSuccess ? "no error" : kn_emu::g_last_message.c_str();
}
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice, "the emulator has one device, 0");
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = int(kn_emu::kDefaultSharedPerBlock); break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMultiProcessorCount: *value = kn_emu::options().sm_count; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = kn_emu::kThreadsPerSm; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = int(kn_emu::kMaxSharedPerBlock); break;
    default: return set_error(cudaErrorInvalidValue, "an attribute the emulator does not know");
  }
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, std::size_t bytes, cudaStream_t) {
  if (bytes && !kn_emu::find(p, bytes)) return set_error(cudaErrorInvalidValue, "cudaMemsetAsync outside device memory");
  std::memset(p, value, bytes);
  return cudaSuccess;
}
// Events and host allocations are kept for the process (the trace never frees its
// own), in a list that keeps them reachable for LeakSanitizer.
struct CUevent_st {};
namespace {
std::vector<void*>& kept() {
  static auto* k = new std::vector<void*>;
  return *k;
}
}  // namespace
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st;
  kept().push_back(*event);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) {
  *ms = 0.0f;
  return cudaSuccess;
}
cudaError_t cudaHostAlloc(void** p, std::size_t bytes, unsigned) {
  *p = std::calloc(1, bytes);
  if (!*p) return cudaErrorMemoryAllocation;
  kept().push_back(*p);
  return cudaSuccess;
}
cudaError_t cudaHostGetDevicePointer(void** device, void* host, unsigned) {
  *device = host;
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t, cudaStreamCaptureStatus* status) {
  *status = cudaStreamCaptureStatusNone;
  return cudaSuccess;
}
namespace {
cudaError_t no_graphs() { return set_error(cudaErrorNotSupported, "the emulator does not capture CUDA graphs"); }
}  // namespace
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) { return no_graphs(); }
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t*) { return no_graphs(); }
cudaError_t cudaGraphGetNodes(cudaGraph_t, void*, std::size_t*) { return no_graphs(); }
cudaError_t cudaGraphInstantiate(cudaGraphExec_t*, cudaGraph_t, unsigned long long) { return no_graphs(); }
cudaError_t cudaGraphDestroy(cudaGraph_t) { return cudaSuccess; }
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t) { return cudaSuccess; }
cudaError_t cudaGraphLaunch(cudaGraphExec_t, cudaStream_t) { return no_graphs(); }

// ---- kernelnet's runtime (kernels/runtime.cu on a GPU) -----------------------------------
namespace kn::cuda {
namespace {
struct CUstream_st* const kStream = reinterpret_cast<CUstream_st*>(0x5743);  // never dereferenced
kn::Stats g_stats;

void check_device(int device, const char* who) {
  if (device != 0)
    throw Error(str(who, ": device ", device, " does not exist (the emulator has device 0 only)"));
}
}  // namespace

bool is_available() { return true; }
std::string unavailable_reason() { return {}; }
int device_count() { return 1; }
void set_device(int device) { check_device(device, "kn::cuda::set_device"); }

void* malloc(std::size_t bytes, int device) {
  check_device(device, "kn::cuda::malloc");
  if (bytes == 0) return nullptr;
  // Exactly `bytes`, 256-byte aligned: AddressSanitizer reports a kernel's access past the end.
  auto* p = static_cast<char*>(::operator new(bytes, std::align_val_t(kn_emu::kAlign)));
  kn_emu::allocations()[p] = kn_emu::Allocation{bytes, kn_emu::g_next_id++};
  return p;
}

void free(void* ptr, int) noexcept {
  if (!ptr) return;
  auto& all = kn_emu::allocations();
  auto it = all.find(static_cast<const char*>(ptr));
  if (it == all.end()) {
    std::fprintf(stderr, "kn_emu: kn::cuda::free(%p): not an allocation of the emulated device\n", ptr);
    std::abort();
  }
  all.erase(it);
  ::operator delete(ptr, std::align_val_t(kn_emu::kAlign));
}

void copy_to_device(void* dst, const void* src, std::size_t bytes, int device) {
  check_device(device, "kn::cuda::copy_to_device");
  kn_emu::check_range(dst, bytes, "kn::cuda::copy_to_device");
  if (bytes) std::memcpy(dst, src, bytes);
  ++g_stats.h2d_copies;
  g_stats.h2d_bytes += int64_t(bytes);
}
void copy_to_host(void* dst, const void* src, std::size_t bytes, int device) {
  check_device(device, "kn::cuda::copy_to_host");
  kn_emu::check_range(src, bytes, "kn::cuda::copy_to_host");
  if (bytes) std::memcpy(dst, src, bytes);
  ++g_stats.d2h_copies;
  g_stats.d2h_bytes += int64_t(bytes);
  ++g_stats.syncs;
}
void copy_on_device(void* dst, const void* src, std::size_t bytes, int device) {
  check_device(device, "kn::cuda::copy_on_device");
  kn_emu::check_range(dst, bytes, "kn::cuda::copy_on_device");
  kn_emu::check_range(src, bytes, "kn::cuda::copy_on_device");
  if (bytes) std::memmove(dst, src, bytes);
  ++g_stats.d2d_copies;
  g_stats.d2d_bytes += int64_t(bytes);
}
void synchronize(int device) { check_device(device, "kn::cuda::synchronize"); }
void* stream(int device) {
  check_device(device, "kn::cuda::stream");
  return kStream;
}
Stats stats(int device) {
  check_device(device, "kn::cuda::stats");
  return g_stats;
}
void reset_stats(int device) {
  check_device(device, "kn::cuda::reset_stats");
  g_stats = Stats{};
}

namespace detail {

cudaStream_t stream(int device) {
  check_device(device, "kn::cuda::detail::stream");
  return kStream;
}
int sm_count(int device) {
  check_device(device, "kn::cuda::detail::sm_count");
  return kn_emu::options().sm_count;
}
int resident_blocks(int device, int threads) {
  const int per_sm = kn_emu::kThreadsPerSm / threads;
  return sm_count(device) * (per_sm > 0 ? per_sm : 1);
}
// As kernels/runtime.cu's: the launch's error, with the kernel's name and where it was
// launched; here the error is what the harness found.
void after_launch(const KernelSite& site, int device, dim3 grid, dim3 block) {
  note_kernel(site.name);
  kn_emu::g_launched.emplace_back(site.name);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(str("CUDA kernel ", site.name, " <<<(", grid.x, ",", grid.y, ",", grid.z, "), (", block.x, ",",
                    block.y, ",", block.z, ")>>> on device ", device, " failed at ", site.file, ":", site.line, ": ",
                    cudaGetErrorName(err), " (", cudaGetErrorString(err), ")"));
  ++g_stats.launches;
}
void set_capturing(int, bool) {}
void count_launch(int) { ++g_stats.launches; }

}  // namespace detail
}  // namespace kn::cuda
