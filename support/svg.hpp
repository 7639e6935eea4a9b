// A small SVG line chart with no dependency: loss curves (kn-iris --plot) and bench
// sweeps (kn-bench --plot). The layout follows matplotlib's look:
//   - ticks at round steps (1, 2 or 5 x 10^k) that cover the data, every label with the
//     same, fewest decimals that tell neighbours apart, and a light grid at each tick;
//   - a log axis ticked at decades (1, 10, 100, 1k, ...; 1-2-5 steps when it spans two
//     decades or less), minor ticks at 2..9, and "(log scale)" added to its title;
//   - margins sized from the text they hold, so nothing is clipped: a text's width is
//     estimated as characters x 0.6 x font size (about what a sans-serif digit takes);
//   - several series get a legend in a box to the right of the plot, off the data.
// Points that cannot be drawn (NaN, inf, <= 0 on a log axis) are skipped and break the line.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

namespace kn::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool reference = false;  // a guide, not data (a break-even line): grey, dashed, no dots
};

struct Chart {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series;
};

inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// --- Text size: no font metrics here, an estimate that errs on the wide side.

// Characters (UTF-8 code points, so "×" is one), not bytes.
inline size_t text_length(const std::string& s) {
  auto starts_a_character = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
  return size_t(std::count_if(s.begin(), s.end(), starts_a_character));
}
inline double text_width(const std::string& s, double font_size) { return 0.6 * font_size * double(text_length(s)); }

// --- Ticks.

namespace detail {
// i x m x 10^k, computed so that 0.1-style values come out as close as doubles allow
// (dividing by 10^-k rather than multiplying by 10^k, which is inexact for k < 0).
inline double scaled(double i, double m, int k) {
  return k >= 0 ? i * m * std::pow(10.0, k) : i * m / std::pow(10.0, -k);
}
}  // namespace detail

// Linear ticks: multiples of one step, 1, 2 or 5 x 10^k, from the last multiple at or
// below lo to the first at or above hi (so the ticks cover the data and end the axis).
// Of the steps giving 3..8 ticks, the one nearest `target` ticks wins, fewer on a tie.
// A single value (lo == hi) is centred in a range one order of magnitude either side.
inline std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(hi - lo)) return {};
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(std::fabs(lo), std::fabs(hi))) {  // one value: give it room
    const double v = (lo + hi) / 2, d = v == 0 ? 1 : std::pow(10.0, std::floor(std::log10(std::fabs(v))));
    lo = v - d, hi = v + d;
  }
  const int top = int(std::floor(std::log10(hi - lo)));
  std::vector<double> best;
  int best_score = 1 << 30;
  for (int k = top - 2; k <= top; ++k)
    for (int m : {1, 2, 5}) {
      const double step = detail::scaled(1, m, k);
      const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
      const int n = int(last - first) + 1;
      if (n < 3 || n > 8) continue;
      const int score = 2 * std::abs(n - target) + (n > target);  // a tie goes to fewer ticks
      if (score >= best_score) continue;
      best_score = score, best.clear();
      for (double i = first; i <= last; ++i) best.push_back(detail::scaled(i, m, k));
    }
  return best;
}

