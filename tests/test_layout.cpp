// The rules of the tree (docs/architecture.md) that a change could break unnoticed:
// no header of the library over 300 lines, and nothing in tests/, bench/ or apps/ that
// includes a private file of kernels/ (they use the public kn::cuda::stream,
// KN_CUDA_CHECK and kn::cuda::launch_user_kernel instead), but for tests/emu, the CPU
// harness, which compiles kernels/ itself and launches through its common.cuh.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>

#include "test_util.hpp"

namespace fs = std::filesystem;

TEST_CASE("no header of lib/ is over 300 lines", "[layout]") {
  int headers = 0;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(KN_SOURCE_DIR) / "lib")) {
    if (e.path().extension() != ".hpp") continue;
    ++headers;
    const std::string text = kn::test::read_file(e.path());
    const long lines = long(std::count(text.begin(), text.end(), '\n'));
    INFO(e.path().generic_string() << ": " << lines << " lines");
    CHECK(lines <= 300);
  }
  CHECK(headers >= 30);
}

TEST_CASE("tests, bench and apps include no private header of kernels/", "[layout]") {
  // A .cuh of kernels/ by any path, or kernels/ on an include path.
  const std::regex include(R"(#\s*include\s*["<]([^">]*\.cuh|[^">]*kernels/[^">]*)[">])");
  const std::regex include_dir(R"(include_directories\([^)]*kernels)");
  int files = 0;
  for (const char* dir : {"tests", "bench", "apps"})
    for (const auto& e : fs::recursive_directory_iterator(fs::path(KN_SOURCE_DIR) / dir)) {
      if (e.path().generic_string().find("/tests/emu/") != std::string::npos) continue;
      const auto ext = e.path().extension().string();
      const bool source = ext == ".cpp" || ext == ".hpp" || ext == ".cu";
      if (!source && e.path().filename() != "CMakeLists.txt") continue;
      ++files;
      const std::string text = kn::test::read_file(e.path());
      std::smatch m;
      INFO(e.path().generic_string());
      if (source) CHECK_FALSE(std::regex_search(text, m, include));
      else CHECK_FALSE(std::regex_search(text, m, include_dir));
    }
  CHECK(files > 30);
}
