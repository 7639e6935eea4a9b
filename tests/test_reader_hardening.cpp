// The readers against what fuzzing and the sanitizers turned up (see fuzz/README.md), and
// against what is not a regular file or is too big (docs/files.md): each must fail within
// a second, with flat memory, and never wait on a FIFO.
#include <chrono>
#include <fstream>
#include <future>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;

namespace {
std::string image(const std::string& header, uint64_t claimed) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((claimed >> (8 * i)) & 0xff);
  return out + header;
}
std::string image(const std::string& header) { return image(header, header.size()); }

// A fresh empty folder under the build directory, removed when the tests end.
std::string reader_dir(const std::string& name) { return kn::test::temp_dir("reader-" + name); }
using kn::test::put;
// A file of `size` bytes that takes no disk: a hole, with `head` at its start.
void sparse(const std::string& path, uint64_t size, const std::string& head = "") {
  put(path, head);
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, off_t(size)) == 0);
  ::close(fd);
}
long peak_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
using kn::test::release_fifo;

// The error `read` throws, which it must throw within a second without raising the
// process's peak memory by 64 MiB. It runs on a thread: one still running after 5 s
// (waiting on a FIFO) fails the test and `unblock` lets it go.
template <typename F>
std::string fails_fast(F read, const std::function<void()>& unblock = [] {}) {
  const long rss = peak_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  auto done = std::async(std::launch::async, [read] { return error_of(read); });
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    unblock();
    FAIL_CHECK("still reading after 5 s");
  }
  const std::string error = done.get();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 1.0);
  CHECK(peak_rss_kb() - rss < 64 * 1024);
  CHECK(error != "");
  return error;
}

// Every reader of a path, by name: each error it gives.
std::vector<std::pair<std::string, std::function<void()>>> readers(const std::string& path) {
  return {{"io::read_file", [=] { io::read_file(path); }},
          {"load_safetensors", [=] { load_safetensors(path); }},
          {"load", [=] { test::MLP m; load(m, path); }},
          {"data::read_csv", [=] { data::read_csv(path, data::iris_classes()); }},
          {"data::load_iris", [=] { data::load_iris(path); }}};
}
std::string expected(const std::string& reader, const std::string& path, const std::string& why) {
  const std::string what = reader == "io::read_file" ? "the file"
                           : reader.rfind("data::", 0) == 0 ? "the data file"
                                                             : "the safetensors file";
  return path + ": cannot read " + what + ": " + why;
}
}  // namespace

TEST_CASE("read_csv_text reports what read_csv reports for the same text", "[data][errors]") {
  const std::string text = "a,b,c,d,species\n1,2,3,4,setosa\n1,2,x3,4,setosa\n";
  const std::string path = std::string(KN_BINARY_DIR) + "/test-hardening.csv";
  std::ofstream(path) << text;
  CHECK(error_of([&] { data::read_csv_text(text, path, data::iris_classes()); }) == path + ":3:3: 'x3' is not a number (column c)");
  CHECK(error_of([&] { data::read_csv(path, data::iris_classes()); }) == path + ":3:3: 'x3' is not a number (column c)");
  auto ds = data::read_csv_text("x,species\n0.5,Iris-virginica\n", "t.csv", data::iris_classes());
  CHECK(ds.X.shape() == Shape{1, 1});
  CHECK(ds.y.at<int64_t>(0) == 2);
}

TEST_CASE("a CSV value beyond float32 is an error, not inf", "[data][errors]") {
  CHECK(error_of([] { data::read_csv_text("a,species\n1e39,setosa\n", "t.csv", data::iris_classes()); }) ==
        "t.csv:2:1: '1e39' is out of the float32 range (column a)");
  auto ds = data::read_csv_text("a,species\n3.4028235e38,setosa\n", "t.csv", data::iris_classes());  // FLT_MAX itself
  CHECK(ds.X.at<float>(0, 0) == std::numeric_limits<float>::max());
}

TEST_CASE("reading a directory says so instead of 'empty' or 'truncated'", "[data][safetensors][errors]") {
  const std::string dir = KN_BINARY_DIR;
  for (const auto& [reader, read] : readers(dir)) {
    INFO(reader);
    CHECK(fails_fast(read) == expected(reader, dir, "is a directory"));
  }
}

