// The graph of tests/fixtures/make_tensor_ops_fixture.py, op for op, in kernelnet, and
// the element-by-element comparison with the values PyTorch wrote into
// tests/fixtures/torch-tensor-ops.json. Shared by tests/test_torch_agreement.cpp (CPU)
// and tests/gpu/test_torch_agreement.cpp (CUDA).
//
// Tolerance, for every element: |got - want| <= 1e-5 * |want| + 1e-6, where want is
// PyTorch's float32 value. The absolute floor of 1e-6 is for elements at or near 0
// (masked-out values, relu's zeros, small gradients from cancelling terms); every other
// element is held to 1e-5 relative. Float32 PyTorch itself is within a sixth of
// that tolerance of float64 PyTorch on this graph (the fixture's "float32_vs_float64").
#pragma once
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <kernelnet/kernelnet.hpp>

namespace kn::torch_agreement {

inline constexpr double kRelTol = 1e-5;
inline constexpr double kAbsFloor = 1e-6;

inline nlohmann::json load_fixture() {
  const std::string path = std::string(KN_FIXTURES_DIR) + "/torch-tensor-ops.json";
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  nlohmann::json fx = nlohmann::json::parse(in);
  REQUIRE(fx.at("rel_tol").get<double>() == kRelTol);
  REQUIRE(fx.at("abs_floor").get<double>() == kAbsFloor);
  return fx;
}

// A float32 tensor on the CPU from the fixture's nested lists: [a, b] is 1-D,
// [[a, b], [c, d]] 2-D.
inline Tensor float_input(const nlohmann::json& v) {
  REQUIRE(v.is_array());
  REQUIRE(!v.empty());
  std::vector<float> data;
  if (!v[0].is_array()) {
    for (const auto& x : v) data.push_back(x.get<float>());
    return Tensor::from_vector(data, Shape{int64_t(data.size())});
  }
  const int64_t rows = int64_t(v.size()), cols = int64_t(v[0].size());
  for (const auto& row : v) {
    REQUIRE(int64_t(row.size()) == cols);
    for (const auto& x : row) data.push_back(x.get<float>());
  }
  return Tensor::from_vector(data, Shape{rows, cols});
}
inline Tensor int_input(const nlohmann::json& v) {
  return Tensor::from_vector(v.get<std::vector<int64_t>>());
}

struct Graph {
  std::vector<std::pair<std::string, Tensor>> leaves;  // X W b s r c V, each requiring grad
  std::vector<std::pair<std::string, Tensor>> values;  // the named intermediates
  Tensor loss;
};

// Builds the graph from the fixture's inputs on `dev` and runs loss.backward().
inline Graph run_graph(const nlohmann::json& inputs, Device dev) {
  Graph G;
  auto leaf = [&](const char* name) {
    Tensor t = float_input(inputs.at(name)).to(dev);
    t.requires_grad_();
    G.leaves.emplace_back(name, t);
    return t;
  };
  const Tensor X = leaf("X"), W = leaf("W"), b = leaf("b"), s = leaf("s"), r = leaf("r"), c = leaf("c"),
               V = leaf("V");
  const Tensor labels = int_input(inputs.at("labels")).to(dev), idx = int_input(inputs.at("idx")).to(dev);
  auto keep = [&](const char* name, const Tensor& t) { G.values.emplace_back(name, t); };

  // Linear part: matmul, then every broadcast form of the four operators.
  Tensor h = X.matmul(W);  // [5,3]
  keep("xw", h);
  h = h + b;           // [N,C] + [C]
  h = h * s;           // [N,C] * [N,1]
  h = h - r;           // [N,C] - [1,C]
  h = h / c;           // [N,C] / [1]
  h = h + V * 0.5f;    // [N,C] + [N,C], tensor * number
  keep("h", h);
  Tensor g = (b - h) / (s * s + 1.0f);              // [C] - [N,C]; [N,C] / [N,1]
  g = (r * g) + (c - g) / 2.0f;                     // [1,C] * [N,C]; [1] - [N,C]; tensor / number
  g = 2.0f * g - (1.0f - V) / (3.0f + V * V);       // number * tensor, number - tensor, number + tensor
  g = g + (s - g) * 0.25f;                          // [N,1] - [N,C]
  keep("g", g);

  // Unary maths.
  const Tensor p = kn::sigmoid(h);
  const Tensor q = h.tanh();
  const Tensor e = (h * 0.25f).exp();
  const Tensor lg = (p + 0.5f).log();
  const Tensor sq = (1.0f + p).sqrt();
  const Tensor ab = h.abs();
  const Tensor pw = (ab + 0.5f).pow(1.5f) + h.pow(2.0f) * 0.1f + (ab + 1.0f).pow(-0.5f);
  const Tensor rl = (h - 0.2f).relu();
  const Tensor ng = -q;
  keep("sigmoid", p), keep("tanh", q), keep("exp", e), keep("log", lg), keep("sqrt", sq), keep("abs", ab);
  keep("pow", pw), keep("relu", rl);
  const Tensor u = p * q + ng * e / (ab + 1.0f) + 1.0f / (sq + g.abs());
  keep("u", u);

  // Reductions.
  const Tensor s_all = u.sum();
  const Tensor s_row = (p * q).sum(1);       // [5]
  const Tensor s_rowk = e.sum(1, true);      // [5,1]
  const Tensor soft = e / s_rowk;            // [N,C] / [N,1]
  const Tensor m_all = lg.mean();
  const Tensor m_col = sq.mean(0);           // [3]
  const Tensor hmax = h.max(), hmin = g.min();
  keep("sum_row", s_row), keep("sum_row_keepdim", s_rowk), keep("soft", soft), keep("mean_col", m_col);

  // Indexing.
  const Tensor sel0 = pw.index_select(0, idx);                           // rows 2,0,2,4: [4,3]
  const Tensor sel1 = rl.index_select(1, kn::tensor({2, 2, 0}).to(dev));  // columns 2,2,0: [5,3]
  const Tensor n0 = h.narrow(0, 1, 3);                                   // rows 1..3: [3,3]
  const Tensor n1 = q.narrow(1, 1, 2);                                   // columns 1..2: [5,2]
  const Tensor sl0 = e.slice(0, 0, 5, 2);                                // rows 0,2,4: [3,3]
  const Tensor sl1 = X.slice(1, 1, 4, 2);                                // columns 1,3 of a leaf: [5,2]
  const Tensor col2 = h.select(1, 2);                                    // [5]
  const Tensor row3 = soft[3];                                           // [3]
  const Tensor ar = sq.index_select(0, kn::arange(0, 5, 2).to(dev));     // [3,3]
  const Tensor hT = h.t();                                               // [3,5]
  const Tensor gram = hT.matmul(q);                                      // [3,3]
  const Tensor back = kn::matmul(h, W.t());                              // [5,4]
  const Tensor flat = u.reshape(Shape{3, 5});
  keep("index_select0", sel0), keep("index_select1", sel1), keep("narrow0", n0), keep("narrow1", n1);
  keep("slice0", sl0), keep("slice1", sl1), keep("select", col2), keep("row3", row3), keep("gram", gram);
  keep("back", back);

  // Comparisons, as float masks; a constant built with the in-place operators.
  const Tensor m_gt = (h > 0.1).to(kFloat32);
  const Tensor m_lt = (q < r).to(kFloat32);  // against a [1,C] tensor
  const Tensor m_ge = (p >= 0.45).to(kFloat32);
  const Tensor m_le = (h <= V).to(kFloat32);  // against a [N,C] tensor
  const Tensor m_eq = (g == g.max()).to(kFloat32);
  const Tensor m_ne = (idx != 2).to(kFloat32);  // int64 against a number: [4]
  Tensor k = kn::ones(Shape{5, 3}, dev);
  k += m_gt;
  k -= m_le * 0.25f;
  k *= kn::full(Shape{1, 3}, 0.5f, dev) + m_col.detach();
  k /= 2.0f;
  k += 0.125f;
  k -= 0.0625f;
  k *= 1.5f;
  k /= s_rowk.detach();
  keep("mask_gt", m_gt), keep("mask_lt", m_lt), keep("mask_ge", m_ge), keep("mask_le", m_le);
  keep("mask_eq", m_eq), keep("k", k);
  const Tensor pred = h.argmax(1);
  const Tensor correct = (pred == labels).sum().to(kFloat32);
  const Tensor kept = (idx != 2).sum().to(kFloat32);
  keep("argmax", pred), keep("correct", correct);

  const std::vector<std::pair<const char*, Tensor>> terms = {
      {"t_sum", s_all * 0.1f},
      {"t_row", (s_row * s_row).mean()},
      {"t_soft", (soft * q).sum()},
      {"t_mean", m_all + m_col.sum() * 0.5f},
      {"t_maxmin", hmax * (correct + 1.0f) - hmin * 0.5f},
      {"t_index", (sel0 * 0.3f).sum() + sel1.mean() + n0.pow(2.0f).mean() + (n1 * sl1).sum() * 0.2f},
      {"t_rows", (sl0 * ar).sum() * 0.1f + (col2 * row3.sum()).sum() + gram.sum() * 0.05f + back.tanh().sum()},
      {"t_flat", flat.select(0, 1).sum() + flat[2].sigmoid().sum()},
      {"t_masks", (h * k).sum() + (u * (m_lt + m_ge)).sum() * 0.5f + (g * m_eq).sum() +
                      (pw.index_select(0, idx) * m_ne.reshape(Shape{4, 1})).sum() * 0.1f + kept * 0.01f},
  };
  for (const auto& [name, t] : terms) keep(name, t);
  G.loss = terms[0].second;
  for (std::size_t i = 1; i < terms.size(); ++i) G.loss = G.loss + terms[i].second;
  G.loss.backward();
  return G;
}

// "(r, c)" for element i of a tensor of this shape.
inline std::string index_str(std::size_t i, const std::vector<int64_t>& shape) {
  std::vector<int64_t> at(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    at[d] = int64_t(i) % shape[d];
    i = std::size_t(int64_t(i) / shape[d]);
  }
  std::ostringstream os;
  os << "(";
  for (std::size_t d = 0; d < at.size(); ++d) os << (d ? ", " : "") << at[d];
  os << ")";
  return os.str();
}

// got against the fixture's {"shape": [...], "data": [...]}, element by element.
inline void check_against(const std::string& what, const Tensor& got, const nlohmann::json& want) {
  INFO(what << ": kernelnet " << got.str());
  REQUIRE(got.defined());
  const auto shape = want.at("shape").get<std::vector<int64_t>>();
  REQUIRE(got.shape().vec() == shape);
  const auto data = want.at("data").get<std::vector<double>>();
  REQUIRE(int64_t(data.size()) == got.numel());
  std::vector<double> g;
  if (got.dtype() == kFloat32) {
    for (float x : got.to_vector<float>()) g.push_back(x);
  } else {
    for (int64_t x : got.to(kInt64).to_vector<int64_t>()) g.push_back(double(x));
  }
  int bad = 0;
  double worst = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const double err = std::fabs(g[i] - data[i]), tol = kRelTol * std::fabs(data[i]) + kAbsFloor;
    worst = std::max(worst, err / tol);
    if (!(err <= tol) && bad++ < 8)
      UNSCOPED_INFO(what << index_str(i, shape) << ": kernelnet " << g[i] << ", PyTorch " << data[i] << ", |diff| "
                         << err << " > tolerance " << tol);
  }
  INFO(what << ": " << bad << " of " << data.size()
            << " elements outside 1e-5 relative + 1e-6; largest error / tolerance " << worst);
  CHECK(bad == 0);
}

// Every named value, the loss and every leaf's gradient against the fixture; the two
// sides must name the same values.
inline void check_graph(const Graph& G, const nlohmann::json& fx) {
  std::set<std::string> ours, theirs;
  for (const auto& [name, t] : G.values) ours.insert(name);
  for (const auto& [name, v] : fx.at("values").items()) theirs.insert(name);
  CHECK(ours == theirs);
  for (const auto& [name, t] : G.values) {
    if (!fx.at("values").contains(name)) continue;
    check_against(name, t, fx.at("values").at(name));
  }
  check_against("loss", G.loss, nlohmann::json::object({{"shape", nlohmann::json::array()}, {"data", nlohmann::json::array({fx.at("loss")})}}));
  REQUIRE(G.leaves.size() == fx.at("grads").size());
  for (const auto& [name, t] : G.leaves) {
    INFO("gradient of " << name);
    REQUIRE(t.grad().defined());
    check_against("grad " + name, t.grad(), fx.at("grads").at(name));
  }
}

}  // namespace kn::torch_agreement
