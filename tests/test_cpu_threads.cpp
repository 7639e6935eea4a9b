// The CPU backend's caching host allocator (cpu/host_allocator.hpp) and its threads
// (cpu/threads.hpp, the split GEMMs of ops/gemm.hpp): blocks reused by size, aligned,
// never handed out twice, released on request; threaded GEMMs equal to one thread's bit
// for bit; kn::set_num_threads checked.
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <kernelnet/cpu/host_allocator.hpp>
#include <kernelnet/cpu/threads.hpp>
#include <kernelnet/ops/gemm.hpp>

#include "iris_train.hpp"
#include "test_util.hpp"

namespace {

using kn::test::uniform_floats;

using kn::Transpose;

// Restores the thread count and the cache limit a test changes.
struct Restore {
  int threads = kn::get_num_threads();
  std::size_t limit = kn::cpu::host_cache_limit();
  ~Restore() {
    kn::set_num_threads(threads);
    kn::cpu::set_host_cache_limit(limit);
  }
};

bool cache_on() { return kn::cpu::host_cache_stats().enabled; }

}  // namespace

TEST_CASE("host cache: a freed block comes back for the next tensor of its size", "[host_cache]") {
  if (!cache_on()) SUCCEED("AddressSanitizer build: the cache is bypassed");
  const void* first = nullptr;
  {
    kn::Tensor t = kn::Tensor::empty({1000, 37});
    first = t.raw();
  }
  kn::cpu::reset_host_cache_stats();
  kn::Tensor again = kn::Tensor::empty({37, 1000});  // the same bytes, another shape
  const auto s = kn::cpu::host_cache_stats();
  if (cache_on()) {
    CHECK(again.raw() == first);
    CHECK(s.hits == 1);
    CHECK(s.misses == 0);
  } else {
    CHECK(s.hits == 0);
  }
}

TEST_CASE("host cache: every block is 64-byte aligned, and no block is handed out twice while live",
          "[host_cache]") {
  std::vector<kn::Tensor> live;
  std::set<const void*> seen;
  for (int round = 0; round < 3; ++round) {
    for (int64_t n : {1, 3, 15, 16, 17, 100, 1000, 1025, 4096, 70000, 1 << 20})
      for (int copy = 0; copy < 4; ++copy) {
        kn::Tensor t = kn::Tensor::empty({n});
        CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
        CHECK(seen.insert(t.raw()).second);  // distinct from every live block
        live.push_back(t);
      }
    // Free every other one, so the next round draws on the cache while half are live.
    std::vector<kn::Tensor> keep;
    for (std::size_t i = 0; i < live.size(); ++i)
      if (i % 2) keep.push_back(live[i]);
      else seen.erase(live[i].raw());
    live = keep;
  }
}

TEST_CASE("host cache: threads allocating and freeing at once never share a block", "[host_cache]") {
  std::atomic<bool> clash{false};
  auto worker = [&](unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<kn::Tensor> mine;
    for (int i = 0; i < 2000; ++i) {
      kn::Tensor t = kn::Tensor::empty({int64_t(1 + rng() % 3000)});
      auto* p = t.data<float>();
      const float tag = float(seed * 100000 + i);
      p[0] = tag;
      p[t.numel() - 1] = tag;
      mine.push_back(t);
      if (mine.size() > 8) {
        kn::Tensor& old = mine[rng() % mine.size()];
        const float want = old.data<float>()[0];
        if (old.data<float>()[old.numel() - 1] != want) clash = true;
        std::swap(old, mine.back());
        mine.pop_back();
      }
    }
    for (auto& t : mine)
      if (t.data<float>()[0] != t.data<float>()[t.numel() - 1]) clash = true;
  };
  std::thread a(worker, 1u), b(worker, 2u);
  worker(3u);
  a.join();
  b.join();
  CHECK_FALSE(clash);
}

TEST_CASE("host cache: empty_cache releases every cached block; the limit bounds what is kept", "[host_cache]") {
  Restore restore;
  { kn::Tensor t = kn::Tensor::empty({4096}); }
  if (cache_on()) CHECK(kn::cpu::host_cache_stats().cached_bytes > 0);
  kn::cpu::empty_cache();
  auto s = kn::cpu::host_cache_stats();
  CHECK(s.cached_bytes == 0);
  CHECK(s.cached_blocks == 0);
  kn::cpu::reset_host_cache_stats();
  { kn::Tensor t = kn::Tensor::empty({4096}); }
  CHECK(kn::cpu::host_cache_stats().misses == (cache_on() ? 1 : 0));

  // A limit of 1 MiB: a 4 MiB block is not kept, a 64 KiB one is.
  kn::cpu::set_host_cache_limit(std::size_t(1) << 20);
  CHECK(kn::cpu::host_cache_stats().cached_bytes <= (int64_t(1) << 20));
  kn::cpu::empty_cache();
  { kn::Tensor big = kn::Tensor::empty({int64_t(1) << 20}); }
  CHECK(kn::cpu::host_cache_stats().cached_bytes == 0);
  { kn::Tensor small = kn::Tensor::empty({int64_t(1) << 14}); }
  CHECK(kn::cpu::host_cache_stats().cached_bytes == (cache_on() ? int64_t(1) << 16 : 0));
  kn::cpu::empty_cache();
}

