// Data: the Iris CSV, scikit-learn's train_test_split, and MinMaxScaler.
#pragma once
#include <cerrno>
#include <charconv>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <kernelnet/io.hpp>
#include <kernelnet/tensor.hpp>

namespace kn::data {

struct Dataset {
  Tensor X;  // [rows, features] float32
  Tensor y;  // [rows] int64 class indices
  std::vector<std::string> feature_names;
  std::vector<std::string> class_names;
};

// What read_csv takes in at most: a stream with no end (/dev/zero) fails at once.
struct CsvLimits {
  uint64_t max_bytes = uint64_t(256) << 20;     // the whole text: 256 MiB (Iris is 4.5 kB)
  uint64_t max_line_bytes = uint64_t(1) << 20;  // one line: 1 MiB
};

namespace detail {
// Line `lineno` without its '\n' (false at the end), taken in pieces so that a line with
// no end stops at the limits; `total` counts the bytes taken. A read error (a directory,
// EIO) must not pass for the end of the file.
inline bool next_line(std::istream& in, std::string& line, uint64_t& total, const CsvLimits& limits,
                      const std::string& path, int lineno) {
  char buf[4096];
  for (line.clear();; in.clear()) {  // in.clear(): the failbit of a full buffer
    in.getline(buf, sizeof buf);
    KN_CHECK(!in.bad(), path, ": cannot read the data file: ", std::strerror(errno));
    const size_t n = size_t(in.gcount());      // with the '\n' when one was taken
    const bool full = in.fail() && !in.eof();  // the buffer filled before a '\n'
    line.append(buf, full || in.eof() ? n : n - 1);
    KN_CHECK((total += n) <= limits.max_bytes, path, ": more than ", limits.max_bytes,
             " bytes of CSV text (raise CsvLimits::max_bytes)");
    KN_CHECK(line.size() <= limits.max_line_bytes, path, ":", lineno, ": the line is longer than ",
             limits.max_line_bytes, " bytes (raise CsvLimits::max_line_bytes)");
    if (!full) return n > 0 || !line.empty();
  }
}
inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  for (const char c : line)
    if (c == ',') out.emplace_back();
    else out.back() += c;
  return out;
}
inline std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}
}  // namespace detail

// Reads a CSV with a header row: numeric feature columns, then a class column whose values
// are names from `classes` (their index is the label), no more than `limits`. Every error
// names the source (`path`: a file name, or whatever names the stream), line and column.
inline Dataset read_csv(std::istream& in, const std::string& path, const std::vector<std::string>& classes,
                        const CsvLimits& limits = {}) {
  std::string line;
  int lineno = 0;
  uint64_t total = 0;
  const auto next = [&] { return detail::next_line(in, line, total, limits, path, ++lineno); };
  std::vector<std::string> header;
  while (header.empty() && next())
    if (!detail::trim(line).empty()) header = detail::split_csv_line(detail::trim(line));
  if (header.empty()) throw Error(str(path, ": the file is empty (expected a header row and data rows)"));
  KN_CHECK(header.size() >= 2, path, ":", lineno, ": the header has ", header.size(),
           " column; expected feature columns and a class column");
  const size_t cols = header.size(), features = cols - 1;
  Dataset ds;
  for (size_t c = 0; c < features; ++c) ds.feature_names.push_back(detail::trim(header[c]));
  ds.class_names = classes;
  std::vector<float> X;
  std::vector<int64_t> y;
  while (next()) {
    const std::string row = detail::trim(line);
    if (row.empty()) continue;
    const auto fields = detail::split_csv_line(row);
    KN_CHECK(fields.size() == cols, path, ":", lineno, ": ", fields.size(), " columns, expected ", cols, " (",
             "header: ", detail::trim(line).empty() ? "" : header[0], " ... ", header.back(), ")");
    for (size_t c = 0; c < features; ++c) {
      const std::string f = detail::trim(fields[c]);
      char* end = nullptr;
      errno = 0;
      const double v = f.empty() ? 0.0 : std::strtod(f.c_str(), &end);
      KN_CHECK(!f.empty() && end == f.c_str() + f.size() && errno != ERANGE, path, ":", lineno, ":", c + 1, ": '", f,
               "' is not a number (column ", ds.feature_names[c], ")");
      KN_CHECK(std::isfinite(v), path, ":", lineno, ":", c + 1, ": '", f, "' is not a finite number (column ",
               ds.feature_names[c], ")");
      // A finite double can still overflow float32 (1e39): it would become inf.
      KN_CHECK(std::isfinite(float(v)), path, ":", lineno, ":", c + 1, ": '", f,
               "' is out of the float32 range (column ", ds.feature_names[c], ")");
      X.push_back(float(v));
    }
    const std::string name = detail::trim(fields.back());
    int64_t label = -1;
    for (size_t k = 0; k < classes.size(); ++k)
      if (name == classes[k] || name == "Iris-" + classes[k]) label = int64_t(k);
    if (label < 0) {
      std::string known;
      for (auto& k : classes) known += (known.empty() ? "" : ", ") + k;
      throw Error(str(path, ":", lineno, ":", cols, ": unknown class '", name, "' (expected one of: ", known, ")"));
    }
    y.push_back(label);
  }
  KN_CHECK(!y.empty(), path, ": no data rows after the header");
  const int64_t rows = int64_t(y.size());
  ds.X = Tensor::from_vector(X, {rows, int64_t(features)});
  ds.y = Tensor::from_vector(y, {rows});
  return ds;
}

