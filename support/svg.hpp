// A small SVG line chart: enough for a loss curve or a bench sweep, no dependency.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace kn::svg {

struct Series {
  std::string label;
  std::vector<double> x, y;
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

inline std::string fmt(double v) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) std::snprintf(buf, sizeof buf, "%.0e", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

inline std::string render(const Chart& c) {
  const double W = 720, H = 440, left = 80, right = 20, top = 40, bottom = 60;
  auto tx = [&](double v) { return c.log_x ? std::log10(std::max(v, 1e-30)) : v; };
  auto ty = [&](double v) { return c.log_y ? std::log10(std::max(v, 1e-30)) : v; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, tx(s.x[i])), x1 = std::max(x1, tx(s.x[i]));
      y0 = std::min(y0, ty(s.y[i])), y1 = std::max(y1, ty(s.y[i]));
    }
  if (!(x0 < x1)) x0 -= 1, x1 += 1;
  if (!(y0 < y1)) y0 -= 1, y1 += 1;
  if (!c.log_y && y0 > 0 && y0 < 0.5 * y1) y0 = 0;
  auto px = [&](double v) { return left + (tx(v) - x0) / (x1 - x0) * (W - left - right); };
  auto py = [&](double v) { return H - bottom - (ty(v) - y0) / (y1 - y0) * (H - top - bottom); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" << escape(c.title)
    << "</text>\n";
  o << "<line x1=\"" << left << "\" y1=\"" << H - bottom << "\" x2=\"" << W - right << "\" y2=\"" << H - bottom
    << "\" stroke=\"black\"/>\n<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left << "\" y2=\""
    << H - bottom << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 5; ++i) {  // ticks
    const double fx = x0 + (x1 - x0) * i / 5, fy = y0 + (y1 - y0) * i / 5;
    const double vx = c.log_x ? std::pow(10, fx) : fx, vy = c.log_y ? std::pow(10, fy) : fy;
    const double X = left + (W - left - right) * i / 5, Y = H - bottom - (H - top - bottom) * i / 5;
    o << "<line x1=\"" << X << "\" y1=\"" << H - bottom << "\" x2=\"" << X << "\" y2=\"" << H - bottom + 5
      << "\" stroke=\"black\"/><text x=\"" << X << "\" y=\"" << H - bottom + 18 << "\" text-anchor=\"middle\">"
      << fmt(vx) << "</text>\n";
    o << "<line x1=\"" << left - 5 << "\" y1=\"" << Y << "\" x2=\"" << left << "\" y2=\"" << Y
      << "\" stroke=\"black\"/><text x=\"" << left - 8 << "\" y=\"" << Y + 4 << "\" text-anchor=\"end\">" << fmt(vy)
      << "</text>\n";
  }
  o << "<text x=\"" << (left + W - right) / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">"
    << escape(c.x_label) << "</text>\n";
  o << "<text x=\"18\" y=\"" << (top + H - bottom) / 2 << "\" text-anchor=\"middle\" transform=\"rotate(-90 18 "
    << (top + H - bottom) / 2 << ")\">" << escape(c.y_label) << "</text>\n";
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& s = c.series[k];
    o << "<polyline fill=\"none\" stroke=\"" << colors[k % 6] << "\" stroke-width=\"1.5\" points=\"";
    // At most ~2000 points: a 20000-epoch curve needs no more to look the same.
    const size_t step = std::max<size_t>(1, s.x.size() / 2000);
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); i += step)
      if (std::isfinite(s.y[i])) o << px(s.x[i]) << "," << py(s.y[i]) << " ";
    o << "\"/>\n";
    if (c.series.size() > 1)
      o << "<text x=\"" << W - right - 150 << "\" y=\"" << top + 16 * (k + 1) << "\" fill=\"" << colors[k % 6]
        << "\">" << escape(s.label) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace kn::svg
