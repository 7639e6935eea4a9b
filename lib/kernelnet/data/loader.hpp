// Mini-batches: kn::data::TensorDataset and kn::data::DataLoader, as libtorch's
// torch::data names them (and as PyTorch's torch.utils.data.TensorDataset and DataLoader
// behave).
//
//   kn::data::TensorDataset ds(X_train, y_train);        // rows of X paired with rows of y
//   kn::data::DataLoader loader(ds, kn::data::DataLoaderOptions().batch_size(16).shuffle(true).seed(0));
//   for (int epoch = 0; epoch < epochs; ++epoch)
//     for (auto& batch : loader) {                        // one pass = one epoch
//       kn::Tensor loss = criterion(model(batch.data), batch.target);
//       optimizer.zero_grad();
//       loss.backward();
//       optimizer.step();                                 // one SGD step per batch
//     }
//
// Why mini-batches. Full-batch gradient descent (the lesson's loop) takes one step per
// epoch, on the exact gradient of the whole training set. A mini-batch of B rows gives a
// noisier estimate of that gradient but costs B/N of the work, so an epoch takes N/B
// steps instead of one: usually far fewer epochs to converge. Shuffling the rows every
// epoch keeps each batch a fair sample and stops the steps from cycling through the same
// batches in the same order. A smaller B means more steps and more per-step overhead
// (on a GPU, every step is a dozen kernel launches however small B is: docs/minibatch.md).
//
// What the loader does, per epoch (each begin(), i.e. each range-for over it):
//   shuffle(false)  batch k is rows [k*B, k*B + B) of data and target: narrow(0, ...),
//                   a view that shares the dataset's memory (no copy, no kernel).
//   shuffle(true)   one kn::randperm(N) from the loader's own generator (seeded by
//                   seed(), so two runs, or two loaders with one seed, see the same
//                   orders), moved to the dataset's device once; batch k is rows
//                   perm[k*B .. k*B + B) (a narrow of it) gathered as index_select(0, idx)
//                   gathers them: one kernel for the data and one for the target, on the
//                   dataset's device (see batch() below).
//   The last batch has N % B rows when B does not divide N, unless drop_last(true)
//   drops it; size() is the number of batches an epoch yields.
//
// The global generator (kn::manual_seed, which initialises the weights) is never touched:
// adding a loader does not change a model's initial weights.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <utility>

#include <kernelnet/factories.hpp>
#include <kernelnet/math/indexing.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::data {

// One batch (or one row): the inputs and what the model should predict for them. Named as
// libtorch's torch::data::Example: batch.data, batch.target.
struct Example {
  Tensor data;    // [B, features...]: rows of the dataset's data
  Tensor target;  // [B, ...]: the same rows of its target (class indices, values)
};

// Two tensors whose rows pair up: row i of `data` goes with row i of `target`. Both must
// be defined, have at least one dimension (rows first), the same number of rows, and live
// on one device; the batches the loader makes are on that device.
class TensorDataset {
 public:
  TensorDataset(Tensor data, Tensor target) : data_(std::move(data)), target_(std::move(target)) {
    const char* where = "kn::data::TensorDataset";
    KN_CHECK(data_.defined(), where, ": the data tensor is undefined (a default-constructed kn::Tensor)");
    KN_CHECK(target_.defined(), where, ": the target tensor is undefined (a default-constructed kn::Tensor)");
    KN_CHECK(data_.dim() >= 1, where, ": the data needs at least one dimension, rows first; got ", data_.str());
    KN_CHECK(target_.dim() >= 1, where, ": the target needs at least one dimension, rows first; got ",
             target_.str());
    KN_CHECK(data_.size(0) == target_.size(0), where, ": the data has ", data_.size(0), " rows but the target has ",
             target_.size(0), " (data ", data_.str(), ", target ", target_.str(),
             "); every row of the data needs one row of the target");
    KN_CHECK(data_.device() == target_.device(), where, ": the data is on ", data_.device().str(),
             " but the target is on ", target_.device().str(), " (data ", data_.str(), ", target ", target_.str(),
             "); move both to one device with .to(device) first");
  }

  int64_t size() const { return data_.size(0); }  // rows (PyTorch: len(dataset))
  Device device() const { return data_.device(); }
  const Tensor& data() const { return data_; }
  const Tensor& target() const { return target_; }
  // Row i as a one-row batch (views): ds.get(i).data is [1, features...].
  Example get(int64_t i) const {
    KN_CHECK(i >= 0 && i < size(), "kn::data::TensorDataset::get(", i, "): out of range for ", size(), " rows");
    return {data_.narrow(0, i, 1), target_.narrow(0, i, 1)};
  }

 private:
  Tensor data_, target_;
};

