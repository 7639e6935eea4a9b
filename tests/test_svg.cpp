// The SVG chart (support/svg.hpp): round ticks and short labels, and charts whose text
// stays inside the canvas and off the other text. tests/scripts/charts.cmake renders
// the apps' charts to PNG with rsvg-convert.
#include <cmath>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "svg.hpp"

using namespace kn::svg;
using Labels = std::vector<std::string>;

namespace {

// A tick is m x 10^k with m 1, 2 or 5.
bool one_two_five(double v) {
  const double a = std::fabs(v), m = a / std::pow(10.0, std::floor(std::log10(a) + 1e-9));
  return std::fabs(m - 1) < 1e-6 || std::fabs(m - 2) < 1e-6 || std::fabs(m - 5) < 1e-6;
}

// A label's value: "1.5e-4" as stod reads it, "200k" and "1.0M" with their suffix.
double label_value(const std::string& s) {
  static const std::map<char, double> si{{'k', 1e3}, {'M', 1e6}, {'G', 1e9}, {'T', 1e12}, {'P', 1e15}, {'E', 1e18}};
  const auto it = si.find(s.back());
  return it == si.end() ? std::stod(s) : std::stod(s.substr(0, s.size() - 1)) * it->second;
}

// The properties every linear axis has, whatever the range.
void check_linear(double lo, double hi) {
  INFO("range " << lo << " .. " << hi);
  const auto t = nice_ticks(lo, hi);
  REQUIRE(t.size() >= 3);
  REQUIRE(t.size() <= 8);
  CHECK(t.front() <= std::min(lo, hi) + 1e-9 * std::fabs(lo));  // they cover the data
  CHECK(t.back() >= std::max(lo, hi) - 1e-9 * std::fabs(hi));
  CHECK(one_two_five(t[1] - t[0]));
  // The step, exact: t[1] - t[0] carries the rounding of ticks far larger than it.
  const int k = int(std::floor(std::log10(t[1] - t[0]) + 1e-9));
  const double m = std::round((t[1] - t[0]) / std::pow(10.0, k));
  const double step = k < 0 ? m / std::pow(10.0, -k) : m * std::pow(10.0, k);
  for (size_t i = 0; i < t.size(); ++i) {  // evenly spaced, on multiples of the step
    const double err = std::fabs(t[i] - std::round(t[i] / step) * step), tol = 1e-9 * std::max(std::fabs(t[i]), step);
    CHECK(err <= tol);
    CHECK(std::fabs(t[i] - t[0] - step * double(i)) <= 2 * tol + 1e-9 * std::fabs(t[0]));
  }
  const auto labels = linear_labels(t);
  CHECK(std::set<std::string>(labels.begin(), labels.end()).size() == labels.size());  // distinct
  for (size_t i = 0; i < t.size(); ++i) {
    INFO("label " << labels[i]);
    CHECK(labels[i].size() <= 13);  // -2.04425e-6: a range a millionth of its size needs digits
    CHECK(std::fabs(label_value(labels[i]) - t[i]) <= 1e-3 * step);  // says the tick's value
  }
}

// --- Reading the SVG back: its size and its <text> elements.

struct Text {
  std::string cls, anchor, body;
  double x = 0, y = 0, size = 12;
  bool rotated = false;
};

double attr(const std::string& attrs, const std::string& name, double fallback) {
  std::smatch m;
  if (std::regex_search(attrs, m, std::regex("\\b" + name + "=\"([-0-9.]+)\""))) return std::stod(m[1]);
  return fallback;
}

std::vector<Text> texts(const std::string& svg) {
  std::vector<Text> out;
  static const std::regex text("<text([^>]*)>([^<]*)</text>");
  for (std::sregex_iterator it(svg.begin(), svg.end(), text), end; it != end; ++it) {
    const std::string attrs = (*it)[1];
    Text t;
    std::smatch m;
    if (std::regex_search(attrs, m, std::regex("class=\"([a-z]+)\""))) t.cls = m[1];
    t.anchor = std::regex_search(attrs, m, std::regex("text-anchor=\"([a-z]+)\"")) ? std::string(m[1]) : "start";
    t.x = attr(attrs, "x", 0), t.y = attr(attrs, "y", 0), t.size = attr(attrs, "font-size", 12);
    t.rotated = attrs.find("rotate(-90") != std::string::npos;
    t.body = std::regex_replace(std::regex_replace(std::regex_replace(std::string((*it)[2]), std::regex("&lt;"), "<"),
                                                   std::regex("&gt;"), ">"),
                                std::regex("&amp;"), "&");
    out.push_back(t);
  }
  return out;
}

Labels labels_of(const std::vector<Text>& ts, const std::string& cls) {
  Labels out;
  for (const auto& t : ts)
    if (t.cls == cls) out.push_back(t.body);
  return out;
}

// The box a text covers, by the renderer's estimate of its width (0.6 em a character),
// 0.8 em above its baseline and 0.25 em below; a rotated text stands on its end.
struct Box {
  double x0, x1, y0, y1;
};
Box box(const Text& t) {
  const double w = text_width(t.body, t.size);
  if (t.rotated) return {t.x - 0.8 * t.size, t.x + 0.25 * t.size, t.y - w / 2, t.y + w / 2};
  const double x0 = t.anchor == "middle" ? t.x - w / 2 : t.anchor == "end" ? t.x - w : t.x;
  return {x0, x0 + w, t.y - 0.8 * t.size, t.y + 0.25 * t.size};
}
bool overlap(const Box& a, const Box& b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; }

// Renders the chart and checks its tick labels, and that its text is inside the canvas
// and never on other text: titles, tick labels, legend.
std::string check_chart(const Chart& c, const Labels& x_ticks, const Labels& y_ticks) {
  const std::string svg = render(c);
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex("^<svg [^>]*width=\"([0-9.]+)\" height=\"([0-9.]+)\"")));
  const double W = std::stod(m[1]), H = std::stod(m[2]);
  const auto ts = texts(svg);
  CHECK(labels_of(ts, "xtick") == x_ticks);
  CHECK(labels_of(ts, "ytick") == y_ticks);
  for (size_t i = 0; i < ts.size(); ++i) {
    const Box b = box(ts[i]);
    INFO(ts[i].cls << " '" << ts[i].body << "' at " << ts[i].x << ", " << ts[i].y << " in " << W << " x " << H);
    CHECK(b.x0 >= 0);
    CHECK(b.x1 <= W);
    CHECK(b.y0 >= 0);
    CHECK(b.y1 <= H);
    for (size_t j = i + 1; j < ts.size(); ++j) {
      INFO("and " << ts[j].cls << " '" << ts[j].body << "'");
      CHECK_FALSE(overlap(b, box(ts[j])));
    }
  }
  // The y title is left of the widest y tick label's left edge; the x title under the x labels.
  double ytick_left = W, xtick_bottom = 0;
  for (const auto& t : ts) {
    if (t.cls == "ytick") ytick_left = std::min(ytick_left, box(t).x0);
    if (t.cls == "xtick") xtick_bottom = std::max(xtick_bottom, box(t).y1);
  }
  for (const auto& t : ts) {
    if (t.cls == "ylabel") CHECK(box(t).x1 < ytick_left);
    if (t.cls == "xlabel") CHECK(box(t).y0 > xtick_bottom);
  }
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  return svg;
}

