// Must not compile: a named module given to kn::Sequential (it would be moved out of,
// and the caller's next fc(x) would throw). Built twice by tests/CMakeLists.txt: with
// -DKN_EXPECT_OK, the allowed forms, which must compile; without it, the named module,
// which must fail with layers.hpp's message.
#include <kernelnet/kernelnet.hpp>

#include <memory>
#include <utility>

int main() {
  auto shared = std::make_shared<kn::Linear>(4, 10);
  kn::Linear named(10, 3);
#ifdef KN_EXPECT_OK
  kn::Sequential seq(shared, kn::ReLU(), std::move(named));
  seq.push_back(kn::ReLU());
  seq.push_back(shared);
#else
  kn::Sequential seq(shared, kn::ReLU(), named);
#endif
  return int(seq.size());
}
