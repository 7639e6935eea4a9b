// KN_TEST_SHARD and KN_TEST_RACECHECK (tests/gpu/gpu_test_util.hpp), which scripts/gpu-racecheck
// sets to split the slow GPU tests' loops across processes and to leave out their biggest products. It lives with the GPU tests' helpers; this is the
// one test binary that includes them and runs without a GPU.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu_test.hpp"

namespace {
// Sets KN_TEST_SHARD for one scope, then restores what was there.
class ShardEnv {
 public:
  explicit ShardEnv(const char* value) {
    if (const char* old = std::getenv("KN_TEST_SHARD")) old_ = old, had_ = true;
    if (value) setenv("KN_TEST_SHARD", value, 1);
    else unsetenv("KN_TEST_SHARD");
  }
  ~ShardEnv() {
    if (had_) setenv("KN_TEST_SHARD", old_.c_str(), 1);
    else unsetenv("KN_TEST_SHARD");
  }

 private:
  std::string old_;
  bool had_ = false;
};
}  // namespace

TEST_CASE("KN_TEST_SHARD: each item of a loop runs in exactly one shard", "[emu][test-util]") {
  {
    ShardEnv unset(nullptr);
    for (std::size_t k = 0; k < 10; ++k) CHECK(kn::test::in_shard(k));
  }
  for (int n : {1, 3, 12}) {
    std::vector<int> runs(50, 0);
    for (int i = 0; i < n; ++i) {
      const std::string v = std::to_string(i) + "/" + std::to_string(n);
      ShardEnv env(v.c_str());
      for (std::size_t k = 0; k < runs.size(); ++k) runs[k] += kn::test::in_shard(k);
    }
    for (std::size_t k = 0; k < runs.size(); ++k) {
      INFO("n " << n << ", item " << k);
      CHECK(runs[k] == 1);
    }
  }
}

TEST_CASE("KN_TEST_SHARD: a malformed value is an error naming it", "[emu][test-util]") {
  for (const char* bad : {"3/3", "1/0", "1", "a/b", "1/2x", "-1/2", "1:2"}) {
    ShardEnv env(bad);
    INFO(bad);
    try {
      kn::test::in_shard(0);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK_THAT(e.what(), Catch::Matchers::Contains(std::string("KN_TEST_SHARD='") + bad + "'"));
    }
  }
}

TEST_CASE("KN_TEST_RACECHECK=1 leaves out only the GEMM products over 2^22 multiply-adds", "[emu][test-util]") {
  const double big = 257.0 * 255 * 513, edge = double(1 << 22), small = 127.0 * 129 * 65;
  unsetenv("KN_TEST_RACECHECK");
  CHECK_FALSE(kn::test::skip_under_racecheck(big));
  setenv("KN_TEST_RACECHECK", "0", 1);
  CHECK_FALSE(kn::test::skip_under_racecheck(big));
  setenv("KN_TEST_RACECHECK", "1", 1);
  CHECK(kn::test::skip_under_racecheck(big));
  CHECK_FALSE(kn::test::skip_under_racecheck(edge));
  CHECK_FALSE(kn::test::skip_under_racecheck(small));
  unsetenv("KN_TEST_RACECHECK");
}
