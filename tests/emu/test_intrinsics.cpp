// The harness's warp intrinsics and barriers against CUDA's documented semantics
// (probes/intrinsics.cu): shuffles with every mode and width, votes, two half-warps
// shuffling apart in divergent branches, repeated barriers.
#include <numeric>
#include <vector>

#include "emu_test.hpp"
#include "probes/intrinsics.hpp"

using kn::test::DeviceArray;

namespace {

// What CUDA documents each lane gets when every lane t offers the value t.
std::vector<int> expected(char mode, int operand, int width) {
  std::vector<int> r(32);
  for (int lane = 0; lane < 32; ++lane) {
    const int first = lane / width * width, last = first + width - 1;
    int src = lane;
    if (mode == 'i') src = first + operand % width;
    if (mode == 'u') src = lane - operand >= first ? lane - operand : lane;
    if (mode == 'd') src = lane + operand <= last ? lane + operand : lane;
    if (mode == 'x') src = (lane ^ operand) <= last ? lane ^ operand : lane;
    r[std::size_t(lane)] = src;
  }
  return r;
}

}  // namespace

TEST_CASE("shuffles return the source lane's value for every mode and width", "[emu][intrinsics]") {
  DeviceArray<int> out(32);
  for (int width : {32, 16, 8, 1})
    for (int operand : {0, 1, 3, 5, 16, 31}) {
      INFO("width " << width << ", operand " << operand);
      kn_emu_probes::shfl_idx(out.get(), operand, width);
      CHECK(out.download() == expected('i', operand, width));
      kn_emu_probes::shfl_up(out.get(), operand, width);
      CHECK(out.download() == expected('u', operand, width));
      kn_emu_probes::shfl_down(out.get(), operand, width);
      CHECK(out.download() == expected('d', operand, width));
      kn_emu_probes::shfl_xor(out.get(), operand, width);
      CHECK(out.download() == expected('x', operand, width));
    }
  // By hand, for one case: xor 1 swaps neighbours.
  kn_emu_probes::shfl_xor(out.get(), 1, 32);
  const auto x = out.download();
  CHECK(x[0] == 1);
  CHECK(x[1] == 0);
  CHECK(x[30] == 31);
}

TEST_CASE("ballot, any and all see every lane of their mask", "[emu][intrinsics]") {
  DeviceArray<unsigned> out(96);
  kn_emu_probes::votes(out.get());
  const auto v = out.download();
  unsigned every_third = 0;
  for (int t = 0; t < 32; t += 3) every_third |= 1u << t;
  for (int t = 0; t < 32; ++t) {
    INFO("lane " << t);
    CHECK(v[std::size_t(3 * t)] == every_third);
    CHECK(v[std::size_t(3 * t + 1)] == 1u);
    CHECK(v[std::size_t(3 * t + 2)] == (t < 16 ? 1u : 7u));
  }
}

TEST_CASE("two half-warps shuffle apart in divergent branches, then meet at __syncwarp", "[emu][intrinsics]") {
  DeviceArray<int> out(32);
  kn_emu_probes::half_warp_sums(out.get());
  std::vector<int> want(32);
  for (int t = 0; t < 32; ++t) want[std::size_t(t)] = t < 16 ? 120 : 376;  // 0+...+15, 16+...+31
  CHECK(out.download() == want);
}

TEST_CASE("__activemask names the lanes the warp has", "[emu][intrinsics]") {
  DeviceArray<unsigned> out(40);
  kn_emu_probes::active(out.get(), 40);
  const auto a = out.download();
  for (int t = 0; t < 32; ++t) CHECK(a[std::size_t(t)] == 0xffffffffu);
  for (int t = 32; t < 40; ++t) CHECK(a[std::size_t(t)] == 0xffu);  // a partial warp of 8
}

TEST_CASE("a barrier in a loop opens once per trip, for every thread", "[emu][intrinsics]") {
  DeviceArray<int> out(96);
  kn_emu_probes::barrier_rounds(out.get());
  std::vector<int> want(96);
  for (int t = 0; t < 96; ++t) want[std::size_t(t)] = ((t + 1) % 96) * 30 + 0 + 1 + 2;
  CHECK(out.download() == want);
}
