// std::cout << t: a tensor's values as PyTorch's print(t) / str(t) shows them, character
// for character, with PyTorch's default print options (precision 4, threshold 1000,
// edgeitems 3, linewidth 80, sci_mode None). It follows torch/_tensor_str.py:
//
//   tensor([[1., 2.],            float32: "1." when every value is an integer, else
//           [3., 4.]])           4 decimals ("0.1235"), or scientific ("1.0000e+05")
//   tensor([2, 0, 1])            when the values span more than 1000x, exceed 1e8, or
//   tensor([ True, False])       go below 1e-4; every element padded to one width.
//   tensor(3.)                   0-d
//   tensor([], size=(0, 3))      empty; int64/bool empties add ", dtype=torch.int64"
//
// Over 1000 elements, each dimension longer than 6 shows its first and last 3 entries
// around "...". Rows wrap at 80 columns. Suffixes come in PyTorch's order:
// ", device='cuda:0'", then size/dtype (empties only), then ", grad_fn=<AddBackward0>"
// for a tensor made by an op or ", requires_grad=True" for a leaf that requires grad.
// A tensor not on the CPU is copied to the host to be printed.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include <kernelnet/autograd.hpp>
#include <kernelnet/tensor.hpp>

namespace kn {
namespace detail::print {

// torch.set_printoptions(profile="default").
constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;  // more elements than this are summarised
constexpr int64_t kEdgeItems = 3;
constexpr int kLineWidth = 80;
constexpr int kIndent = 7;  // the length of "tensor("

// Python's "{:.Nf}" / "{:.Ne}" of a double: printf's, but a NaN is "nan" whatever its
// sign bit (glibc would print "-nan").
inline std::string number(double v, char conversion, int precision) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  const char spec[] = {'%', '.', '*', conversion, '\0'};
  char buf[400];  // "%.0f" of the largest double is 309 digits
  std::snprintf(buf, sizeof buf, spec, precision, v);
  return buf;
}

// Whether a dimension of size n is cut to its edge items.
inline bool cut(int64_t n, bool summarize) { return summarize && n > 2 * kEdgeItems; }

// The flat (row-major) index of every element that is shown, in order.
inline void shown(const Shape& s, int d, int64_t base, bool summarize, std::vector<int64_t>& out) {
  if (d == s.size()) {
    out.push_back(base);
    return;
  }
  const int64_t n = s[d];
  for (int64_t i = 0; i < n; ++i) {
    if (cut(n, summarize) && i == kEdgeItems) i = n - kEdgeItems;
    shown(s, d + 1, base * n + i, summarize, out);
  }
}

// PyTorch's _Formatter: picks the float style and the common width from the elements
// that are shown (all of them, or the summarised ones).
class Formatter {
 public:
  Formatter(const Tensor& t, const std::vector<int64_t>& idx) : t_(t) {
    if (t.dtype() != Dtype::Float32) {  // int64, bool: the widest str(value)
      for (int64_t i : idx) width_ = std::max(width_, raw(i).size());
      return;
    }
    // Only nonzero finite values decide; min/max and their ratio in double, as PyTorch.
    const float* p = t.data<float>();
    double lo = 0, hi = 0;
    bool any = false;
    for (int64_t i : idx) {
      const float v = p[i];
      if (!std::isfinite(v) || v == 0.0f) continue;
      const double a = std::fabs(double(v));
      lo = any ? std::min(lo, a) : a;
      hi = any ? std::max(hi, a) : a;
      any = true;
      if (v != std::ceil(v)) int_mode_ = false;
    }
    if (!any) return;  // all zero, inf or nan: integer style, width 1
    sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (int64_t i : idx) {
      const float v = p[i];
      if (!std::isfinite(v) || v == 0.0f) continue;
      // In integer style the width counts the "." that format() appends.
      const std::size_t w = sci_mode_ ? number(v, 'e', kPrecision).size()
                            : int_mode_ ? number(v, 'f', 0).size() + 1
                                        : number(v, 'f', kPrecision).size();
      width_ = std::max(width_, w);
    }
  }
  std::size_t width() const { return width_; }