TEST_CASE("every reader refuses /dev/zero and /dev/urandom before reading them", "[data][safetensors][errors]") {
  for (const char* dev : {"/dev/zero", "/dev/urandom"})
    for (const auto& [reader, read] : readers(dev)) {
      INFO(reader << " " << dev);
      CHECK(fails_fast(read) == expected(reader, dev, "not a regular file (a character device)"));
    }
  // A stream has no kind to check: the CSV reader stops at its limits (/dev/zero holds no newline).
  CHECK(fails_fast([] {
          std::ifstream in("/dev/zero", std::ios::binary);
          data::read_csv(in, "/dev/zero", data::iris_classes());
        }) == "/dev/zero:1: the line is longer than 1048576 bytes (raise CsvLimits::max_line_bytes)");
  fails_fast([] {
    std::ifstream in("/dev/urandom", std::ios::binary);
    data::read_csv(in, "/dev/urandom", data::iris_classes());
  });
}

TEST_CASE("every reader refuses a FIFO without opening it (that would wait for a writer)", "[data][safetensors][errors]") {
  const std::string fifo = reader_dir("fifo") + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const auto& [reader, read] : readers(fifo)) {
    INFO(reader);
    CHECK(fails_fast(read, [&] { release_fifo(fifo); }) == expected(reader, fifo, "not a regular file (a FIFO)"));
  }
  struct stat st {};
  CHECK((::lstat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)));
}

TEST_CASE("a file one byte over the cap given in the call is refused, one at the cap is read", "[data][safetensors][errors]") {
  const std::string d = reader_dir("cap");
  put(d + "/eleven", "0123456789\n");
  CHECK(fails_fast([&] { io::read_file(d + "/eleven", "the file", 10); }) ==
        d + "/eleven: the file is 11 bytes, over the limit of 10 bytes (raise it with the max_bytes argument of "
            "kn::io::read_file)");
  CHECK(io::read_file(d + "/eleven", "the file", 11) == "0123456789\n");

  const std::string st = d + "/w.safetensors";
  save_safetensors(st, {{"w", Tensor::from_vector(std::vector<float>{1, 2, 3}, {3})}});
  const uint64_t size = std::filesystem::file_size(st);
  CHECK(fails_fast([&] { load_safetensors(st, size - 1); }) ==
        str(st, ": the safetensors file is ", size, " bytes, over the limit of ", size - 1,
            " bytes (raise it with the max_bytes argument of kn::load_safetensors)"));
  CHECK(load_safetensors(st, size)[0].second.to_vector<float>() == std::vector<float>{1, 2, 3});

  const std::string text = "a,species\n1,setosa\n";
  put(d + "/t.csv", text);
  data::CsvLimits limits;
  limits.max_bytes = text.size() - 1;
  CHECK(fails_fast([&] { data::read_csv(d + "/t.csv", data::iris_classes(), limits); }) ==
        str(d, "/t.csv: the data file is ", text.size(), " bytes, over the limit of ", text.size() - 1,
            " bytes (raise it with CsvLimits::max_bytes)"));
  // The stream reader counts what it takes, and stops at the first byte over.
  CHECK(fails_fast([&] { data::read_csv_text(text, "t.csv", data::iris_classes(), limits); }) ==
        str("t.csv: more than ", text.size() - 1, " bytes of CSV text (raise CsvLimits::max_bytes)"));
  limits.max_bytes = text.size();
  CHECK(data::read_csv(d + "/t.csv", data::iris_classes(), limits).y.numel() == 1);
  CHECK(data::read_csv_text(text, "t.csv", data::iris_classes(), limits).y.numel() == 1);
  const std::string rows = "a,species\n1.25,setosa\n";  // lines of 9 and 11 bytes
  limits = data::CsvLimits{};
  limits.max_line_bytes = 10;
  CHECK(fails_fast([&] { data::read_csv_text(rows, "t.csv", data::iris_classes(), limits); }) ==
        "t.csv:2: the line is longer than 10 bytes (raise CsvLimits::max_line_bytes)");
  limits.max_line_bytes = 11;
  CHECK(data::read_csv_text(rows, "t.csv", data::iris_classes(), limits).y.numel() == 1);
  // Lines longer than the reader's 4 kB pieces are put back together.
  const std::string wide = "a" + std::string(5000, ' ') + ",species\n" + std::string(9000, ' ') + "2.5,setosa\n";
  const auto ds = data::read_csv_text(wide, "wide.csv", data::iris_classes());
  CHECK(ds.X.at<float>(0, 0) == 2.5f);
  CHECK(ds.feature_names == std::vector<std::string>{"a"});
}

