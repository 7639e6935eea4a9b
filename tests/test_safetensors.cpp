// safetensors: round trips, the PyTorch fixture, and every malformed file we can think of.
#include <fstream>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;
using kn::test::MLP;

namespace {
std::string tmp(const std::string& name) { return std::string(KN_BINARY_DIR) + "/st-" + name; }
// A safetensors image with the given header text and data bytes.
std::string image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + data;
}
std::string parse_error(const std::string& header, const std::string& data) {
  return error_of([&] { safetensors::parse(image(header, data), "f.safetensors"); });
}
}  // namespace

TEST_CASE("a module's weights round-trip through a safetensors file", "[safetensors]") {
  manual_seed(1);
  MLP a;
  save(a, tmp("roundtrip.safetensors"));
  manual_seed(2);
  MLP b;
  CHECK(b.fc1.weight.to_vector<float>() != a.fc1.weight.to_vector<float>());
  load(b, tmp("roundtrip.safetensors"));
  for (auto& [name, p] : a.state_dict()) {
    Tensor q;
    for (auto& [n2, p2] : b.state_dict())
      if (n2 == name) q = p2;
    INFO(name);
    CHECK(p.to_vector<float>() == q.to_vector<float>());
  }
  auto raw = load_safetensors(tmp("roundtrip.safetensors"));
  REQUIRE(raw.size() == 4);
  CHECK(raw[0].first == "fc1.weight");
  CHECK(raw[0].second.shape() == Shape{10, 4});
}

TEST_CASE("int64 tensors and empty tensors round-trip", "[safetensors]") {
  NamedTensors t{{"labels", Tensor::from_vector<int64_t>({3, -1, 7})}, {"empty", Tensor::empty({0, 4})}};
  save_safetensors(tmp("i64.safetensors"), t);
  auto back = load_safetensors(tmp("i64.safetensors"));
  REQUIRE(back.size() == 2);
  CHECK(back[0].second.to_vector<int64_t>() == std::vector<int64_t>{3, -1, 7});
  CHECK(back[1].second.shape() == Shape{0, 4});
}

TEST_CASE("bool tensors round-trip as BOOL; a byte other than 0 or 1 is refused", "[safetensors]") {
  NamedTensors t{{"mask", kn::tensor({1.f, 0.f, 2.f}) > 0.5f}};
  const std::string bytes = safetensors::serialize(t);
  CHECK(bytes.find("\"BOOL\"") != std::string::npos);
  save_safetensors(tmp("bool.safetensors"), t);
  auto back = load_safetensors(tmp("bool.safetensors"));
  REQUIRE(back.size() == 1);
  CHECK(back[0].second.dtype() == Dtype::Bool);
  CHECK(back[0].second.to(kInt64).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
  std::string bad = bytes;
  bad[bad.size() - 1] = 2;  // the last element's byte
  CHECK_THROWS_WITH(safetensors::parse(bad, "m.safetensors"),
                    "m.safetensors: tensor 'mask': BOOL element 2 is the byte 2, not 0 or 1");
}

TEST_CASE("PyTorch's init.safetensors loads into the C++ model", "[safetensors]") {
  MLP m;
  load(m, test::fixture("torch-iris-seed1/init.safetensors"));
  // torch.manual_seed(1) then nn.Linear(4, 10): weights within 1/sqrt(4)
  for (float w : m.fc1.weight.to_vector<float>()) CHECK(std::fabs(w) <= 0.5f);
  CHECK(m.fc1.weight.at<float>(0, 0) != 0.0f);
}

TEST_CASE("loading names the missing, unexpected or mis-shaped tensor and changes nothing", "[safetensors][errors]") {
  manual_seed(1);
  MLP m;
  const auto before = m.fc1.weight.to_vector<float>();
  auto sd = m.state_dict();
  NamedTensors missing(sd.begin(), sd.end() - 1);
  CHECK(error_of([&] { load_state_dict(m, missing, "w.st"); }) == "w.st: missing tensor 'fc2.bias' (expected shape [3])");
  NamedTensors extra = sd;
  extra.push_back({"fc3.weight", Tensor::zeros({2, 2})});
  CHECK(error_of([&] { load_state_dict(m, extra, "w.st"); }) ==
        "w.st: unexpected tensor 'fc3.weight' ([2, 2]): the model has no such parameter");
  NamedTensors shaped = sd;
  shaped[0].second = Tensor::zeros({10, 5});
  CHECK(error_of([&] { load_state_dict(m, shaped, "w.st"); }) ==
        "w.st: tensor 'fc1.weight' has shape [10, 5], the model expects [10, 4]");
  NamedTensors typed = sd;
  typed[1].second = Tensor::from_vector<int64_t>(std::vector<int64_t>(10, 0));
  CHECK(error_of([&] { load_state_dict(m, typed, "w.st"); }).find("'fc1.bias' is int64") != std::string::npos);
  CHECK(m.fc1.weight.to_vector<float>() == before);
}

TEST_CASE("malformed files get one clear error each", "[safetensors][errors]") {
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data8(8, '\0');
  CHECK(parse_error(ok, data8).empty());
  CHECK(error_of([] { safetensors::parse("abc", "f"); }).find("truncated") != std::string::npos);
  {
    std::string img = image(ok, data8);
    img[0] = char(200);  // header length beyond the file
    CHECK(error_of([&] { safetensors::parse(img, "f"); }).find("runs past the end") != std::string::npos);
    img = image(ok, data8);
    img[4] = char(1);  // 2^32 + ...: over the 100 MB limit
    CHECK(error_of([&] { safetensors::parse(img, "f"); }).find("over the") != std::string::npos);
  }
  CHECK(parse_error("{not json", data8).find("not valid JSON") != std::string::npos);
  CHECK(parse_error("[1,2]", "").find("JSON object") != std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "1234") ==
        "f.safetensors: tensor 'a': unsupported dtype 'F16' (kernelnet reads F32, I64 and BOOL)");
  CHECK(parse_error(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,4]}})", "1234").find("unknown dtype 'Q7'") !=
        std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8) ==
        "f.safetensors: tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets span 8");
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", data8).find("out of range") !=
        std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                    data8)
            .find("overlaps") != std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", data8).find("hole") !=
        std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8).find("non-negative") !=
        std::string::npos);
  CHECK(parse_error(R"({"a":{"dtype":"F32","shape":[2]}})", data8).find("data_offsets") != std::string::npos);
  CHECK(parse_error(R"({"a":5})", "").find("expected an object") != std::string::npos);
}

TEST_CASE("a failed save leaves the old file whole", "[safetensors][errors]") {
  const std::string path = tmp("keep.safetensors");
  save_safetensors(path, {{"x", Tensor::full({2}, 1.0f)}});
  // a tensor that cannot be written (undefined) makes the save fail before the rename
  CHECK_FALSE(error_of([&] { save_safetensors(path, {{"x", Tensor::full({2}, 2.0f)}, {"y", Tensor()}}); }).empty());
  CHECK(load_safetensors(path)[0].second.to_vector<float>() == std::vector<float>{1.0f, 1.0f});
  CHECK_FALSE(error_of([] { save_safetensors("/nonexistent-dir/w.safetensors", {{"x", Tensor::zeros({1})}}); }).empty());
}
