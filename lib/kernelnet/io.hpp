// Files: whole-file reads, and writes that never leave a half-written file.
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

#include <kernelnet/error.hpp>

namespace kn::io {

inline std::string read_file(const std::string& path, const char* what = "file") {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str(path, ": cannot open ", what, ": ", std::strerror(errno)));
  // istream::read, not `ss << in.rdbuf()`: that swallows a read error (a directory,
  // EIO) and returns what it had, so the error surfaced later as a "truncated" file.
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf), in.gcount() > 0) bytes.append(buf, std::size_t(in.gcount()));
  if (in.bad()) throw Error(str(path, ": cannot read ", what, ": ", std::strerror(errno)));
  return bytes;
}

// Writes through a temporary file beside `path`, then renames it over `path`: a
// reader sees the old file or the whole new one, never part of one, and a failure
// (a full disk, an exception in `write`) leaves `path` as it was.
inline void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  KN_CHECK(!path.empty(), "cannot write to an empty path");
  std::random_device rd;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(str(path, ": cannot write: ", std::strerror(errno)));
    try {
      write(out);
      out.flush();
      if (!out) throw Error(str(path, ": write failed: ", std::strerror(errno)));
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error(str(path, ": cannot replace the file: ", std::strerror(err)));
  }
}

inline void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out << text; });
}

}  // namespace kn::io
