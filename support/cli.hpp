// The command-line parse that kn-iris, kn-info and kn-bench share: CLI11's, with one
// way out for --help and for usage errors. Whoever includes it links CLI11::CLI11.
//
//   if (const auto code = kn::cli::parse(app, argc, argv)) return *code;
#pragma once
#include <cstdio>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace kn::cli {

// Parses argv into app. Empty when main should go on; otherwise the exit code main
// returns, after CLI11 printed what it prints: --help writes the help to stdout (exit 0),
// a usage error (an unknown flag, a value out of range, a missing file) writes CLI11's
// message to stderr (exit 2, every usage error alike).
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return std::nullopt;
}

// CLI::Range for a real number, with two mends: NaN is outside every range (CLI::Range
// lets it through, as every comparison with NaN is false: `--lr nan` then failed later,
// as a library error), and an open range says so the same way in --help and in the
// error ("(0 - 1)" in both; a closed one prints "[0 - 1e+06]" as CLI::Range does).
inline CLI::Validator real_range(double lo, double hi, bool open = false) {
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return std::string(buf);
  };
  const std::string bounds = (open ? "(" : "[") + num(lo) + " - " + num(hi) + (open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v)) return "Value " + text + " is not a number";
        const bool inside = open ? (v > lo && v < hi) : (v >= lo && v <= hi);  // false for NaN
        if (!inside) return "Value " + text + " not in range " + bounds + (open ? ", both ends excluded" : "");
        return std::string();
      },
      "FLOAT in " + bounds);
}

}  // namespace kn::cli