// How a DataLoader batches, in libtorch's builder style: each setter returns the options,
// each getter has the setter's name without an argument.
//   kn::data::DataLoaderOptions().batch_size(16).shuffle(true).drop_last(false).seed(0)
class DataLoaderOptions {
 public:
  DataLoaderOptions() = default;
  explicit DataLoaderOptions(int64_t batch_size) : batch_size_(batch_size) {}  // as libtorch's

  DataLoaderOptions& batch_size(int64_t v) { batch_size_ = v; return *this; }
  DataLoaderOptions& shuffle(bool v) { shuffle_ = v; return *this; }
  DataLoaderOptions& drop_last(bool v) { drop_last_ = v; return *this; }
  DataLoaderOptions& seed(uint64_t v) { seed_ = v; return *this; }

  int64_t batch_size() const { return batch_size_; }  // rows per batch, >= 1 (PyTorch's default: 1)
  bool shuffle() const { return shuffle_; }           // a new random order every epoch
  bool drop_last() const { return drop_last_; }       // drop a last batch smaller than batch_size
  uint64_t seed() const { return seed_; }             // seeds the loader's own generator

 private:
  int64_t batch_size_ = 1;
  bool shuffle_ = false;
  bool drop_last_ = false;
  uint64_t seed_ = 0;
};

class DataLoader {
 public:
  DataLoader(TensorDataset dataset, DataLoaderOptions options = {})
      : dataset_(std::move(dataset)), options_(options), gen_(uint32_t(options.seed() & 0xffffffffULL)) {
    // The low 32 bits seed the MT19937, as kn::manual_seed does with its seed.
    KN_CHECK(options_.batch_size() >= 1, "kn::data::DataLoader: batch_size must be >= 1, got ",
             options_.batch_size(), " (DataLoaderOptions().batch_size(n))");
  }

  // Batches per epoch: ceil(N / B), or floor(N / B) with drop_last (PyTorch: len(loader)).
  int64_t size() const {
    const int64_t n = dataset_.size(), b = options_.batch_size();
    return options_.drop_last() ? n / b : (n + b - 1) / b;
  }
  const TensorDataset& dataset() const { return dataset_; }
  const DataLoaderOptions& options() const { return options_; }

  // An input iterator over one epoch's batches. Dereferencing makes the batch (views or
  // one gather each for data and target) the first time and keeps it until ++.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Example;
    using difference_type = std::ptrdiff_t;
    using pointer = Example*;
    using reference = Example&;

    Iterator() = default;
    Example& operator*() const {
      KN_CHECK(loader_ && index_ < loader_->size(), "kn::data::DataLoader: dereferencing the end of an epoch");
      if (made_ != index_) batch_ = loader_->batch(index_, order_), made_ = index_;
      return batch_;
    }
    Example* operator->() const { return &**this; }
    Iterator& operator++() {
      ++index_;
      batch_ = Example{};  // drop the last batch's tensors now, not one batch later
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& o) const { return index_ == o.index_; }
    bool operator!=(const Iterator& o) const { return !(*this == o); }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, int64_t index, Tensor order)
        : loader_(loader), index_(index), order_(std::move(order)) {}
    const DataLoader* loader_ = nullptr;
    int64_t index_ = 0;
    Tensor order_;  // this epoch's permutation on the dataset's device (undefined: in order)
    mutable Example batch_;
    mutable int64_t made_ = -1;
  };

  // Starts an epoch: with shuffle, draws this epoch's order. Every call is a new epoch
  // (a range-for calls it once), so keep one iterator for a pass over the data.
  Iterator begin() {
    Tensor order;
    if (options_.shuffle() && dataset_.size() > 0)
      order = randperm(dataset_.size(), gen_).to(dataset_.device());  // one copy per epoch
    return Iterator(this, 0, std::move(order));
  }
  Iterator end() const { return Iterator(this, size(), Tensor()); }

 private:
  // Batch k of an epoch whose order is `order` (undefined: the rows in order).
  Example batch(int64_t k, const Tensor& order) const {
    const int64_t b = options_.batch_size(), start = k * b;
    const int64_t rows = std::min(b, dataset_.size() - start);
    const Tensor& X = dataset_.data();
    const Tensor& y = dataset_.target();
    if (!order.defined()) return {X.narrow(0, start, rows), y.narrow(0, start, rows)};
    const Tensor idx = order.narrow(0, start, rows);  // a view of the permutation: no copy
    // The permutation holds each row index once by construction, so the gather skips
    // index_select's host-side check of every index: on a GPU that check copies the
    // index back and waits for the device, twice per batch.
    return {kn::detail::gather("IndexSelectBackward0", X, 0, idx),
            kn::detail::gather("IndexSelectBackward0", y, 0, idx)};
  }

  TensorDataset dataset_;
  DataLoaderOptions options_;
  std::mt19937 gen_;
};

}  // namespace kn::data
