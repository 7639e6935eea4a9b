// kn::data::TensorDataset and kn::data::DataLoader (<kernelnet/data/loader.hpp>): batch
// sizes, the last partial batch, drop_last, one new permutation per epoch, seeds,
// row pairing, the unshuffled order (views), and the errors. On a GPU:
// tests/gpu/test_dataloader.cpp.
#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "dataloader_rows.hpp"
#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;
using kn::test::epoch;
using kn::test::numbered;
using kn::test::rows_of;

namespace {

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> v;
  for (auto& b : batches) v.insert(v.end(), b.begin(), b.end());
  return v;
}

std::vector<size_t> sizes(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<size_t> v;
  for (auto& b : batches) v.push_back(b.size());
  return v;
}

}  // namespace

TEST_CASE("TensorDataset: size() is the row count, get(i) one row of each", "[data]") {
  auto ds = numbered(7);
  CHECK(ds.size() == 7);
  CHECK(ds.device() == Device::cpu());
  auto row = ds.get(3);
  CHECK(row.data.shape() == Shape{1, 2});
  CHECK(rows_of(row) == std::vector<int64_t>{3});
  CHECK(error_of([&] { ds.get(7); }) == "kn::data::TensorDataset::get(7): out of range for 7 rows");
}

TEST_CASE("DataLoader: batches of batch_size, the last partial batch kept", "[data]") {
  data::DataLoader loader(numbered(10), data::DataLoaderOptions().batch_size(4));
  CHECK(loader.size() == 3);
  auto batches = epoch(loader);
  CHECK(sizes(batches) == std::vector<size_t>{4, 4, 2});
  data::DataLoader exact(numbered(12), data::DataLoaderOptions().batch_size(4));
  CHECK(exact.size() == 3);
  CHECK(sizes(epoch(exact)) == std::vector<size_t>{4, 4, 4});
  // Shapes: [B, features] and [B].
  for (auto& b : loader) {
    CHECK(b.data.dim() == 2);
    CHECK(b.data.size(1) == 2);
    CHECK(b.target.shape() == Shape{b.data.size(0)});
  }
  // One batch bigger than the dataset is the whole dataset.
  data::DataLoader big(numbered(5), data::DataLoaderOptions().batch_size(64).shuffle(true));
  CHECK(big.size() == 1);
  CHECK(sizes(epoch(big)) == std::vector<size_t>{5});
}

TEST_CASE("DataLoader: drop_last drops the partial batch, and only that", "[data]") {
  for (bool shuffle : {false, true}) {
    INFO("shuffle " << shuffle);
    data::DataLoader loader(numbered(10), data::DataLoaderOptions().batch_size(4).drop_last(true).shuffle(shuffle));
    CHECK(loader.size() == 2);
    auto batches = epoch(loader);
    CHECK(sizes(batches) == std::vector<size_t>{4, 4});
    std::set<int64_t> seen;
    for (int64_t r : flat(batches)) seen.insert(r);
    CHECK(seen.size() == 8);  // 8 different rows
    data::DataLoader exact(numbered(8), data::DataLoaderOptions().batch_size(4).drop_last(true).shuffle(shuffle));
    CHECK(sizes(epoch(exact)) == std::vector<size_t>{4, 4});  // nothing to drop
    data::DataLoader tiny(numbered(3), data::DataLoaderOptions().batch_size(4).drop_last(true).shuffle(shuffle));
    CHECK(tiny.size() == 0);
    CHECK(epoch(tiny).empty());
  }
}

TEST_CASE("DataLoader: without shuffle, the rows in order, as views of the dataset", "[data]") {
  auto ds = numbered(10);
  data::DataLoader loader(ds, data::DataLoaderOptions().batch_size(3));
  const std::vector<std::vector<int64_t>> want{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}};
  CHECK(epoch(loader) == want);
  CHECK(epoch(loader) == want);  // every epoch the same
  int64_t k = 0;
  for (auto& b : loader) {  // each batch shares the dataset's memory: no copy
    CHECK(b.data.raw() == static_cast<char*>(ds.data().raw()) + k * 3 * 2 * sizeof(float));
    CHECK(b.target.raw() == static_cast<char*>(ds.target().raw()) + k * 3 * sizeof(int64_t));
    ++k;
  }
  CHECK(k == 4);
}

TEST_CASE("DataLoader: shuffle gives every epoch a new permutation covering each row once", "[data]") {
  const int64_t n = 50;
  data::DataLoader loader(numbered(n), data::DataLoaderOptions().batch_size(8).shuffle(true).seed(3));
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::set<std::vector<int64_t>> orders;
  for (int e = 0; e < 5; ++e) {
    auto batches = epoch(loader);  // rows_of checks data and target pair up in every batch
    CHECK(sizes(batches) == std::vector<size_t>{8, 8, 8, 8, 8, 8, 2});
    std::vector<int64_t> order = flat(batches);
    CHECK(order != all);  // shuffled (50! orders: the identity is no real risk)
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == all);  // a permutation: every row exactly once
    orders.insert(order);
  }
  CHECK(orders.size() == 5);  // each epoch its own order
}

