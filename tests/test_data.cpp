// Data: the Iris CSV, the scikit-learn split and MinMaxScaler, against scikit-learn's own output.
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;

namespace {
nlohmann::json sklearn_reference() {
  return nlohmann::json::parse(io::read_file(test::fixture("sklearn-iris-split42.json")));
}
std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = std::string(KN_BINARY_DIR) + "/test-" + name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("load_iris reads the 150 rows with labels 0..2", "[data]") {
  auto ds = data::load_iris();
  REQUIRE(ds.X.shape() == Shape{150, 4});
  REQUIRE(ds.y.shape() == Shape{150});
  CHECK(ds.X.at<float>(0, 0) == 5.1f);
  CHECK(ds.X.at<float>(149, 3) == 1.8f);
  CHECK(ds.y.at<int64_t>(0) == 0);
  CHECK(ds.y.at<int64_t>(50) == 1);
  CHECK(ds.y.at<int64_t>(149) == 2);
  CHECK(ds.feature_names == std::vector<std::string>{"sepal_length", "sepal_width", "petal_length", "petal_width"});
}

TEST_CASE("numpy_permutation is numpy's RandomState(seed).permutation", "[data]") {
  auto ref = sklearn_reference();
  CHECK(data::numpy_permutation(10, 7) == ref["permutation_seed7_n10"].get<std::vector<int64_t>>());
  CHECK(data::numpy_permutation(1000, 0) == ref["permutation_seed0_n1000"].get<std::vector<int64_t>>());
}

TEST_CASE("train_test_split gives scikit-learn's split for seed 42", "[data]") {
  auto ref = sklearn_reference();
  auto ds = data::load_iris();
  auto s = data::train_test_split(ds.X, ds.y, 0.2, 42);
  CHECK(std::vector<int64_t>(s.test_index.begin(), s.test_index.begin() + 10) ==
        std::vector<int64_t>{73, 18, 118, 78, 76, 31, 64, 141, 68, 82});  // from the issue
  CHECK(s.test_index == ref["test_index"].get<std::vector<int64_t>>());
  CHECK(s.train_index == ref["train_index"].get<std::vector<int64_t>>());
  REQUIRE(s.X_train.shape() == Shape{120, 4});
  REQUIRE(s.X_test.shape() == Shape{30, 4});
  CHECK(s.y_test.at<int64_t>(0) == ds.y.at<int64_t>(73));
  CHECK(s.X_train.at<float>(0, 2) == ds.X.at<float>(22, 2));
}

TEST_CASE("MinMaxScaler fits on the training rows only and matches scikit-learn bit for bit", "[data]") {
  auto ref = sklearn_reference();
  auto ds = data::load_iris();
  auto s = data::train_test_split(ds.X, ds.y, 0.2, 42);
  data::MinMaxScaler scaler;
  Tensor tr = scaler.fit_transform(s.X_train);
  Tensor te = scaler.transform(s.X_test);
  CHECK(scaler.data_min() == ref["data_min"].get<std::vector<double>>());
  CHECK(scaler.data_max() == ref["data_max"].get<std::vector<double>>());
  int mismatches = 0;
  for (int r = 0; r < 120; ++r)
    for (int c = 0; c < 4; ++c) mismatches += tr.at<float>(r, c) != ref["X_train"][r][c].get<float>();
  for (int r = 0; r < 30; ++r)
    for (int c = 0; c < 4; ++c) mismatches += te.at<float>(r, c) != ref["X_test"][r][c].get<float>();
  CHECK(mismatches == 0);
  // fitted on training rows only: the test set may leave [0, 1]
  CHECK(te.at<float>(0, 0) == ref["X_test"][0][0].get<float>());
}

TEST_CASE("split and scaler reject bad arguments", "[data][errors]") {
  auto ds = data::load_iris();
  CHECK(error_of([&] { data::train_test_split(ds.X, ds.y, 1.5, 0); }).find("(0, 1)") != std::string::npos);
  Tensor X3 = Tensor::zeros({1, 4});
  Tensor y3 = Tensor::from_vector<int64_t>({0});
  CHECK(error_of([&] { data::train_test_split(X3, y3, 0.5, 0); }).find("at least one") != std::string::npos);
  data::MinMaxScaler sc;
  CHECK(error_of([&] { sc.transform(ds.X); }).find("fit() first") != std::string::npos);
  sc.fit(ds.X);
  CHECK(error_of([&] { sc.transform(Tensor::zeros({2, 3})); }).find("3 features") != std::string::npos);
}

TEST_CASE("CSV errors name the file, line and column", "[data][errors]") {
  const std::string head = "a,b,c,d,species\n";
  CHECK(error_of([] { data::load_iris("/nonexistent/iris.csv"); }).find("/nonexistent/iris.csv: cannot open") == 0);
  const std::string empty = write_temp("empty.csv", "");
  CHECK(error_of([&] { data::load_iris(empty); }) == empty + ": the file is empty (expected a header row and data rows)");
  const std::string cols = write_temp("cols.csv", head + "1,2,3,4,setosa\n1,2,3,setosa\n");
  CHECK(error_of([&] { data::load_iris(cols); }).find(cols + ":3: 4 columns, expected 5") == 0);
  const std::string num = write_temp("num.csv", head + "1,2,x3,4,setosa\n");
  CHECK(error_of([&] { data::load_iris(num); }) == num + ":2:3: 'x3' is not a number (column c)");
  const std::string nan = write_temp("nan.csv", head + "1,nan,3,4,setosa\n");
  CHECK(error_of([&] { data::load_iris(nan); }) == nan + ":2:2: 'nan' is not a finite number (column b)");
  const std::string inf = write_temp("inf.csv", head + "1,2,3,-inf,setosa\n");
  CHECK(error_of([&] { data::load_iris(inf); }).find(inf + ":2:4:") == 0);
  const std::string cls = write_temp("cls.csv", head + "1,2,3,4,setosa\n1,2,3,4,rose\n");
  CHECK(error_of([&] { data::load_iris(cls); }) ==
        cls + ":3:5: unknown class 'rose' (expected one of: setosa, versicolor, virginica)");
  const std::string feats = write_temp("feats.csv", "a,b,species\n1,2,setosa\n");
  CHECK(error_of([&] { data::load_iris(feats); }).find("Iris has 4 features") != std::string::npos);
  const std::string only_header = write_temp("header.csv", head);
  CHECK(error_of([&] { data::load_iris(only_header); }).find("no data rows") != std::string::npos);
}