TEST_CASE("host cache: a training loop allocates nothing once its sizes repeat", "[host_cache]") {
  if (!cache_on()) return;
  kn::manual_seed(0);
  kn::iris::MLP model(4, 64, 3);
  const kn::Tensor X = kn::rand({500, 4}, 0.05, 1.0);
  kn::Tensor y = kn::Tensor::empty({500}, kn::Dtype::Int64);
  for (int64_t i = 0; i < 500; ++i) y.data<int64_t>()[i] = i % 3;
  kn::CrossEntropyLoss criterion;
  kn::optim::SGD optimizer(model.parameters(), 0.01f);
  auto epoch = [&] {
    kn::Tensor loss = criterion(model(X), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  };
  for (int i = 0; i < 3; ++i) epoch();
  kn::cpu::reset_host_cache_stats();
  for (int i = 0; i < 20; ++i) epoch();
  const auto s = kn::cpu::host_cache_stats();
  CHECK(s.misses == 0);
  CHECK(s.hits >= 20 * 5);  // activations and gradients: 9 a step here
}

TEST_CASE("set_num_threads: counts from 1 to 1024; anything else is an error that says so", "[threads]") {
  Restore restore;
  CHECK(kn::get_num_threads() >= 1);
  kn::set_num_threads(3);
  CHECK(kn::get_num_threads() == 3);
  CHECK_THROWS_WITH(kn::set_num_threads(0), Catch::Contains("set_num_threads: 0 threads: must be in [1, 1024]"));
  CHECK_THROWS_AS(kn::set_num_threads(-2), kn::Error);
  CHECK_THROWS_AS(kn::set_num_threads(1025), kn::Error);
  CHECK(kn::get_num_threads() == 3);
}

TEST_CASE("parallel_for runs every task once, on several threads, and passes an exception on", "[threads]") {
  Restore restore;
  kn::set_num_threads(4);
  for (int tasks : {1, 2, 7, 100}) {
    std::vector<std::atomic<int>> runs(tasks);
    kn::cpu::parallel_for(tasks, [&](int t) { runs[t]++; });
    for (int t = 0; t < tasks; ++t) CHECK(runs[t] == 1);
  }
  CHECK_THROWS_WITH(kn::cpu::parallel_for(8, [](int t) { if (t == 5) throw std::runtime_error("task 5"); }),
                    "task 5");
  int count = 0;  // still usable afterwards
  kn::cpu::parallel_for(3, [&](int) { ++count; });
  CHECK(count == 3);
}

TEST_CASE("threaded GEMM: every thread count gives one thread's result, bit for bit", "[threads][gemm]") {
  Restore restore;
  struct Case {
    int M, N, K;
    Transpose ta, tb;
  };
  // Odd sizes above the threshold: split by rows (A not transposed; narrow and Eigen
  // outputs, last block with a ragged tail) and by chunks of K (A transposed, K >= 16384).
  const Case cases[] = {
      {10007, 3, 67, Transpose::No, Transpose::Yes},   {9973, 10, 4, Transpose::No, Transpose::Yes},
      {5011, 517, 5, Transpose::No, Transpose::Yes},   {4099, 301, 3, Transpose::No, Transpose::No},
      {1201, 257, 129, Transpose::No, Transpose::No},  {3001, 16, 97, Transpose::No, Transpose::No},
      {10, 4, 40009, Transpose::Yes, Transpose::No},   {3, 65, 20011, Transpose::Yes, Transpose::No},
      {129, 5, 16411, Transpose::Yes, Transpose::No},  {1100, 21, 777, Transpose::Yes, Transpose::Yes},
  };
  for (const Case& c : cases)
    for (float beta : {0.0f, 0.5f}) {
      INFO(c.M << "x" << c.N << "x" << c.K << (c.ta == Transpose::Yes ? " A^T" : " A")
                << (c.tb == Transpose::Yes ? " B^T" : " B") << " beta " << beta);
      const auto a = uniform_floats(std::size_t(c.M) * c.K, -1.0f, 1.0f, 1);
      const auto b = uniform_floats(std::size_t(c.K) * c.N, -1.0f, 1.0f, 2);
      std::vector<float> c0 = uniform_floats(std::size_t(c.M) * c.N, -1.0f, 1.0f, 3);
      if (beta == 0.0f) c0.assign(c0.size(), std::numeric_limits<float>::quiet_NaN());  // must not be read
      std::vector<float> one = c0;
      kn::set_num_threads(1);
      kn::cpu::gemm(one.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta, c.tb, 0.75f, beta);
      if (c.ta == Transpose::No) {  // split by rows: exactly the unsplit product
        std::vector<float> plain = c0;
        kn::cpu::detail::gemm_one_thread(plain.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta, c.tb, 0.75f, beta);
        CHECK(std::memcmp(plain.data(), one.data(), one.size() * sizeof(float)) == 0);
      }
      std::vector<float> ref = c0;  // and near Eigen's product
      kn::cpu::gemm_eigen(ref.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta, c.tb, 0.75f, beta);
      double worst = 0;
      for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, double(std::fabs(ref[i] - one[i])));
      CHECK(worst < 1e-5 * std::sqrt(double(c.K)) * 4);
      for (int threads : {2, 3, 4, 7}) {
        kn::set_num_threads(threads);
        std::vector<float> got = c0;
        kn::cpu::gemm(got.data(), a.data(), b.data(), c.M, c.N, c.K, c.ta, c.tb, 0.75f, beta);
        INFO("threads " << threads);
        CHECK(std::memcmp(got.data(), one.data(), one.size() * sizeof(float)) == 0);
      }
    }
}

TEST_CASE("threads: an Iris run trains to the same losses on 1 and 2 threads", "[threads]") {
  Restore restore;
  auto run = [](int threads) {
    kn::iris::Config cfg;
    cfg.epochs = 200;
    cfg.threads = threads;
    kn::manual_seed(0);
    kn::iris::MLP model(4, 10, 3);
    return kn::iris::train(cfg, model).losses;
  };
  const auto one = run(1), two = run(2);
  REQUIRE(one.size() == 200);
  CHECK(one == two);
  CHECK(kn::get_num_threads() == 2);
}
