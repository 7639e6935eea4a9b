// libFuzzer target: kn::data::read_csv on arbitrary text, with the Iris classes. Bad
// input must give a kn::Error naming the file; what it accepts must be a well-formed
// dataset: finite float32 features, labels that index the classes. Built with
// libFuzzer by fuzz/CMakeLists.txt, and without it as the corpus replay test.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <kernelnet/data.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto& classes = kn::data::iris_classes();
  kn::data::Dataset ds;
  if (!kn::fuzz::accepts("fuzz.csv:", [&] { ds = kn::data::read_csv_text(text, "fuzz.csv", classes); })) return 0;
  const int64_t rows = ds.y.numel();
  if (rows < 1 || ds.X.dim() != 2 || ds.y.dim() != 1 || ds.X.size(0) != rows || ds.X.size(1) < 1 ||
      ds.X.size(1) != int64_t(ds.feature_names.size()))
    kn::fuzz::finding("the dataset's shapes disagree: X " + ds.X.shape().str() + ", y " + ds.y.shape().str());
  const float* x = ds.X.data<float>();
  for (int64_t i = 0; i < ds.X.numel(); ++i)
    if (!std::isfinite(x[i])) kn::fuzz::finding("a feature is not finite");
  const int64_t* y = ds.y.data<int64_t>();
  for (int64_t i = 0; i < rows; ++i)
    if (y[i] < 0 || y[i] >= int64_t(classes.size())) kn::fuzz::finding("a label is out of range");
  return 0;
}
