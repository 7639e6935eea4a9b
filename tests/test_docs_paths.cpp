// Stale words: every file of the repository that the docs and the source comments name
// exists. A path is anything that starts with a top-level folder (`kernels/gemm.cu`,
// `../lib/kernelnet/ops/gemm.hpp`) or an include of the library (`<kernelnet/trace.hpp>`).
// Left out: the records of past runs (docs/results/, which name the tree of their day),
// the changelog, and what programs write (listed below).
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "test_util.hpp"

namespace fs = std::filesystem;

namespace {

// Paths the docs and scripts name that a program writes, not the repository.
const char* const kWritten[] = {
    "fuzz/artifacts", "fuzz/fuzz_",                     // scripts/fuzz: crashes and binaries
    "lib/cmake/",                                       // an install prefix's package config
    "docs/results/h200", "docs/results/trace-cuda-iris.txt",  // written by the first GPU run
};

bool written(const std::string& p) {
  for (const char* w : kWritten)
    if (p.rfind(w, 0) == 0) return true;
  return false;
}

bool skipped(const fs::path& rel) {
  const std::string s = rel.generic_string();
  return s.rfind("docs/results/", 0) == 0 || s.rfind("tests/fixtures/", 0) == 0 || s.rfind("fuzz/corpus/", 0) == 0 ||
         s == "CHANGELOG.md" || s == "tests/test_docs_paths.cpp";  // this file lists what is written
}

}  // namespace

TEST_CASE("every path named in docs and comments exists", "[docs]") {
  const fs::path root = KN_SOURCE_DIR;
  const std::regex path(
      R"((?:^|[^\w/.<])(?:\.\./)*((?:lib|kernels|tests|bench|apps|support|docs|examples|scripts|cmake|fuzz)/[\w./-]*\w))");
  const std::regex include(R"(<(kernelnet/[\w./]+\.hpp)>)");
  std::set<std::string> exts = {".md", ".hpp", ".cpp", ".cu", ".cuh", ".cmake", ".txt", ".py", ".sh", ""};
  int files = 0, named = 0;
  for (const char* dir : {"lib", "kernels", "tests", "bench", "apps", "support", "docs", "examples", "scripts", "cmake",
                          "fuzz", "."}) {
    const fs::path d = root / dir;
    if (!fs::exists(d)) continue;
    auto check_file = [&](const fs::path& f) {
      const fs::path rel = fs::relative(f, root);
      if (skipped(rel) || !exts.count(f.extension().string())) return;
      const std::string s = kn::test::read_file(f);
      ++files;
      for (std::sregex_iterator it(s.begin(), s.end(), path), end; it != end; ++it) {
        std::string p = (*it)[1];
        while (!p.empty() && p.back() == '.') p.pop_back();
        ++named;
        if (written(p)) continue;
        INFO(rel.generic_string() << " names " << p);
        CHECK(fs::exists(root / p));
      }
      for (std::sregex_iterator it(s.begin(), s.end(), include), end; it != end; ++it) {
        const std::string p = "lib/" + (*it)[1].str();
        ++named;
        INFO(rel.generic_string() << " names <" << (*it)[1] << ">");
        CHECK(fs::exists(root / p));
      }
    };
    if (std::string(dir) == ".") {  // the top level's own files, not its folders again
      for (const auto& e : fs::directory_iterator(d))
        if (e.is_regular_file()) check_file(e.path());
      continue;
    }
    for (const auto& e : fs::recursive_directory_iterator(d))
      if (e.is_regular_file()) check_file(e.path());
  }
  CHECK(files > 100);
  CHECK(named > 200);
}