// The same from text in memory; `where` stands for the file name in errors.
inline Dataset read_csv_text(const std::string& text, const std::string& where,
                             const std::vector<std::string>& classes, const CsvLimits& limits = {}) {
  std::istringstream in(text);
  return read_csv(in, where, classes, limits);
}

// A regular file only: a directory, a FIFO or a device is an error before it is opened.
inline Dataset read_csv(const std::string& path, const std::vector<std::string>& classes,
                        const CsvLimits& limits = {}) {
  return read_csv_text(io::read_file(path, "the data file", limits.max_bytes, "CsvLimits::max_bytes"), path,
                       classes, limits);
}

// Where iris.csv lives: $KN_DATA_DIR, else the directory the build or the installed
// package recorded (KN_DATA_DIR at compile time).
inline std::string default_data_dir() {
  if (const char* env = std::getenv("KN_DATA_DIR"); env && *env) return env;
#ifdef KN_DATA_DIR
  return KN_DATA_DIR;
#else
  return "data";
#endif
}

inline const std::vector<std::string>& iris_classes() {
  static const std::vector<std::string> names{"setosa", "versicolor", "virginica"};
  return names;
}

// Fisher's 150 Iris rows: X [150, 4] float32, y [150] int64 (setosa 0, versicolor 1, virginica 2).
inline Dataset load_iris(const std::string& path = "") {
  Dataset ds = read_csv(path.empty() ? default_data_dir() + "/iris.csv" : path, iris_classes());
  KN_CHECK(ds.X.size(1) == 4, (path.empty() ? default_data_dir() + "/iris.csv" : path), ": Iris has 4 features, the file has ",
           ds.X.size(1));
  return ds;
}

struct Split {
  Tensor X_train, X_test, y_train, y_test;
  std::vector<int64_t> train_index, test_index;
};

// numpy.random.RandomState(seed).permutation(n): Fisher-Yates from the end, each j
// drawn from MT19937 as a 32-bit output masked to the smallest all-ones mask >= i and
// redrawn while j > i (numpy's legacy random_interval).
inline std::vector<int64_t> numpy_permutation(int64_t n, uint32_t seed) {
  std::vector<int64_t> a(n);
  for (int64_t i = 0; i < n; ++i) a[i] = i;
  std::mt19937 gen(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    uint64_t mask = uint64_t(i);
    for (int s = 1; s <= 32; s <<= 1) mask |= mask >> s;
    uint64_t j;
    do {
      j = gen() & mask;
    } while (j > uint64_t(i));
    std::swap(a[i], a[j]);
  }
  return a;
}

namespace detail {
inline Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  const int64_t width = t.dim() == 2 ? t.size(1) : 1;
  const std::size_t es = dtype_size(t.dtype());
  Shape shape = t.dim() == 2 ? Shape{int64_t(rows.size()), width} : Shape{int64_t(rows.size())};
  Tensor out = Tensor::empty(shape, t.dtype());
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(out.raw());
  for (size_t i = 0; i < rows.size(); ++i) std::memcpy(dst + i * width * es, src + rows[i] * width * es, width * es);
  return out;
}
}  // namespace detail

