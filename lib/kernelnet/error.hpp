// kn::Error and the checks that raise it.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace kn {

// Every error kernelnet raises: one message that says what was wrong and where.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from pieces: kn::str("expected ", n, " features").
template <typename... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  return os.str();
}

}  // namespace kn

namespace kn::detail {
// A failed check's throw, out of line and marked cold: the message is built only here, so
// a check costs its caller one predicted branch and small accessors (Tensor::data(),
// Tensor::size()) stay small enough to inline. The pieces come by reference (no lambda:
// C++17 lambdas cannot capture structured bindings, which clang rejects).
template <typename... Parts>
[[noreturn, gnu::noinline, gnu::cold]] void check_failed(const Parts&... parts) {
  throw ::kn::Error(::kn::str(parts...));
}
}  // namespace kn::detail

// Real checks, never compiled out (unlike assert under NDEBUG).
#define KN_CHECK(cond, ...)                                                         \
  do {                                                                              \
    if (__builtin_expect(!(cond), 0)) ::kn::detail::check_failed(__VA_ARGS__);      \
  } while (0)
