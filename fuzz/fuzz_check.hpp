// What the fuzz targets hold the readers to: bad input gets one kn::Error whose
// message starts with the name of what was read; anything else is a finding.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <kernelnet/error.hpp>

namespace kn::fuzz {

// abort() is what libFuzzer (and the corpus replay test) report as a crash.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "kernelnet fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs `read`: returning normally and throwing kn::Error are both fine; a kn::Error
// must name `where`, and any other exception is a finding.
template <typename Read>
bool accepts(const std::string& where, Read&& read) {
  try {
    read();
    return true;
  } catch (const kn::Error& e) {
    const std::string msg = e.what();
    if (msg.compare(0, where.size(), where) != 0 || msg.size() <= where.size() + 2)
      finding("the error does not start with '" + where + "': " + msg);
    return false;
  } catch (const std::exception& e) {
    finding(std::string("an exception that is not kn::Error: ") + e.what());
  } catch (...) {
    finding("an exception that is not a std::exception");
  }
}

}  // namespace kn::fuzz
