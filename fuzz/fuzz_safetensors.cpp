// libFuzzer target: kn::safetensors::parse on arbitrary bytes. Bad input must give a
// kn::Error naming the file; a file it accepts must survive serialize() and a second
// parse() unchanged. Built with libFuzzer by fuzz/CMakeLists.txt, and without it as
// the corpus replay test (tests/CMakeLists.txt, replay_main.cpp).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include <kernelnet/safetensors.hpp>

#include "fuzz_check.hpp"

namespace {

void check(const std::string& image) {
  kn::NamedTensors tensors;
  if (!kn::fuzz::accepts("fuzz.safetensors: ", [&] { tensors = kn::safetensors::parse(image, "fuzz.safetensors"); }))
    return;
  const std::string again = kn::safetensors::serialize(tensors);
  kn::NamedTensors back;
  try {
    back = kn::safetensors::parse(again, "rewritten.safetensors");
  } catch (const kn::Error& e) {
    kn::fuzz::finding(std::string("serialize() wrote a file that parse() rejects: ") + e.what());
  }
  if (back.size() != tensors.size()) kn::fuzz::finding("the rewritten file has a different number of tensors");
  for (size_t i = 0; i < back.size(); ++i) {
    const auto& [name, t] = tensors[i];
    const auto& [name2, t2] = back[i];
    if (name != name2 || t.dtype() != t2.dtype() || t.shape() != t2.shape() ||
        (t.nbytes() > 0 && std::memcmp(t.raw(), t2.raw(), t.nbytes()) != 0))
      kn::fuzz::finding("tensor '" + name + "' changed in the round trip");
  }
}

// Where the JSON object starting at `from` ends, and the spaces after it (the padding
// writers add), or 0 when there is no object there. Strings are skipped, with their
// escapes, so that braces inside names do not count.
size_t header_end(const std::string& s, size_t from) {
  if (from >= s.size() || s[from] != '{') return 0;
  int depth = 0;
  bool in_string = false;
  for (size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      while (i + 1 < s.size() && s[i + 1] == ' ') ++i;
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  check(bytes);
  // A mutation inside the JSON header leaves the 8-byte length before it stale, and
  // almost every such input would stop at the first check. So also parse the image
  // with the length measured again, to let the fuzzer reach the checks behind it.
  if (const size_t end = header_end(bytes, 8)) {
    std::string fixed = bytes;
    for (int i = 0; i < 8; ++i) fixed[i] = char((uint64_t(end - 8) >> (8 * i)) & 0xff);
    if (fixed != bytes) check(fixed);
  }
  return 0;
}
