// kn::Shape: a tensor's sizes, one per dimension (PyTorch's torch.Size).
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include <kernelnet/error.hpp>

namespace kn {

// Up to 8 dimensions, kept inline so that making a tensor allocates only its data.
class Shape {
 public:
  static constexpr int kMaxDims = 8;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    KN_CHECK(dims.size() <= kMaxDims, "a shape has at most ", kMaxDims, " dimensions");
    for (int64_t d : dims) push_back(d);
  }
  explicit Shape(const std::vector<int64_t>& dims) {
    KN_CHECK(dims.size() <= kMaxDims, "a shape has at most ", kMaxDims, " dimensions");
    for (int64_t d : dims) push_back(d);
  }
  void push_back(int64_t d) {
    KN_CHECK(d >= 0, "shape ", str(), ": dimension ", n_, " is ", d, ", which is negative");
    KN_CHECK(n_ < kMaxDims, "a shape has at most ", kMaxDims, " dimensions");
    d_[n_++] = d;
  }
  int size() const { return n_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < n_; ++i) n *= d_[i];
    return n;
  }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(d_, d_ + n_); }
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
    return s + "]";
  }
  bool operator==(const Shape& o) const { return n_ == o.n_ && std::equal(d_, d_ + n_, o.d_); }
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

}  // namespace kn
