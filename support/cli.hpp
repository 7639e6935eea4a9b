// The command-line parse that kn-iris, kn-info and kn-bench share: CLI11's, with one
// way out for --help and for usage errors. Whoever includes it links CLI11::CLI11.
//
//   if (const auto code = kn::cli::parse(app, argc, argv)) return *code;
#pragma once
#include <optional>

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

}  // namespace kn::cli