TEST_CASE("a sparse file over the default cap is refused at once", "[data][safetensors][errors]") {
  const std::string d = reader_dir("sparse");
  sparse(d + "/big", io::kMaxReadBytes + 1);
  CHECK(fails_fast([&] { io::read_file(d + "/big"); }) ==
        str(d, "/big: the file is ", io::kMaxReadBytes + 1, " bytes, over the limit of ", io::kMaxReadBytes,
            " bytes (raise it with the max_bytes argument of kn::io::read_file)"));
  CHECK(fails_fast([&] { load_safetensors(d + "/big"); }).find("over the limit of 2147483648 bytes") != std::string::npos);
  const uint64_t csv_cap = data::CsvLimits{}.max_bytes;
  CHECK(csv_cap == 256u << 20);
  sparse(d + "/big.csv", csv_cap + 1, "a,species\n");
  CHECK(fails_fast([&] { data::read_csv(d + "/big.csv", data::iris_classes()); }) ==
        str(d, "/big.csv: the data file is ", csv_cap + 1, " bytes, over the limit of ", csv_cap,
            " bytes (raise it with CsvLimits::max_bytes)"));
  std::filesystem::remove_all(d);
}

TEST_CASE("a safetensors header that claims more than the file holds fails before allocating", "[safetensors][errors]") {
  const std::string d = reader_dir("claims");
  const std::string huge = image("{}", uint64_t(1) << 60);
  CHECK(fails_fast([&] { safetensors::parse(huge, "f"); }) ==
        "f: header of 1152921504606846976 bytes is over the 100000000-byte limit");
  put(d + "/huge", huge);
  CHECK(fails_fast([&] { load_safetensors(d + "/huge"); }) ==
        d + "/huge: header of 1152921504606846976 bytes is over the 100000000-byte limit");
  put(d + "/past", image("{}", 1000));
  CHECK(fails_fast([&] { load_safetensors(d + "/past"); }) ==
        d + "/past: header length 1000 runs past the end of the file (10 bytes)");
  // Offsets that claim a terabyte of data in a file of a few dozen bytes.
  const std::string tera = image(R"({"w":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,1099511627776]}})");
  const std::string at = "tensor 'w': data_offsets [0, 1099511627776] out of range (the data section has 0 bytes)";
  CHECK(fails_fast([&] { safetensors::parse(tera, "f"); }) == "f: " + at);
  put(d + "/tera", tera);
  CHECK(fails_fast([&] { load_safetensors(d + "/tera"); }) == d + "/tera: " + at);
  // A 1 GiB file (under the cap) with a lying header: refused before any of it is read.
  sparse(d + "/lying", uint64_t(1) << 30, image("{}", uint64_t(1) << 60));
  CHECK(fails_fast([&] { load_safetensors(d + "/lying"); }) ==
        d + "/lying: header of 1152921504606846976 bytes is over the 100000000-byte limit");
  const std::string one = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  sparse(d + "/hole", uint64_t(1) << 30, image(one));
  CHECK(fails_fast([&] { load_safetensors(d + "/hole"); }) ==
        str(d, "/hole: the data section has ", (uint64_t(1) << 30) - 8 - one.size(),
            " bytes but the tensors cover 4 (a hole or trailing bytes)"));
  // A file cut short after its header was read: an error naming it, not garbage.
  put(d + "/short", image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})") + "1234");
  CHECK(fails_fast([&] { load_safetensors(d + "/short"); }).find(d + "/short: ") == 0);
  std::filesystem::remove_all(d);
}

TEST_CASE("a safetensors shape nested 100000 deep is an error, not a stack overflow", "[safetensors][errors]") {
  const size_t depth = 100000;  // enough to overflow an 8 MB stack through dump()
  const std::string header = R"({"w":{"dtype":"F32","shape":[)" + std::string(depth, '[') + std::string(depth, ']') +
                             R"(],"data_offsets":[0,0]}})";
  CHECK(error_of([&] { safetensors::parse(image(header), "f"); }) ==
        "f: tensor 'w': shape entries must be non-negative integers, got a JSON array");
  // A too-large first entry must not print a deep second one either.
  const std::string big = R"({"w":{"dtype":"F32","shape":[1099511627776,)" + std::string(depth, '[') +
                          std::string(depth, ']') + R"(],"data_offsets":[0,0]}})";
  CHECK(error_of([&] { safetensors::parse(image(big), "f"); }).find("got a JSON array") != std::string::npos);
  CHECK(error_of([&] { safetensors::parse(image(R"({"w":{"dtype":"F32","shape":[")" + std::string(100, 'x') +
                                                 R"("],"data_offsets":[0,0]}})"), "f"); })
            .find("got \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...") != std::string::npos);
}
