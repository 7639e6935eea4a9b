// Helpers for the GPU tests: a device buffer that owns its memory, random inputs,
// NaN poisoning, and a tolerance check of the form atol + rtol * |ref|.
//
// Everything goes through kn::cuda's runtime (malloc, copy_*), so the copies are on
// kernelnet's stream and ordered with the ops under test. Code that launches its own
// work on kernelnet memory (cuBLAS) must use that stream: see test_stream().
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

#include <kernelnet/cuda/runtime.hpp>

namespace kn::test {

// KN_TEST_SHARD=i/n splits a test's long loop across n processes: item k of the loop runs
// in the process whose i is k % n. Unset, every item runs. scripts/gpu-racecheck sets it
// to spread the slowest tests over the GPU machine's cores under racecheck, which is
// tens of times slower than a plain run; the items and their inputs do not change.
inline bool in_shard(std::size_t k) {
  const char* env = std::getenv("KN_TEST_SHARD");
  if (!env || !*env) return true;
  unsigned long i = 0, n = 0;
  char slash = 0, extra = 0;
  std::istringstream in(env);
  if (!(in >> i >> slash >> n) || slash != '/' || n == 0 || i >= n || (in >> extra))
    throw std::invalid_argument(std::string("KN_TEST_SHARD='") + env + "': expected i/n with 0 <= i < n, e.g. 2/8");
  return k % n == i;
}

// KN_TEST_RACECHECK=1 (scripts/gpu-racecheck sets it): the GEMM tests' loops leave out the
// products of more than 2^22 multiply-adds (257 x 255 x 513 and the like). Racecheck
// checks the order of shared-memory accesses inside a block; a bigger product runs more
// iterations of the same tile code, with the same barriers, not new orderings, and the
// smaller odd shapes (127 x 129 x 65: ragged in every dimension, several tiles of K)
// reach every edge path. 257 x 255 x 513 alone is about 90% of the odd-shape test's
// multiply-adds, and under racecheck that test took ~250 s on an H200
// (docs/results/2026-11-27-h200-b.md). Every other run keeps them.
inline bool skip_under_racecheck(double multiply_adds) {
  const char* env = std::getenv("KN_TEST_RACECHECK");
  return env && std::string(env) == "1" && multiply_adds > double(1 << 22);
}

// kernelnet's stream on `device`, for cublasSetStream and the like.
inline cudaStream_t test_stream(int device = 0) { return static_cast<cudaStream_t>(kn::cuda::stream(device)); }

// What a buffer is filled with before an op writes it, so that an element the op
// forgot to write shows up: NaN for floating point, the most negative value for integers.
template <typename T>
T poison_value() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::quiet_NaN();
  else return std::numeric_limits<T>::min();
}

// n elements of T on a device. Moves, never copies (a copy would be a hidden
// allocation and transfer).
template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t n, int device = 0)
      : n_(n), device_(device), ptr_(static_cast<T*>(kn::cuda::malloc(n * sizeof(T), device))) {}
  explicit DeviceArray(const std::vector<T>& host, int device = 0) : DeviceArray(host.size(), device) {
    upload(host);
  }
  ~DeviceArray() { kn::cuda::free(ptr_, device_); }
  DeviceArray(DeviceArray&& o) noexcept
      : n_(std::exchange(o.n_, 0)), device_(o.device_), ptr_(std::exchange(o.ptr_, nullptr)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    std::swap(n_, o.n_);
    std::swap(device_, o.device_);
    std::swap(ptr_, o.ptr_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }
  int device() const { return device_; }

  void upload(const std::vector<T>& host) {
    REQUIRE(host.size() == n_);
    kn::cuda::copy_to_device(ptr_, host.data(), bytes(), device_);
  }
  // Waits for the device (copy_to_host synchronises).
  std::vector<T> download() const {
    std::vector<T> host(n_);
    kn::cuda::copy_to_host(host.data(), ptr_, bytes(), device_);
    return host;
  }
  // Elements [first, first + count) only: for buffers too big to bring back whole.
  std::vector<T> download(std::size_t first, std::size_t count) const {
    REQUIRE(first + count <= n_);
    std::vector<T> host(count);
    kn::cuda::copy_to_host(host.data(), ptr_ + first, count * sizeof(T), device_);
    return host;
  }
  void poison() { upload(std::vector<T>(n_, poison_value<T>())); }

 private:
  std::size_t n_ = 0;
  int device_ = 0;
  T* ptr_ = nullptr;
};

// Uniform floats in [lo, hi), reproducible from the seed.
inline std::vector<float> random_floats(std::size_t n, std::uint64_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Uniform integers in [lo, hi], reproducible from the seed.
inline std::vector<int64_t> random_ints(std::size_t n, std::uint64_t seed, int64_t lo, int64_t hi) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> dist(lo, hi);
  std::vector<int64_t> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Counts elements with |got - ref| > atol + rtol * |ref| (NaN in either one counts,
// unless both are NaN) and describes the first few.
struct Mismatch {
  std::size_t count = 0;
  std::string report;
};
inline Mismatch compare(const std::vector<float>& got, const std::vector<float>& ref, double atol,
                        double rtol) {
  Mismatch m;
  std::ostringstream os;
  if (got.size() != ref.size()) {
    m.count = 1;
    m.report = "size " + std::to_string(got.size()) + " != " + std::to_string(ref.size());
    return m;
  }
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], r = ref[i];
    if (std::isnan(g) && std::isnan(r)) continue;
    const double err = std::abs(g - r), tol = atol + rtol * std::abs(r);
    if (!(err <= tol)) {
      if (m.count < 5) os << "  [" << i << "] got " << g << ", want " << r << " (tol " << tol << ")\n";
      ++m.count;
    }
    if (err > worst) worst = err;
  }
  os << "  " << m.count << " of " << got.size() << " elements off; largest error " << worst;
  m.report = os.str();
  return m;
}

}  // namespace kn::test

// CHECK that got matches ref within atol + rtol * |ref|, saying where it does not.
#define KN_CHECK_CLOSE(got, ref, atol, rtol)                           \
  do {                                                                 \
    const auto kn_m_ = ::kn::test::compare((got), (ref), (atol), (rtol)); \
    INFO(#got " vs " #ref ":\n" << kn_m_.report);                      \
    CHECK(kn_m_.count == 0);                                           \
  } while (0)
