// What the DataLoader tests (tests/test_dataloader.cpp, tests/gpu/test_dataloader.cpp)
// share: a dataset whose every row says which it is, and the rows of a loader's epoch.
#pragma once
#include <catch2/catch.hpp>

#include <vector>

#include <kernelnet/kernelnet.hpp>

namespace kn::test {

// N rows: data row i is [i, 100 + i] (float), target row i is 1000 + i (int64), so any
// batch says which rows it holds and whether data and target still pair up.
inline data::TensorDataset numbered(int64_t n, Device device = Device::cpu()) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) x.push_back(float(i)), x.push_back(float(100 + i)), y.push_back(1000 + i);
  return data::TensorDataset(Tensor::from_vector(x, Shape{n, 2}).to(device), Tensor::from_vector(y, Shape{n}).to(device));
}

// The dataset rows of one batch, read from its data's first column, after checking that
// every data row and target row in it belong to the same dataset row.
inline std::vector<int64_t> rows_of(const data::Example& b) {
  const auto x = b.data.to_vector<float>();
  const auto y = b.target.to_vector<int64_t>();
  REQUIRE(x.size() == 2 * y.size());
  std::vector<int64_t> rows;
  for (size_t k = 0; k < y.size(); ++k) {
    const auto r = int64_t(x[2 * k]);
    CHECK(x[2 * k + 1] == float(100 + r));  // the row stays whole
    CHECK(y[k] == 1000 + r);                // and keeps its target
    rows.push_back(r);
  }
  return rows;
}

// One epoch: the rows of each batch, in order.
inline std::vector<std::vector<int64_t>> epoch(data::DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (auto& batch : loader) out.push_back(rows_of(batch));
  return out;
}

}  // namespace kn::test
