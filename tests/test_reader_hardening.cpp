// The readers against what fuzzing and the sanitizers turned up (see fuzz/README.md).
#include <fstream>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;

namespace {
std::string image(const std::string& header) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header;
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
  CHECK(error_of([&] { data::read_csv(dir, data::iris_classes()); }) == dir + ": cannot read the data file: Is a directory");
  CHECK(error_of([&] { load_safetensors(dir); }) == dir + ": cannot read safetensors file: Is a directory");
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
