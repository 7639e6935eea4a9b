// Tensors, devices and the CPU ops behind the dispatch.
#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;
using kn::test::random_tensor;

TEST_CASE("tensors are row-major and share data when copied", "[tensor]") {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.at<float>(1, 0) == 4.0f);
  CHECK(t.at<float>(0, 2) == 3.0f);
  Tensor u = t;
  u.data<float>()[0] = 9;
  CHECK(t.at<float>(0, 0) == 9.0f);
  Tensor c = t.clone();
  c.data<float>()[0] = 1;
  CHECK(t.at<float>(0, 0) == 9.0f);
  CHECK(t.size(-1) == 3);
  CHECK(t.numel() == 6);
  CHECK(t.str() == "Tensor([2, 3], float32, cpu)");
}

TEST_CASE("item, argmax and to(cpu)", "[tensor]") {
  Tensor t = Tensor::from_vector<float>({0.1f, 0.7f, 0.2f, 3.f, -1.f, 3.f}, {2, 3});
  Tensor idx = t.argmax(1);
  CHECK(idx.dtype() == Dtype::Int64);
  CHECK(idx.to_vector<int64_t>() == std::vector<int64_t>{1, 0});  // ties: the first
  CHECK(Tensor::full({1}, 2.5f).item() == 2.5f);
  CHECK(t.to(Device::cpu()).same(t));
}

TEST_CASE("tensor errors say what and where", "[tensor][errors]") {
  Tensor t = Tensor::zeros({2, 3});
  CHECK(error_of([&] { t.item(); }).find("6 elements") != std::string::npos);
  CHECK(error_of([&] { t.at<float>(2, 0); }).find("out of range") != std::string::npos);
  CHECK(error_of([&] { t.data<int64_t>(); }).find("float32") != std::string::npos);
  CHECK(error_of([&] { Tensor::from_vector<float>({1, 2, 3}, {2, 2}); }).find("[2, 2]") != std::string::npos);
  CHECK(error_of([&] { Tensor().shape(); }).find("undefined") != std::string::npos);
}

TEST_CASE("CUDA requests without a device are clear errors", "[tensor][errors]") {
  if (cuda::is_available()) return;  // this machine has a GPU: nothing to check here
  const std::string e = error_of([] { Tensor::zeros({2}).to(Device::cuda(0)); });
  CHECK(e.find("cuda:0") != std::string::npos);
  CHECK(e.find("not available") != std::string::npos);
}

TEST_CASE("op input errors name the op, the shapes and the dtypes", "[ops][errors]") {
  Tensor x = random_tensor({4, 3});
  CHECK(error_of([&] { linear(x, random_tensor({2, 4})); }) ==
        "linear: input has 3 features, expected 4 (input shape [4, 3], weight shape [2, 4])");
  CHECK(error_of([&] { cross_entropy(x, Tensor::from_vector<float>({0, 1, 2, 0})); }).find("int64") !=
        std::string::npos);
  CHECK(error_of([&] { cross_entropy(x, Tensor::from_vector<int64_t>({0, 1, 3, 0})); }) ==
        "cross_entropy: label 3 at row 2 is outside [0, 3)");
  CHECK(error_of([&] { cross_entropy(x, Tensor::from_vector<int64_t>({0, 1})); }).find("does not match") !=
        std::string::npos);
  CHECK(error_of([&] { cross_entropy(Tensor::empty({0, 3}), Tensor::empty({0}, Dtype::Int64)); }).find("empty batch") !=
        std::string::npos);
  CHECK(error_of([&] { relu(Tensor::from_vector<int64_t>({1})); }).find("float32") != std::string::npos);
}

TEST_CASE("cpu::gemm handles every transpose, alpha and beta", "[ops]") {
  // A [2,3], B [3,2]; check C = alpha*op(A)op(B) + beta*C against a hand loop
  const int M = 5, N = 4, K = 3;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      Tensor A = random_tensor(ta ? Shape{K, M} : Shape{M, K}, -1, 1, 20);
      Tensor B = random_tensor(tb ? Shape{N, K} : Shape{K, N}, -1, 1, 21);
      Tensor C = random_tensor({M, N}, -1, 1, 22);
      std::vector<float> expect(M * N);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
          double s = 0;
          for (int k = 0; k < K; ++k)
            s += double(ta ? A.at<float>(k, i) : A.at<float>(i, k)) * (tb ? B.at<float>(j, k) : B.at<float>(k, j));
          expect[i * N + j] = float(0.5 * s + 2.0 * C.at<float>(i, j));
        }
      cpu::gemm(C.data<float>(), A.data<float>(), B.data<float>(), M, N, K, ta ? Transpose::Yes : Transpose::No,
                tb ? Transpose::Yes : Transpose::No, 0.5f, 2.0f);
      for (int i = 0; i < M * N; ++i) CHECK(C.data<float>()[i] == Approx(expect[i]).margin(1e-5));
    }
}

TEST_CASE("cpu::sgd_step updates every tensor it is given", "[ops]") {
  Tensor a = Tensor::full({3}, 1.0f), b = Tensor::full({2}, 2.0f);
  Tensor ga = Tensor::full({3}, 2.0f), gb = Tensor::full({2}, -2.0f);
  float* p[] = {a.data<float>(), b.data<float>()};
  const float* g[] = {ga.data<float>(), gb.data<float>()};
  const int64_t n[] = {3, 2};
  cpu::sgd_step(p, g, n, 2, 0.5f);
  CHECK(a.to_vector<float>() == std::vector<float>{0.0f, 0.0f, 0.0f});
  CHECK(b.to_vector<float>() == std::vector<float>{3.0f, 3.0f});
}