// Log ticks (lo, hi > 0): decades from the one at or below lo to the one at or above hi,
// every decade up to 11 ticks, every 2nd, 3rd, ... beyond. Within two decades, 1-2-5
// ticks instead (0.2, 0.5, 1, 2, 5), from the last at or below lo to the first at or above
// hi; should that give fewer than 3, 1..9 x 10^k (2, 3, 4, 5), and failing that (a range
// within 2 to 3, say) linear ticks. A single value is centred, half a decade either side.
inline std::vector<double> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !(hi > 0) || !std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (lo > hi) std::swap(lo, hi);
  if (hi / lo < 1.0001) {
    const double v = std::sqrt(lo * hi);
    lo = v / 3.2, hi = v * 3.2;
  }
  int a = int(std::floor(std::log10(lo) + 1e-9)), b = int(std::ceil(std::log10(hi) - 1e-9));
  std::vector<double> ticks;
  if (b - a > 2) {
    const int stride = (b - a + 9) / 10;  // (b - a) / stride <= 10 intervals
    auto floor_div = [](int p, int q) { return p >= 0 ? p / q : -((-p + q - 1) / q); };
    a = floor_div(a, stride) * stride, b = -floor_div(-b, stride) * stride;
    for (int k = a; k <= b; k += stride) ticks.push_back(detail::scaled(1, 1, k));
    return ticks;
  }
  // The candidates m x 10^k around the range, ascending: from the last at or below lo to
  // the first at or above hi.
  auto around = [&](std::initializer_list<int> mantissas) {
    std::vector<double> all;
    for (int k = a - 1; k <= b; ++k)
      for (int m : mantissas) all.push_back(detail::scaled(1, m, k));
    size_t i = 0, j = all.size() - 1;
    while (i + 1 < all.size() && all[i + 1] <= lo * (1 + 1e-9)) ++i;
    while (j > 0 && all[j - 1] >= hi * (1 - 1e-9)) --j;
    return std::vector<double>(all.begin() + long(i), all.begin() + long(j) + 1);
  };
  ticks = around({1, 2, 5});
  if (ticks.size() < 3) ticks = around({1, 2, 3, 4, 5, 6, 7, 8, 9});
  if (ticks.size() < 3) ticks = nice_ticks(lo, hi);  // hi < 2 lo: the first tick is still > 0
  return ticks;
}

// Labels for evenly spaced ticks: the same number of decimals on each, the fewest that
// tell the step apart (0.0 0.2 0.4; 0.22450 0.22452). From 100000 up, a k/M/G/T suffix
// (200k, 1.5M); below 0.001, an e-suffix (1.5e-4). Zero is "0" when there is a suffix.
inline std::vector<std::string> linear_labels(const std::vector<double>& ticks) {
  double step = ticks.size() > 1 ? std::fabs(ticks[1] - ticks[0]) : 0, maxabs = 0;
  for (double t : ticks) maxabs = std::max(maxabs, std::fabs(t));
  if (!(step > 0)) step = maxabs > 0 ? maxabs : 1;
  double scale = 1;
  std::string suffix;
  if (maxabs >= 1e5) {
    static const char* si[] = {"k", "M", "G", "T", "P", "E"};
    const int e = std::min(6, int(std::floor(std::log10(maxabs) / 3)));
    scale = std::pow(1000.0, e), suffix = si[e - 1];
  } else if (maxabs > 0 && maxabs < 1e-3) {
    const int e = int(std::floor(std::log10(maxabs)));
    scale = detail::scaled(1, 1, e), suffix = "e" + std::to_string(e);
  }
  const int decimals = std::max(0, int(std::ceil(-std::log10(step / scale) - 1e-9)));
  std::vector<std::string> out;
  char buf[64];
  for (double t : ticks) {
    if (std::fabs(t) < step * 1e-6) t = 0;  // no "-0.0" or "2.8e-17"
    if (t == 0 && !suffix.empty()) out.push_back("0");
    else std::snprintf(buf, sizeof buf, "%.*f", decimals, t / scale), out.push_back(buf + suffix);
  }
  return out;
}

// A log tick's label: 0.001 .. 500 as is, then 1k 20k 500k 1M ... 500E, else 1e-4 5e21.
inline std::string log_label(double v) {
  char buf[64];
  const int e = v > 0 ? int(std::floor(std::log10(v) + 1e-9)) : 0;
  const double m = v / detail::scaled(1, 1, e);
  if (!(v > 0) || std::fabs(m - std::round(m)) > 1e-6) {  // not m x 10^e with a whole m
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  const int mi = int(std::round(m));
  if (e >= -3 && e <= 2) std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -e), v);
  else if (e >= 3 && e < 21) {
    static const char* si[] = {"k", "M", "G", "T", "P", "E"};
    std::snprintf(buf, sizeof buf, "%d%s", mi * int(std::pow(10, e % 3)), si[e / 3 - 1]);
  } else std::snprintf(buf, sizeof buf, "%de%d", mi, e);
  return buf;
}

