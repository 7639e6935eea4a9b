// How the harness runs a launch on the CPU (docs/kernels-on-cpu.md).
//
// A block's threads are fibers (Boost.Context): each runs the kernel on a stack of its
// own until it reaches a barrier (__syncthreads), a warp intrinsic (__shfl_*_sync,
// __ballot_sync, __syncwarp) or its end, then hands control back to the scheduler. When
// every thread has stopped, the scheduler decides what may go on:
//   - a warp intrinsic completes when every lane of its mask waits at it with that mask;
//     the scheduler computes each lane's result (a shuffle reads its source lane's value
//     as deposited) and lets those lanes go on;
//   - otherwise the barrier opens when every thread of the block waits at it, at the
//     same __syncthreads;
//   - otherwise no thread can ever go on: the block has a divergent barrier (or a warp
//     intrinsic some lane never reaches), and the launch fails saying who waits where.
// Blocks run one after another. A launch runs several times from the same memory, with
// blocks and threads resumed in a different order each time (forward, reverse, seeded
// shuffles); whatever the memory ends as must agree bit for bit, or the launch fails with
// the first byte that differs: a race between threads (or a read of shared memory that no
// thread wrote, since each run fills fresh shared memory with a different pattern).
#include <algorithm>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "cuda_runtime.h"
#include "internal.hpp"

namespace kn_emu {

thread_local const ThreadCoords* current_coords = nullptr;

namespace {

namespace ctx = boost::context;

// ---- Fiber stacks: mmap'ed once, reused, with a guard page below each -----------------
constexpr std::size_t kStackBytes = 64 * 1024;  // a kernel thread needs little; a guard page below catches more

class StackPool {
 public:
  ctx::stack_context allocate() {
    char* base;
    if (!free_.empty()) {
      base = free_.back();
      free_.pop_back();
    } else {
      void* m = mmap(nullptr, kStackBytes + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      base = static_cast<char*>(m);
      mprotect(base, page_, PROT_NONE);  // a stack overflow faults here instead of corrupting a neighbour
    }
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = base + page_ + kStackBytes;  // stacks grow down from here
    return sc;
  }
  void deallocate(ctx::stack_context& sc) { free_.push_back(static_cast<char*>(sc.sp) - kStackBytes - page_); }

 private:
  const std::size_t page_ = std::size_t(sysconf(_SC_PAGESIZE));
  std::vector<char*> free_;
};
StackPool& stacks() {
  static StackPool* pool = new StackPool;  // lives to the end: fibers may outlive statics' teardown
  return *pool;
}
struct PooledStack {  // the allocator a fiber is made with: a stack taken from the pool
  ctx::stack_context stack;
  ctx::stack_context allocate() { return stack; }
  void deallocate(ctx::stack_context& sc) { stacks().deallocate(sc); }
};

// AddressSanitizer must be told of every switch from one stack to another, or it takes
// a fiber's frames for overflows of the thread's stack: before the switch, where the
// stack we go to lies (and where to keep the leaving fiber's fake frames; none when it
// ends), and after it, where the stack we came from lies.
struct StackRange {
  const void* bottom = nullptr;
  std::size_t size = 0;
};
void before_switch(void** fake, const StackRange& to) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(fake, to.bottom, to.size);
#else
  (void)fake, (void)to;
#endif
}
void after_switch(void* fake, StackRange* from) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(fake, from ? &from->bottom : nullptr, from ? &from->size : nullptr);
#else
  (void)fake, (void)from;
#endif
}
// Thrown inside a thread that a failed block resumes only to end it: it unwinds the
// thread's stack to its start. (Not a std::exception: nothing in a kernel catches it.)
struct Cancelled {};

// ---- One block's threads ---------------------------------------------------------------
enum class State { Ready, AtBarrier, AtWarp, Done };
enum class WarpOp { Sync, Shuffle, Ballot };
const char* op_name(WarpOp op, Shuffle kind) {
  if (op == WarpOp::Sync) return "__syncwarp";
  if (op == WarpOp::Ballot) return "__ballot_sync";
  switch (kind) {
    case Shuffle::Idx: return "__shfl_sync";
    case Shuffle::Up: return "__shfl_up_sync";
    case Shuffle::Down: return "__shfl_down_sync";
    case Shuffle::Xor: return "__shfl_xor_sync";
  }
  return "?";
}

struct Block;
struct Thread {
  Block* block = nullptr;
  ThreadCoords coords{};
  int linear = 0, warp = 0, lane = 0;
  State state = State::Ready;
  ctx::fiber fiber;      // the thread, while it is suspended
  ctx::fiber scheduler;  // the scheduler, while the thread runs
  StackRange stack;      // the thread's stack
  void* fake = nullptr;  // AddressSanitizer's fake frames of the thread, while it is suspended
  Site site{"", 0};      // where it waits
  // The warp intrinsic it waits at, and its result.
  WarpOp op = WarpOp::Sync;
  Shuffle kind = Shuffle::Idx;
  unsigned mask = 0;
  int operand = 0, width = 32;
  std::uint64_t value = 0, result = 0;
};

struct Block {
  const Config* config = nullptr;
  std::vector<Thread> threads;
  int order = 0;  // which run of the launch: picks the resume order and the shared-memory fill
  std::mt19937_64 rng;
  // __shared__ variables: one allocation per declaration site, made by the first thread
  // that reaches it; the launch's dynamic shared memory.
  std::vector<std::pair<const void*, std::unique_ptr<SharedBytes>>> shared;
  std::unique_ptr<SharedBytes> dynamic;
  std::size_t static_bytes = 0;
  std::exception_ptr error;
  StackRange scheduler_stack;  // learnt by each thread when it is resumed
  bool tearing_down = false;
  // A block that failed has threads that are suspended, or never started: each is
  // resumed once more, to unwind its stack (Cancelled) or to end before the kernel runs.
  ~Block();
};

thread_local Thread* current_thread = nullptr;
Counters g_counters;

std::string where(Site s) { return std::string(s.file) + ":" + std::to_string(s.line); }

std::string block_name(const Block& b) {
  const uint3 i = b.threads.front().coords.block;
  std::ostringstream os;
  os << "block (" << i.x << "," << i.y << "," << i.z << ")";
  return os.str();
}

// "0-31, 64, 70-95": thread numbers (threadIdx linearised) as ranges.
std::string ranges(const std::vector<int>& ids) {
  std::ostringstream os;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    os << (i ? ", " : "") << ids[i];
    if (j > i) os << "-" << ids[j];
    i = j + 1;
  }
  return os.str();
}

