// The CPU backend's threads: kn::set_num_threads(n) / kn::get_num_threads(), as
// torch.set_num_threads, and the pool that big GEMMs split their work over
// (<kernelnet/ops/gemm.hpp>; docs/cpu-scaling.md says why this pool and not Eigen's
// OpenMP threading, and how the size threshold was measured).
//
// The default is every hardware thread, but only work above a size threshold is split:
// an Iris-sized op runs on the calling thread alone, where waking a thread would cost
// more than the op. The calling thread always takes part. Workers start on first use
// and then wait on a condition variable (after a short spin, so that the next GEMM of
// the same step finds them awake). One parallel region runs at a time: a second caller
// (another thread, or a task that itself calls a GEMM) runs its tasks alone, which gives
// the same results, because how work is split never depends on who runs it.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <kernelnet/error.hpp>

namespace kn {

namespace cpu::detail {

inline std::atomic<int>& num_threads_setting() {
  static std::atomic<int> n{int(std::max(1u, std::thread::hardware_concurrency()))};
  return n;
}

class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  // Runs fn(t) for every t in [0, tasks), on the calling thread and up to threads - 1
  // workers. Returns when all are done; rethrows the first exception a task threw.
  void run(int threads, int tasks, const std::function<void(int)>& fn) {
    threads = std::min(threads, tasks);
    std::unique_lock<std::mutex> region(region_, std::try_to_lock);
    if (threads <= 1 || !region.owns_lock()) {
      for (int t = 0; t < tasks; ++t) fn(t);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (int(workers_.size()) < threads - 1) {
        const int id = int(workers_.size());
        workers_.emplace_back([this, id] { loop(id); });
      }
      fn_ = &fn;
      tasks_ = tasks;
      next_.store(0, std::memory_order_relaxed);
      done_.store(0, std::memory_order_relaxed);
      helpers_ = threads - 1;
      open_ = true;
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work(fn, tasks);
    while (done_.load(std::memory_order_acquire) < tasks) std::this_thread::yield();
    // Every task is done; close the region and wait for the helpers inside it to leave.
    std::unique_lock<std::mutex> lock(mutex_);
    open_ = false;
    finished_.wait(lock, [&] { return active_ == 0; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void work(const std::function<void(int)>& fn, int tasks) {
    for (int t; (t = next_.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
      try {
        fn(t);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
  }

  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      // Spin a little first: the GEMMs of one training step come close together.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until)
        std::this_thread::yield();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      // Only while the region is open, and only the helpers it asked for.
      if (!open_ || id >= helpers_) continue;
      ++active_;
      const std::function<void(int)>* fn = fn_;
      const int tasks = tasks_;
      lock.unlock();
      work(*fn, tasks);
      lock.lock();
      if (--active_ == 0) finished_.notify_all();
    }
  }

  std::mutex region_;  // one parallel region at a time
  std::mutex mutex_;   // what follows, but the atomics
  std::condition_variable wake_, finished_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* fn_ = nullptr;
  int tasks_ = 0, helpers_ = 0, active_ = 0;
  bool open_ = false, stop_ = false;
  std::exception_ptr error_;
  std::atomic<int> next_{0}, done_{0};
  std::atomic<uint64_t> generation_{0};
};

// Never destroyed (as the host cache): a GEMM in a static object's destructor still finds it.
inline ThreadPool& thread_pool() {
  static ThreadPool* pool = new ThreadPool;
  return *pool;
}

}  // namespace cpu::detail

// How many threads the CPU backend's big operations use (the calling thread included).
// Default: std::thread::hardware_concurrency(). Operations below a size threshold always
// run on one thread. Results do not depend on it (docs/cpu-scaling.md).
inline int get_num_threads() { return cpu::detail::num_threads_setting().load(std::memory_order_relaxed); }
inline void set_num_threads(int n) {
  KN_CHECK(n >= 1 && n <= 1024, "set_num_threads: ", n, " threads: must be in [1, 1024]");
  cpu::detail::num_threads_setting().store(n, std::memory_order_relaxed);
}

namespace cpu {
// fn(t) for t in [0, tasks), spread over get_num_threads() threads.
inline void parallel_for(int tasks, const std::function<void(int)>& fn) {
  detail::thread_pool().run(get_num_threads(), tasks, fn);
}
}  // namespace cpu

}  // namespace kn