// sklearn.model_selection.train_test_split(X, y, test_size=..., random_state=seed):
// the test set is the first ceil(test_size * n) indices of the permutation, the
// training set the next floor((1 - test_size) * n), in that order.
inline Split train_test_split(const Tensor& X, const Tensor& y, double test_size, uint32_t seed) {
  KN_CHECK(X.defined() && y.defined(), "train_test_split: undefined X or y");
  KN_CHECK(X.device().is_cpu() && y.device().is_cpu(), "train_test_split: X and y must be on the CPU");
  KN_CHECK(X.dim() == 2 && y.dim() == 1 && X.size(0) == y.size(0), "train_test_split: X ", X.shape().str(), " and y ",
           y.shape().str(), " must have the same number of rows");
  KN_CHECK(test_size > 0.0 && test_size < 1.0, "train_test_split: test_size must be in (0, 1), got ", test_size);
  const int64_t n = X.size(0);
  const int64_t n_test = int64_t(std::ceil(test_size * double(n)));
  const int64_t n_train = int64_t(std::floor((1.0 - test_size) * double(n)));
  KN_CHECK(n_test >= 1 && n_train >= 1, "train_test_split: test_size ", test_size, " of ", n, " rows leaves ", n_train,
           " training and ", n_test, " test rows; each needs at least one");
  const auto perm = numpy_permutation(n, seed);
  Split s;
  s.test_index.assign(perm.begin(), perm.begin() + n_test);
  s.train_index.assign(perm.begin() + n_test, perm.begin() + n_test + n_train);
  s.X_train = detail::take_rows(X, s.train_index);
  s.X_test = detail::take_rows(X, s.test_index);
  s.y_train = detail::take_rows(y, s.train_index);
  s.y_test = detail::take_rows(y, s.test_index);
  return s;
}

namespace detail {
// A float as the double its shortest decimal spelling denotes: 5.1f -> 5.1, not
// 5.099999904632568. Data read from text (as Iris is) thus reaches the scaler as
// the same doubles that numpy parses from the same text, so the scaled values match
// scikit-learn's to the last bit.
inline double widen(float v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  *res.ptr = '\0';
  return std::strtod(buf, nullptr);
}
}  // namespace detail

// sklearn.preprocessing.MinMaxScaler to [0, 1], fitted on one set of rows; the maths
// in double, the result stored as float32.
class MinMaxScaler {
 public:
  MinMaxScaler& fit(const Tensor& X) {
    check(X, "fit");
    const int64_t rows = X.size(0), cols = X.size(1);
    KN_CHECK(rows > 0, "MinMaxScaler::fit: no rows");
    const float* p = X.data<float>();
    data_min_.assign(cols, INFINITY);
    data_max_.assign(cols, -INFINITY);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        data_min_[c] = std::min(data_min_[c], detail::widen(p[r * cols + c]));
        data_max_[c] = std::max(data_max_[c], detail::widen(p[r * cols + c]));
      }
    scale_.resize(cols);
    min_.resize(cols);
    for (int64_t c = 0; c < cols; ++c) {
      double range = data_max_[c] - data_min_[c];
      if (range < 10.0 * std::numeric_limits<double>::epsilon()) range = 1.0;  // sklearn's _handle_zeros_in_scale
      scale_[c] = 1.0 / range;
      min_[c] = 0.0 - data_min_[c] * scale_[c];
    }
    return *this;
  }
  Tensor transform(const Tensor& X) const {
    check(X, "transform");
    KN_CHECK(!scale_.empty(), "MinMaxScaler::transform: call fit() first");
    const int64_t rows = X.size(0), cols = X.size(1);
    KN_CHECK(cols == int64_t(scale_.size()), "MinMaxScaler::transform: X has ", cols, " features, the scaler was fitted on ",
             scale_.size());
    Tensor out = Tensor::empty(X.shape());
    const float* p = X.data<float>();
    float* q = out.data<float>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        // X * scale_ then + min_, rounded after each step as numpy does; volatile stops the
        // compiler from fusing the two into one FMA, which rounds once and can differ.
        volatile double scaled = detail::widen(p[r * cols + c]) * scale_[c];
        q[r * cols + c] = float(scaled + min_[c]);
      }
    return out;
  }
  Tensor fit_transform(const Tensor& X) { return fit(X).transform(X); }

  const std::vector<double>& data_min() const { return data_min_; }
  const std::vector<double>& data_max() const { return data_max_; }
  const std::vector<double>& scale() const { return scale_; }
  const std::vector<double>& min() const { return min_; }

 private:
  static void check(const Tensor& X, const char* what) {
    KN_CHECK(X.defined() && X.dtype() == Dtype::Float32 && X.dim() == 2 && X.device().is_cpu(), "MinMaxScaler::", what,
             ": needs a 2-D float32 CPU tensor, got ", X.str());
  }
  std::vector<double> data_min_, data_max_, scale_, min_;
};

}  // namespace kn::data