Chart loss_chart() {
  Chart c;
  c.title = "Iris MLP training loss (cpu)", c.x_label = "epoch", c.y_label = "cross-entropy loss";
  c.series.push_back({"loss", {}, {}});
  return c;
}

}  // namespace

TEST_CASE("svg: linear ticks are 1-2-5 steps that cover the range, 3 to 8 of them", "[svg]") {
  CHECK(nice_ticks(0, 1.12) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1, 1.2});  // the nearest doubles
  CHECK(linear_labels(nice_ticks(0, 1.12)) == Labels{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"});
  CHECK(linear_labels(nice_ticks(1, 20000)) == Labels{"0", "5000", "10000", "15000", "20000"});
  CHECK(linear_labels(nice_ticks(-3, 7)) == Labels{"-4", "-2", "0", "2", "4", "6", "8"});
  CHECK(linear_labels(nice_ticks(0.2245, 0.2246)) ==
        Labels{"0.22450", "0.22452", "0.22454", "0.22456", "0.22458", "0.22460"});
  CHECK(linear_labels(nice_ticks(0, 1e6)) == Labels{"0", "0.2M", "0.4M", "0.6M", "0.8M", "1.0M"});
  CHECK(linear_labels(nice_ticks(-0.4, 0.15)) == Labels{"-0.4", "-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"});
  // One value: centred, a few round ticks around it.
  CHECK(linear_labels(nice_ticks(1, 1)) == Labels{"0.0", "0.5", "1.0", "1.5", "2.0"});
  CHECK(linear_labels(nice_ticks(0.5, 0.5)) == Labels{"0.40", "0.45", "0.50", "0.55", "0.60"});
  CHECK(linear_labels(nice_ticks(0, 0)) == Labels{"-1.0", "-0.5", "0.0", "0.5", "1.0"});
  CHECK(nice_ticks(NAN, 1).empty());
  CHECK(nice_ticks(0, INFINITY).empty());

  // Typical ranges: labels of at most 6 characters.
  const std::pair<double, double> typical[] = {{0, 1.12},   {0.06, 1.12}, {1, 20000},  {0, 1},      {-3, 7},
                                               {-1, 1},     {0.5, 0.9},   {10, 2000},  {1e-3, 1e-2}, {250, 4000},
                                               {-0.5, 0.25}, {3, 3},      {1e5, 3e6},  {-90000, 0}, {0.02, 0.03}};
  for (auto [lo, hi] : typical) {
    check_linear(lo, hi);
    for (const auto& l : linear_labels(nice_ticks(lo, hi))) {
      INFO(lo << " .. " << hi << ": " << l);
      CHECK(l.size() <= 6);
    }
  }
  // Any range, from 1e-9 to 1e12, either sign, down to a millionth of its magnitude.
  std::mt19937 gen(13);
  std::uniform_real_distribution<double> exponent(-9, 12), width(-6, 1), unit(-1, 1);
  for (int i = 0; i < 2000; ++i) {
    const double mag = std::pow(10.0, exponent(gen)), lo = mag * unit(gen);
    check_linear(lo, lo + mag * std::pow(10.0, width(gen)));
  }
}

TEST_CASE("svg: log ticks are decades, or 1-2-5 within two decades; short labels", "[svg]") {
  auto labels = [](double lo, double hi) {
    Labels out;
    for (double t : log_ticks(lo, hi)) out.push_back(log_label(t));
    return out;
  };
  CHECK(labels(4, 1073741824) == Labels{"1", "10", "100", "1k", "10k", "100k", "1M", "10M", "100M", "1G", "10G"});
  CHECK(labels(0.002, 20) == Labels{"0.001", "0.01", "0.1", "1", "10", "100"});
  CHECK(labels(120, 1000) == Labels{"100", "200", "500", "1k"});
  CHECK(labels(0.4, 3) == Labels{"0.2", "0.5", "1", "2", "5"});
  CHECK(labels(1, 1) == Labels{"0.2", "0.5", "1", "2", "5"});  // one value, centred
  CHECK(labels(1e-20, 1e20) == Labels{"1e-20", "1e-16", "1e-12", "1e-8", "1e-4", "1", "10k", "100M", "1T", "10P",
                                      "100E"});
  CHECK(log_ticks(0, 10).empty());
  CHECK(log_ticks(-1, 10).empty());
  CHECK(log_label(1e-4) == "1e-4");
  CHECK(log_label(2e4) == "20k");
  CHECK(log_label(5e9) == "5G");
  CHECK(log_label(1e21) == "1e21");
  // Minor ticks at 2..9 between decades, at the rest of 1..9 between 1-2-5 ticks.
  CHECK(make_axis(1, 1000, true).minor.size() == 24);
  CHECK(make_axis(1, 100, true).minor == std::vector<double>{3, 4, 6, 7, 8, 9, 30, 40, 60, 70, 80, 90});
  // Narrow ranges: 1..9 x 10^k, then evenly spaced ticks.
  CHECK(make_axis(2.3e-4, 4.1e-4, true).labels == Labels{"2e-4", "3e-4", "4e-4", "5e-4"});
  CHECK(make_axis(2.26, 2.3, true).labels == Labels{"2.26", "2.27", "2.28", "2.29", "2.30"});

  std::mt19937 gen(13);
  std::uniform_real_distribution<double> exponent(-15, 15), decades(0, 12);
  for (int i = 0; i < 2000; ++i) {
    const double lo = std::pow(10.0, exponent(gen)), hi = lo * std::pow(10.0, i % 2 ? decades(gen) : decades(gen) / 20);
    INFO("range " << lo << " .. " << hi);
    const Axis a = make_axis(lo, hi, true);
    REQUIRE(a.ticks.size() >= 3);
    CHECK(a.ticks.size() <= 11);
    CHECK(a.ticks.front() > 0);
    CHECK(a.ticks.front() <= lo * (1 + 1e-9));
    CHECK(a.ticks.back() >= hi * (1 - 1e-9));
    CHECK(std::set<std::string>(a.labels.begin(), a.labels.end()).size() == a.labels.size());
    for (size_t k = 0; k < a.ticks.size(); ++k) {
      INFO("tick " << a.ticks[k] << " label " << a.labels[k]);
      if (hi >= 10 * lo) {  // a decade or more: decades or 1-2-5, labels of 5 characters at most
        CHECK(one_two_five(a.ticks[k]));
        CHECK(a.labels[k].size() <= 5);
      }
      CHECK(a.labels[k].size() <= 10);
      CHECK(std::fabs(label_value(a.labels[k]) / a.ticks[k] - 1) < 1e-6);
    }
  }
}

TEST_CASE("svg: a 20000-epoch loss curve: round ticks, grid, text inside, at most ~2000 points", "[svg]") {
  Chart c = loss_chart();
  for (int e = 1; e <= 20000; ++e)
    c.series[0].x.push_back(e), c.series[0].y.push_back(0.06 + 1.04 * std::exp(-e / 1500.0));
  const std::string svg = check_chart(c, {"0", "5000", "10000", "15000", "20000"},
                                      {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"});
  CHECK(svg.size() < 64 * 1024);
  const auto points = std::count(svg.begin(), svg.end(), ',');
  CHECK(points >= 1000);
  CHECK(points <= 2002);
  CHECK(svg.find("<polyline") != std::string::npos);
  CHECK(svg.find("<g stroke=\"#e5e5e5\">") != std::string::npos);  // the grid
  CHECK(svg.find("class=\"legend\"") == std::string::npos);        // one series: no legend
}

TEST_CASE("svg: one epoch, a constant loss, and NaN and inf among the values", "[svg]") {
  Chart one = loss_chart();
  one.series[0].x = {1}, one.series[0].y = {1.12};
  const std::string svg =
      check_chart(one, {"0.0", "0.5", "1.0", "1.5", "2.0"}, {"0.0", "0.5", "1.0", "1.5", "2.0", "2.5"});
  CHECK(svg.find("<circle") != std::string::npos);  // the one point is drawn

  Chart flat = loss_chart();
  for (int e = 1; e <= 100; ++e) flat.series[0].x.push_back(e), flat.series[0].y.push_back(0.5);
  check_chart(flat, {"0", "20", "40", "60", "80", "100"}, {"0.40", "0.45", "0.50", "0.55", "0.60"});

  Chart gaps = loss_chart();
  gaps.series[0].x = {1, 2, 3, 4, 5, 6}, gaps.series[0].y = {1, NAN, 0.5, 0.4, INFINITY, 0.25};
  check_chart(gaps, {"1", "2", "3", "4", "5", "6"}, {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});

  Chart none = loss_chart();  // nothing drawable: still a chart
  none.series[0].x = {1, 2}, none.series[0].y = {NAN, -INFINITY};
  check_chart(none, {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}, {"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
}

TEST_CASE("svg: log-log bench charts: decade ticks, (log scale) titles, the legend off the plot", "[svg]") {
  Chart c;
  c.title = "Copy bandwidth by size (wall time, median)", c.x_label = "bytes per copy", c.y_label = "GB/s";
  c.log_x = c.log_y = true;
  c.series = {{"host memcpy", {}, {}}, {"H2D pinned", {}, {}}, {"D2H pageable", {}, {}}};
  for (double b = 4; b <= 1073741824; b *= 4) {
    c.series[0].x.push_back(b), c.series[0].y.push_back(b / (b / 20 + 2000));
    c.series[1].x.push_back(b), c.series[1].y.push_back(b / (b / 40 + 1000));
    c.series[2].x.push_back(b), c.series[2].y.push_back(b / (b / 10 + 500));
  }
  c.series[2].y[3] = -1;  // not drawable on a log axis: skipped
  const std::string svg = check_chart(c, {"1", "10", "100", "1k", "10k", "100k", "1M", "10M", "100M", "1G", "10G"},
                                      {"0.001", "0.01", "0.1", "1", "10", "100"});
  const auto ts = texts(svg);
  CHECK(labels_of(ts, "xlabel") == Labels{"bytes per copy (log scale)"});
  CHECK(labels_of(ts, "ylabel") == Labels{"GB/s (log scale)"});
  CHECK(labels_of(ts, "legend") == Labels{"host memcpy", "H2D pinned", "D2H pageable"});
  double plot_right = 0;  // the last x tick sits on the plot's right edge
  for (const auto& t : ts)
    if (t.cls == "xtick") plot_right = std::max(plot_right, t.x);
  for (const auto& t : ts)
    if (t.cls == "legend") CHECK(box(t).x0 > plot_right);

  // kn-bench sweep --quick: two row counts, 120 and 1000.
  Chart s;
  s.title = "CPU time per epoch", s.x_label = "rows per batch", s.y_label = "ms per epoch";
  s.log_x = s.log_y = true;
  s.series = {{"hidden 10", {120, 1000}, {0.05, 0.31}}, {"hidden 64", {120, 1000}, {0.2, 1.7}}};
  check_chart(s, {"100", "200", "500", "1k"}, {"0.01", "0.1", "1", "10"});
  // With a GPU: speed-ups and a break-even line, a reference drawn grey and dashed, no dots.
  s.series.insert(s.series.begin(), {"break-even", {120, 1000}, {1, 1}, true});
  const std::string gpu = check_chart(s, {"100", "200", "500", "1k"}, {"0.01", "0.1", "1", "10"});
  CHECK(gpu.find("<g fill=\"none\" stroke=\"#7f7f7f\" stroke-dasharray=\"6 4\"") != std::string::npos);
  size_t dots = 0;
  for (size_t at = gpu.find("<circle"); at != std::string::npos; at = gpu.find("<circle", at + 1)) ++dots;
  CHECK(dots == 4);  // the two data series' points only
}