[[noreturn]] void fail(const std::string& what) { throw Failure(what); }

Thread& self(const char* what) {
  if (!current_thread) fail(std::string(what) + " called outside a kernel");
  return *current_thread;
}

// Hands control to the scheduler until it resumes this thread.
void stop(Thread& t, State state, Site site) {
  t.state = state;
  t.site = site;
  ++g_counters.switches;
  before_switch(&t.fake, t.block->scheduler_stack);
  t.scheduler = std::move(t.scheduler).resume();
  after_switch(t.fake, &t.block->scheduler_stack);
  if (t.block->tearing_down) throw Cancelled{};
}

// Runs thread t until it stops or ends.
void resume(Thread& t) {
  current_thread = &t;
  current_coords = &t.coords;
  void* fake = nullptr;
  before_switch(&fake, t.stack);
  t.fiber = std::move(t.fiber).resume();
  after_switch(fake, nullptr);
  current_thread = nullptr;
  current_coords = nullptr;
}

Block::~Block() {
  tearing_down = true;
  for (Thread& t : threads)
    if (t.fiber) resume(t);
}

// Lanes [0, n) of this thread's warp exist.
unsigned existing_lanes(const Thread& t) {
  const int n = int(t.block->threads.size()) - t.warp * 32;
  return n >= 32 ? 0xffffffffu : (1u << n) - 1u;
}