// One axis: its ends (the first and last tick), ticks, labels and, on a log axis, minor ticks.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<double> ticks, minor;
  std::vector<std::string> labels;
  // Where v lies along the axis, 0 at lo and 1 at hi.
  double frac(double v) const {
    return log ? std::log10(v / lo) / std::log10(hi / lo) : (v - lo) / (hi - lo);
  }
};

namespace detail {
// Whether v is m x 10^k with m one of `mantissas`.
inline bool has_mantissa(double v, std::initializer_list<int> mantissas) {
  if (!(v > 0)) return false;
  const double m = v / scaled(1, 1, int(std::floor(std::log10(v) + 1e-9)));
  return std::any_of(mantissas.begin(), mantissas.end(), [&](int x) { return std::fabs(m - x) < 1e-6; });
}
}  // namespace detail

// The axis for data from lo to hi (no data, lo > hi: 0..1, or 1..10 on a log axis).
inline Axis make_axis(double lo, double hi, bool log) {
  Axis a;
  a.log = log;
  if (!(lo <= hi)) lo = log ? 1 : 0, hi = log ? 10 : 1;
  a.ticks = log ? log_ticks(lo, hi) : nice_ticks(lo, hi);
  if (a.ticks.empty()) a.ticks = log ? log_ticks(1, 10) : nice_ticks(0, 1);  // beyond doubles (1e308)
  a.lo = a.ticks.front(), a.hi = a.ticks.back();
  auto all = [&](std::initializer_list<int> ms) {
    return std::all_of(a.ticks.begin(), a.ticks.end(), [&](double t) { return detail::has_mantissa(t, ms); });
  };
  if (!log || !all({1, 2, 3, 4, 5, 6, 7, 8, 9})) {  // evenly spaced ticks (log_ticks' last resort)
    a.labels = linear_labels(a.ticks);
    return a;
  }
  for (double t : a.ticks) a.labels.push_back(log_label(t));
  // Minor ticks: 2..9 between decades, the rest of 1..9 between 1-2-5 ticks; none when
  // decades are skipped or the ticks are already 1..9.
  const bool decades = a.ticks[1] / a.ticks[0] > 9.99, one_two_five = all({1, 2, 5});
  if (a.ticks[1] / a.ticks[0] > 10.01 || !one_two_five) return a;
  for (int k = int(std::floor(std::log10(a.lo))); k < int(std::ceil(std::log10(a.hi))); ++k)
    for (int m = 2; m <= 9; ++m) {
      const double v = detail::scaled(1, m, k);
      if (v > a.lo && v < a.hi && (decades || (m != 2 && m != 5))) a.minor.push_back(v);
    }
  return a;
}

// --- The chart.

namespace detail {
// A coordinate with one decimal, without a trailing ".0": keeps the file small.
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

// An axis title, marked "(log scale)" when the axis is logarithmic.
inline std::string axis_title(const std::string& label, bool log) {
  if (!log || label.find("log") != std::string::npos) return label;
  return label.empty() ? "log scale" : label + " (log scale)";
}
}  // namespace detail