TEST_CASE("DataLoader: the same seed gives the same orders, another seed others", "[data]") {
  auto opts = data::DataLoaderOptions().batch_size(7).shuffle(true).seed(42);
  data::DataLoader a(numbered(30), opts), b(numbered(30), opts);
  data::DataLoader c(numbered(30), data::DataLoaderOptions(opts).seed(43));
  std::vector<std::vector<int64_t>> first_a;
  for (int e = 0; e < 3; ++e) {
    auto ea = epoch(a), eb = epoch(b), ec = epoch(c);
    CHECK(ea == eb);
    CHECK(flat(ea) != flat(ec));
    if (e == 0) first_a = ea;
    else CHECK(ea != first_a);
  }
  // The global generator (kn::manual_seed, the weights' initialisation) plays no part,
  // and the loader draws nothing from it.
  manual_seed(1);
  const float before = rand({1}).item();
  manual_seed(1);
  data::DataLoader d(numbered(30), opts);
  auto ed = epoch(d);
  CHECK(rand({1}).item() == before);
  manual_seed(99);
  data::DataLoader e(numbered(30), opts);
  CHECK(epoch(e) == ed);
}

TEST_CASE("DataLoader: manual iteration, and begin() starts a new epoch", "[data]") {
  data::DataLoader loader(numbered(6), data::DataLoaderOptions().batch_size(4).shuffle(true).seed(5));
  auto it = loader.begin();
  const auto first = rows_of(*it);
  CHECK(rows_of(*it) == first);   // dereferencing twice gives the same batch
  CHECK(it->data.size(0) == 4);
  ++it;
  CHECK(it != loader.end());
  CHECK(it->data.size(0) == 2);
  ++it;
  CHECK(it == loader.end());
  CHECK_THROWS_WITH(*it, "kn::data::DataLoader: dereferencing the end of an epoch");
  CHECK(std::distance(loader.begin(), loader.end()) == 2);
}

TEST_CASE("DataLoader: gradients flow through a shuffled batch to the data", "[data]") {
  Tensor X = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  X.requires_grad_();
  data::DataLoader loader(data::TensorDataset(X, Tensor::from_vector<int64_t>({0, 1, 2})),
                          data::DataLoaderOptions().batch_size(2).shuffle(true));
  auto it = loader.begin();
  it->data.sum().backward();  // rows of the first batch get 1, the other row 0
  const auto g = X.grad().to_vector<float>();
  const auto y = it->target.to_vector<int64_t>();
  for (int64_t r = 0; r < 3; ++r) {
    const float want = std::count(y.begin(), y.end(), r) ? 1.0f : 0.0f;
    CHECK(g[size_t(2 * r)] == want);
    CHECK(g[size_t(2 * r + 1)] == want);
  }
}

TEST_CASE("DataLoader and TensorDataset: bad input is an error that says what and where", "[data]") {
  const Tensor X = Tensor::zeros({4, 2});
  const Tensor y = Tensor::from_vector<int64_t>({0, 1, 2, 0});
  CHECK(error_of([&] { data::DataLoader(data::TensorDataset(X, y), data::DataLoaderOptions().batch_size(0)); }) ==
        "kn::data::DataLoader: batch_size must be >= 1, got 0 (DataLoaderOptions().batch_size(n))");
  CHECK(error_of([&] { data::DataLoader(data::TensorDataset(X, y), data::DataLoaderOptions(-3)); }) ==
        "kn::data::DataLoader: batch_size must be >= 1, got -3 (DataLoaderOptions().batch_size(n))");
  CHECK(error_of([&] { data::TensorDataset(X, Tensor::from_vector<int64_t>({0, 1, 2})); }) ==
        "kn::data::TensorDataset: the data has 4 rows but the target has 3 (data Tensor([4, 2], float32, cpu), "
        "target Tensor([3], int64, cpu)); every row of the data needs one row of the target");
  CHECK(error_of([&] { data::TensorDataset(Tensor(), y); }) ==
        "kn::data::TensorDataset: the data tensor is undefined (a default-constructed kn::Tensor)");
  CHECK(error_of([&] { data::TensorDataset(X, Tensor()); }) ==
        "kn::data::TensorDataset: the target tensor is undefined (a default-constructed kn::Tensor)");
  CHECK_THAT(error_of([&] { data::TensorDataset(X.sum(), y); }),
             Catch::StartsWith("kn::data::TensorDataset: the data needs at least one dimension, rows first; got "));
  if (cuda::is_available()) {
    CHECK(error_of([&] { data::TensorDataset(X, y.to(Device::cuda(0))); }) ==
          "kn::data::TensorDataset: the data is on cpu but the target is on cuda:0 (data Tensor([4, 2], float32, "
          "cpu), target Tensor([4], int64, cuda:0)); move both to one device with .to(device) first");
  }
}