void check_mask(const Thread& t, unsigned mask, const char* op, Site site) {
  const unsigned existing = existing_lanes(t);
  if (!(mask & ~existing) && (mask & (1u << t.lane))) return;
  std::ostringstream os;
  if (mask & ~existing) {
    os << op << " at " << where(site) << ": mask 0x" << std::hex << mask << std::dec << " names lanes that warp "
       << t.warp << " does not have (a block of " << t.block->threads.size() << " threads: its lanes are 0x"
       << std::hex << existing << std::dec << ")";
    fail(os.str());
  }
  if (!(mask & (1u << t.lane))) {
    os << op << " at " << where(site) << ": lane " << t.lane << " of warp " << t.warp
       << " calls it with a mask that leaves it out (0x" << std::hex << mask << std::dec << ")";
    fail(os.str());
  }
}

void warp_wait(WarpOp op, Shuffle kind, unsigned mask, std::uint64_t value, int operand, int width, Site site) {
  Thread& t = self(op_name(op, kind));
  check_mask(t, mask, op_name(op, kind), site);
  t.op = op, t.kind = kind, t.mask = mask, t.value = value, t.operand = operand, t.width = width;
  stop(t, State::AtWarp, site);
}

// ---- The scheduler's decisions -----------------------------------------------------------

// The lane whose value a shuffle lane reads (PTX's shfl semantics), or the lane itself
// when the source falls outside its segment of `width` lanes.
int source_lane(const Thread& t) {
  const int lane = t.lane, w = t.width;
  const int first = lane & ~(w - 1), last = first + w - 1;
  int src = lane;
  switch (t.kind) {
    case Shuffle::Idx: src = first + (t.operand & (w - 1)); break;
    case Shuffle::Up: src = lane - t.operand >= first ? lane - t.operand : lane; break;
    case Shuffle::Down: src = lane + t.operand <= last ? lane + t.operand : lane; break;
    case Shuffle::Xor: src = (lane ^ t.operand) <= last ? lane ^ t.operand : lane; break;
  }
  return src;
}

// Completes the warp intrinsics whose whole mask waits; true if any did.
bool complete_warp_ops(Block& b) {
  bool progress = false;
  const int warps = int((b.threads.size() + 31) / 32);
  for (int w = 0; w < warps; ++w) {
    Thread* lanes = &b.threads[std::size_t(w) * 32];
    const int n = std::min<int>(32, int(b.threads.size()) - w * 32);
    for (int l = 0; l < n; ++l) {
      Thread& first = lanes[l];
      if (first.state != State::AtWarp) continue;
      const unsigned mask = first.mask;
      bool all_there = true;
      for (int k = 0; k < n && all_there; ++k)
        if (mask & (1u << k)) all_there = lanes[k].state == State::AtWarp && lanes[k].mask == mask;
      if (!all_there) continue;
      for (int k = 0; k < n; ++k) {
        const Thread& o = lanes[k];
        if (!(mask & (1u << k)) || (o.op == first.op && o.kind == first.kind)) continue;
        fail(std::string("warp ") + std::to_string(w) + " of " + block_name(b) + ": the lanes of mask meet at different warp intrinsics, lane " +
             std::to_string(first.lane) + " at " + op_name(first.op, first.kind) + " (" + where(first.site) + "), lane " +
             std::to_string(o.lane) + " at " + op_name(o.op, o.kind) + " (" + where(o.site) + ")");
      }
      unsigned ballot = 0;
      for (int k = 0; k < n; ++k)
        if ((mask & (1u << k)) && lanes[k].value) ballot |= 1u << k;
      for (int k = 0; k < n; ++k) {
        if (!(mask & (1u << k))) continue;
        Thread& o = lanes[k];
        if (o.op == WarpOp::Shuffle) {
          const int src = source_lane(o);
          if (!(mask & (1u << src)))
            fail(std::string(op_name(o.op, o.kind)) + " at " + where(o.site) + ": lane " + std::to_string(k) +
                 " of warp " + std::to_string(w) + " reads lane " + std::to_string(src) +
                 ", which is not in the mask: its value is undefined");
          o.result = lanes[src].value;
        } else if (o.op == WarpOp::Ballot) {
          o.result = ballot;
        }
      }
      for (int k = 0; k < n; ++k)
        if (mask & (1u << k)) lanes[k].state = State::Ready;
      progress = true;
    }
  }
  return progress;
}