  // Element i, padded on the left to the common width (never cut when wider).
  std::string operator()(int64_t i) const {
    std::string s = raw(i);
    if (s.size() < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  std::string raw(int64_t i) const {
    switch (t_.dtype()) {
      case Dtype::Int64: return std::to_string(t_.data<int64_t>()[i]);
      case Dtype::Bool: return static_cast<const unsigned char*>(t_.raw())[i] ? "True" : "False";
      case Dtype::Float32: break;
    }
    const double v = t_.data<float>()[i];
    if (sci_mode_) return number(v, 'e', kPrecision);
    if (int_mode_) return number(v, 'f', 0) + (std::isfinite(v) ? "." : "");
    return number(v, 'f', kPrecision);
  }

  const Tensor& t_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  std::size_t width_ = 1;
};

// _tensor_str_with_formatter: dimension d of the sub-tensor whose elements start at flat
// index base * size(d), written as if its "[" were at column `indent`.
inline std::string body(const Tensor& t, const Formatter& f, int d, int64_t base, int indent, bool summarize) {
  const Shape& s = t.shape();
  if (s.size() == 0) return f(0);
  const int64_t n = s[d];
  const bool last = d + 1 == s.size();
  std::vector<std::string> items;
  for (int64_t i = 0; i < n; ++i) {
    if (cut(n, summarize) && i == kEdgeItems) {
      items.push_back(last ? " ..." : "...");
      i = n - kEdgeItems;
    }
    items.push_back(last ? f(base * n + i) : body(t, f, d + 1, base * n + i, indent + 1, summarize));
  }
  std::string out = "[";
  if (last) {
    // _vector_str: as many elements per line as fit in the line width, at least one.
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / int64_t(f.width() + 2));
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (k > 0) out += k % per_line == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
      out += items[k];
    }
  } else {
    // Sub-tensors one per line, with (dims left - 1) blank lines between them.
    const std::string sep = "," + std::string(s.size() - d - 1, '\n') + std::string(indent + 1, ' ');
    for (std::size_t k = 0; k < items.size(); ++k) out += (k > 0 ? sep : "") + items[k];
  }
  return out + "]";
}

// str(tuple(shape)): "(0, 3)", "(0,)".
inline std::string tuple(const Shape& s) {
  std::string out = "(";
  for (int i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

// _str_intern for a dense tensor.
inline std::string repr(const Tensor& t) {
  if (!t.defined()) return "Tensor(undefined)";
  std::vector<std::string> suffixes;
  if (!t.device().is_cpu()) suffixes.push_back("device='" + t.device().str() + "'");
  std::string text = "tensor(";
  if (t.numel() == 0) {
    text += "[]";
    if (t.dim() != 1) suffixes.push_back("size=" + tuple(t.shape()));
    // PyTorch names the dtype of every empty tensor but the default (float32).
    if (t.dtype() != Dtype::Float32) suffixes.push_back(std::string("dtype=torch.") + dtype_name(t.dtype()));
  } else {
    // float32, int64 and bool are the dtypes PyTorch leaves unnamed.
    const Tensor host = t.cpu();
    const bool summarize = host.numel() > kThreshold;
    std::vector<int64_t> idx;
    shown(host.shape(), 0, 0, summarize, idx);
    const Formatter f(host, idx);
    text += body(host, f, 0, 0, kIndent, summarize);
  }
  if (t.grad_fn()) suffixes.push_back(std::string("grad_fn=<") + t.grad_fn()->name() + ">");
  else if (t.requires_grad()) suffixes.push_back("requires_grad=True");
  // _add_suffixes: a suffix that would pass the line width starts a new line. The last
  // line's length is counted as PyTorch counts it, len - rfind('\n') + 1 (2 more than it is).
  const std::size_t newline = text.rfind('\n');
  int64_t line = int64_t(text.size()) - (newline == std::string::npos ? -1 : int64_t(newline)) + 1;
  for (const std::string& suffix : suffixes) {
    const int64_t len = int64_t(suffix.size());
    if (line + len + 2 > kLineWidth) {
      text += ",\n" + std::string(kIndent, ' ') + suffix;
      line = kIndent + len;
    } else {
      text += ", " + suffix;
      line += len + 2;
    }
  }
  return text + ")";
}

}  // namespace detail::print

inline std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << detail::print::repr(t); }

}  // namespace kn
