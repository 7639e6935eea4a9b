// What a header pulls in: a file that only needs a tensor gets no Eigen (the ops it
// needs, fill and argmax, have plain-loop CPU twins). Checked by the preprocessor: this
// file includes <kernelnet/tensor.hpp> alone, first.
#include <kernelnet/tensor.hpp>

#ifdef EIGEN_CORE_H
#error "<kernelnet/tensor.hpp> pulls in Eigen"
#endif

#include <catch2/catch.hpp>

TEST_CASE("tensor.hpp alone is enough to make and fill a tensor", "[tensor]") {
  const kn::Tensor t = kn::Tensor::full({2, 3}, 1.5f);
  CHECK(t.numel() == 6);
  CHECK(t.at<float>(1, 2) == 1.5f);
  CHECK(t.argmax(1).at<int64_t>(0) == 0);
}