// Opens the barrier if every thread waits at it; otherwise says why the block is stuck.
void open_barrier_or_fail(Block& b) {
  std::map<std::string, std::vector<int>> waiting;  // "what, where" -> threads
  std::vector<int> exited;
  bool all_at_one_barrier = true;
  const Site first = b.threads.front().site;
  for (const Thread& t : b.threads) {
    switch (t.state) {
      case State::Done: exited.push_back(t.linear); all_at_one_barrier = false; break;
      case State::AtBarrier:
        waiting["__syncthreads() at " + where(t.site)].push_back(t.linear);
        if (t.site.line != first.line || std::strcmp(t.site.file, first.file) != 0) all_at_one_barrier = false;
        break;
      case State::AtWarp: {
        std::ostringstream os;
        os << op_name(t.op, t.kind) << " (mask 0x" << std::hex << t.mask << std::dec << ") at " << where(t.site);
        waiting[os.str()].push_back(t.linear);
        all_at_one_barrier = false;
        break;
      }
      case State::Ready: all_at_one_barrier = false; break;
    }
  }
  if (all_at_one_barrier) {
    for (Thread& t : b.threads) t.state = State::Ready;
    return;
  }
  std::ostringstream os;
  os << "divergent barrier in " << block_name(b) << " of " << b.threads.size()
     << " threads: no thread can go on, since";
  for (const auto& [what, ids] : waiting) os << "\n    threads " << ranges(ids) << " wait at " << what;
  if (!exited.empty()) os << "\n    threads " << ranges(exited) << " have returned";
  fail(os.str());
}

// The order in which the threads ready to run are resumed.
void order_threads(Block& b, std::vector<Thread*>& ready) {
  if (b.order == 1) std::reverse(ready.begin(), ready.end());
  else if (b.order >= 2) std::shuffle(ready.begin(), ready.end(), b.rng);
}

void run_block(Block& b, uint3 block_idx, ThreadBody body, void* closure) {
  const Config& c = *b.config;
  const int n = int(c.block.x * c.block.y * c.block.z);
  b.threads = std::vector<Thread>(std::size_t(n));  // never resized again: fibers hold &t
  for (int i = 0; i < n; ++i) {
    Thread& t = b.threads[std::size_t(i)];
    t.linear = i, t.warp = i / 32, t.lane = i % 32;
    t.coords.thread = {unsigned(i) % c.block.x, unsigned(i) / c.block.x % c.block.y, unsigned(i) / (c.block.x * c.block.y)};
    t.coords.block = block_idx;
    t.coords.block_dim = {c.block.x, c.block.y, c.block.z};
    t.coords.grid_dim = {c.grid.x, c.grid.y, c.grid.z};
    t.block = &b;
    const ctx::stack_context stack = stacks().allocate();
    t.stack = {static_cast<char*>(stack.sp) - stack.size, stack.size};
    t.fiber = ctx::fiber(std::allocator_arg, PooledStack{stack}, [&t, body, closure, &b](ctx::fiber&& scheduler) {
      after_switch(nullptr, &b.scheduler_stack);
      t.scheduler = std::move(scheduler);
      if (!b.tearing_down) {
        try {
          body(closure);
        } catch (const Cancelled&) {
        } catch (...) {
          if (!b.error) b.error = std::current_exception();
        }
      }
      t.state = State::Done;
      before_switch(nullptr, b.scheduler_stack);  // this stack is done with
      return std::move(t.scheduler);
    });
  }
  if (c.shared_bytes) b.dynamic = std::make_unique<SharedBytes>(c.shared_bytes, 16, b.order);
  g_counters.threads += n;
  ++g_counters.blocks;

  std::vector<Thread*> ready;
  for (;;) {
    ready.clear();
    for (Thread& t : b.threads)
      if (t.state == State::Ready) ready.push_back(&t);
    order_threads(b, ready);
    for (Thread* t : ready) {
      resume(*t);
      if (b.error) std::rethrow_exception(b.error);
    }
    if (std::all_of(b.threads.begin(), b.threads.end(), [](const Thread& t) { return t.state == State::Done; }))
      return;
    if (!complete_warp_ops(b)) open_barrier_or_fail(b);
  }
}

}  // namespace