inline std::string render(const Chart& c) {
  using detail::num;
  // 1. The data's range, over the points that can be drawn.
  auto drawable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!c.log_x || x > 0) && (!c.log_y || y > 0);
  };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (drawable(s.x[i], s.y[i]))
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]), y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
  if (!c.log_y && y0 > 0 && y0 < 0.5 * y1) y0 = 0;  // mostly positive (a loss): start the axis at 0
  const Axis ax = make_axis(x0, x1, c.log_x), ay = make_axis(y0, y1, c.log_y);
  const std::string x_title = detail::axis_title(c.x_label, c.log_x), y_title = detail::axis_title(c.y_label, c.log_y);

  // 2. The layout, in pixels: margins sized from the text in them.
  const double fs = 12, tick = 5, plot_w = 600, plot_h = 340;  // font size, tick length, plot area
  double ylab_w = 0;
  for (const auto& l : ay.labels) ylab_w = std::max(ylab_w, text_width(l, fs));
  // Left, from the edge: 10 px, the rotated y title (one line, fs high), 8 px, the widest
  // y tick label, 4 px, the tick. So the title never reaches the tick labels.
  const double y_title_x = 10 + 0.8 * fs;  // its baseline; the glyphs lie within 10 .. 10 + fs
  const double left = 10 + (y_title.empty() ? 0 : fs + 8) + ylab_w + 4 + tick;
  const double top = c.title.empty() ? 16 : 44, bottom = 54;  // x tick labels, 8 px, the x title
  // The last x label is centred on the plot's right edge: half of it sticks out.
  double right = std::max(16.0, text_width(ax.labels.back(), fs) / 2 + 8);
  const bool legend = c.series.size() > 1;
  double legend_w = 0;
  for (const auto& s : c.series) legend_w = std::max(legend_w, text_width(s.label, fs));
  legend_w += 8 + 24 + 6 + 8;  // padding, line sample, gap, padding
  const double legend_h = 8 + 18 * double(c.series.size()) + 2;
  if (legend) right = std::max(right, 12 + legend_w + 10);
  const double W = std::ceil(left + plot_w + right);
  const double H = std::ceil(top + std::max(plot_h, legend ? legend_h : 0.0) + bottom);
  const double px0 = left, px1 = left + plot_w, py0 = H - bottom, py1 = py0 - (H - top - bottom);
  auto X = [&](double v) { return px0 + ax.frac(v) * (px1 - px0); };
  auto Y = [&](double v) { return py0 - ay.frac(v) * (py0 - py1); };
  // A font size for text, at most `size`, that fits `room` pixels.
  auto fit = [](const std::string& text, double size, double room) {
    return std::min(size, room / (0.6 * double(std::max<size_t>(1, text_length(text)))));
  };
  // Where to centre a text over or under the plot: its middle, or nearer the canvas's
  // middle when the text would reach out of the canvas (it fits: fit() saw to that).
  auto centre = [&](const std::string& text, double size) {
    const double half = text_width(text, size) / 2;
    return std::clamp((px0 + px1) / 2, std::min(W / 2, 10 + half), std::max(W / 2, W - 10 - half));
  };
  const double title_fs = fit(c.title, 16, W - 20), x_title_fs = fit(x_title, fs, W - 20);

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"" << fs << "\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!c.title.empty())
    o << "<text class=\"title\" x=\"" << num(centre(c.title, title_fs)) << "\" y=\"28\" text-anchor=\"middle\""
      << " font-size=\"" << num(title_fs) << "\">" << escape(c.title) << "</text>\n";

  // 3. Grid and ticks: grid lines first, under the data; minor ticks shorter, unlabelled.
  auto line = [&](double xa, double ya, double xb, double yb) {
    o << "<line x1=\"" << num(xa) << "\" y1=\"" << num(ya) << "\" x2=\"" << num(xb) << "\" y2=\"" << num(yb)
      << "\"/>\n";
  };
  o << "<g stroke=\"#e5e5e5\">\n";
  for (double t : ax.ticks) line(X(t), py1, X(t), py0);
  for (double t : ay.ticks) line(px0, Y(t), px1, Y(t));
  o << "</g>\n<g stroke=\"#444\">\n";
  for (double t : ax.ticks) line(X(t), py0, X(t), py0 + tick);
  for (double t : ax.minor) line(X(t), py0, X(t), py0 + tick / 2);
  for (double t : ay.ticks) line(px0 - tick, Y(t), px0, Y(t));
  for (double t : ay.minor) line(px0 - tick / 2, Y(t), px0, Y(t));
  o << "</g>\n";
  // The frame, under the data: a point on the axis's end stays whole.
  o << "<rect x=\"" << num(px0) << "\" y=\"" << num(py1) << "\" width=\"" << num(px1 - px0) << "\" height=\""
    << num(py0 - py1) << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (size_t i = 0; i < ax.ticks.size(); ++i)
    o << "<text class=\"xtick\" x=\"" << num(X(ax.ticks[i])) << "\" y=\"" << num(py0 + tick + fs + 2)
      << "\" text-anchor=\"middle\">" << escape(ax.labels[i]) << "</text>\n";
  for (size_t i = 0; i < ay.ticks.size(); ++i)  // baseline 0.35 em below the tick: centred on it
    o << "<text class=\"ytick\" x=\"" << num(px0 - tick - 4) << "\" y=\"" << num(Y(ay.ticks[i]) + 0.35 * fs)
      << "\" text-anchor=\"end\">" << escape(ay.labels[i]) << "</text>\n";
  if (!x_title.empty())  // under the plot, shrunk and moved to stay in the canvas if need be
    o << "<text class=\"xlabel\" x=\"" << num(centre(x_title, x_title_fs)) << "\" y=\"" << num(H - 11)
      << "\" text-anchor=\"middle\" font-size=\"" << num(x_title_fs) << "\">" << escape(x_title) << "</text>\n";
  if (!y_title.empty())  // rotated, reading upwards, centred on the plot's height
    o << "<text class=\"ylabel\" x=\"" << num(y_title_x) << "\" y=\"" << num((py0 + py1) / 2)
      << "\" text-anchor=\"middle\" font-size=\"" << num(fit(y_title, fs, H - 20)) << "\" transform=\"rotate(-90 "
      << num(y_title_x) << " " << num((py0 + py1) / 2) << ")\">" << escape(y_title) << "</text>\n";

  // 4. The data: one polyline per unbroken run of drawable points, at most ~2000 points
  // per series (a 20000-epoch curve looks the same), dots when there are few points.
  // matplotlib's colours, in turn to the data series; grey for reference lines.
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#bcbd22", "#17becf"};
  std::vector<std::string> color, stroke;  // each series' colour, and stroke attributes for its lines and legend
  for (size_t k = 0, data = 0; k < c.series.size(); ++k) {
    color.push_back(c.series[k].reference ? "#7f7f7f" : colors[data++ % 9]);
    stroke.push_back("stroke=\"" + color.back() + (c.series[k].reference ? "\" stroke-dasharray=\"6 4\"" : "\""));
  }
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& s = c.series[k];
    const size_t n = std::min(s.x.size(), s.y.size()), step = std::max<size_t>(1, n / 2000);
    std::vector<std::vector<std::pair<double, double>>> runs(1);
    for (size_t i = 0; i < n; i = (i + step < n || i + 1 == n) ? i + step : n - 1) {
      if (drawable(s.x[i], s.y[i])) runs.back().push_back({X(s.x[i]), Y(s.y[i])});
      else if (!runs.back().empty()) runs.emplace_back();
    }
    size_t points = 0;
    for (const auto& r : runs) points += r.size();
    o << "<g fill=\"none\" " << stroke[k] << " stroke-width=\"1.5\">\n";
    for (const auto& r : runs) {
      if (r.size() < 2) continue;
      o << "<polyline points=\"";
      for (const auto& [x, y] : r) o << num(x) << "," << num(y) << " ";
      o << "\"/>\n";
    }
    o << "</g>\n";
    if (points <= 60 && !s.reference) {
      o << "<g fill=\"" << color[k] << "\">\n";
      for (const auto& r : runs)
        for (const auto& [x, y] : r) o << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"3\"/>\n";
      o << "</g>\n";
    }
  }

  // 5. The legend: a box right of the plot, top-aligned with it.
  if (legend) {
    const double lx = px1 + 12, ly = py1;
    o << "<rect x=\"" << num(lx) << "\" y=\"" << num(ly) << "\" width=\"" << num(legend_w) << "\" height=\""
      << num(legend_h) << "\" fill=\"white\" stroke=\"#ccc\"/>\n";
    for (size_t k = 0; k < c.series.size(); ++k) {
      const double row = ly + 8 + 18 * double(k) + 9;  // the row's middle
      o << "<line x1=\"" << num(lx + 8) << "\" y1=\"" << num(row) << "\" x2=\"" << num(lx + 32) << "\" y2=\""
        << num(row) << "\" " << stroke[k] << " stroke-width=\"2\"/>\n"
        << "<text class=\"legend\" x=\"" << num(lx + 38) << "\" y=\"" << num(row + 0.35 * fs) << "\">"
        << escape(c.series[k].label) << "</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace kn::svg