// ---- The intrinsics --------------------------------------------------------------------

void syncthreads(Site site) { stop(self("__syncthreads"), State::AtBarrier, site); }

void syncwarp(unsigned mask, Site site) { warp_wait(WarpOp::Sync, Shuffle::Idx, mask, 0, 0, 32, site); }

std::uint64_t shuffle(unsigned mask, Shuffle kind, std::uint64_t value, int operand, int width, Site site) {
  if (width < 1 || width > 32 || (width & (width - 1)))
    fail(std::string(op_name(WarpOp::Shuffle, kind)) + " at " + where(site) + ": width " + std::to_string(width) +
         " is not a power of two from 1 to 32");
  warp_wait(WarpOp::Shuffle, kind, mask, value, operand, width, site);
  return current_thread->result;
}

unsigned vote_ballot(unsigned mask, bool predicate, Site site) {
  warp_wait(WarpOp::Ballot, Shuffle::Idx, mask, predicate ? 1 : 0, 0, 32, site);
  return unsigned(current_thread->result);
}

// The lanes the warp has: the harness does not model divergence (which lanes run
// together at this instant is the hardware's choice, and would differ from run to run).
unsigned active_mask() { return existing_lanes(self("__activemask")); }

void* shared_bytes(const void* site, std::size_t bytes, std::size_t align) {
  Block& b = *self("a __shared__ variable").block;
  for (auto& [s, mem] : b.shared)
    if (s == site) return mem->data();
  b.static_bytes += bytes;
  b.shared.emplace_back(site, std::make_unique<SharedBytes>(bytes, align, b.order));
  return b.shared.back().second->data();
}

void* dynamic_shared_bytes() {
  Block& b = *self("an extern __shared__ array").block;
  if (!b.dynamic) fail("a kernel reads its extern __shared__ array, but the launch gave it no dynamic shared memory");
  return b.dynamic->data();
}

// ---- Shared memory: a fresh heap allocation per variable and block ---------------------
SharedBytes::SharedBytes(std::size_t bytes, std::size_t align, int order)
    : align_(align < 16 ? 16 : align), data_(::operator new(bytes ? bytes : 1, std::align_val_t(align_))) {
  // Never zero: run k fills with 0xff - k (NaN in every float of the first run), so a
  // read of a byte no thread wrote changes the outcome from one run to the next.
  std::memset(data_, 0xff - (order & 0x3f), bytes);
}
SharedBytes::~SharedBytes() { ::operator delete(data_, std::align_val_t(align_)); }

// ---- A launch ----------------------------------------------------------------------------

void run_grid(const Config& c, ThreadBody body, void* closure, int order, std::uint64_t seed) {
  std::vector<uint3> blocks;
  for (unsigned z = 0; z < c.grid.z; ++z)
    for (unsigned y = 0; y < c.grid.y; ++y)
      for (unsigned x = 0; x < c.grid.x; ++x) blocks.push_back({x, y, z});
  std::mt19937_64 rng(seed * 1000003u + std::uint64_t(order));
  if (order == 1) std::reverse(blocks.begin(), blocks.end());
  else if (order >= 2) std::shuffle(blocks.begin(), blocks.end(), rng);
  for (const uint3& idx : blocks) {
    Block b;
    b.config = &c;
    b.order = order;
    b.rng.seed(rng());
    run_block(b, idx, body, closure);  // if it throws, ~Block ends the block's threads
    const std::size_t total = b.static_bytes + c.shared_bytes;
    if (total > kMaxSharedPerBlock)
      fail("the block uses " + std::to_string(total) + " bytes of shared memory (" + std::to_string(b.static_bytes) +
           " static, " + std::to_string(c.shared_bytes) + " dynamic), more than the " +
           std::to_string(kMaxSharedPerBlock) + " a block can have");
    // The fibers are all done; b's shared memory goes with it.
  }
}

Counters& mutable_counters() { return g_counters; }

}  // namespace kn_emu
