// Files: reads that refuse what is not a regular file or is too big, and writes that never
// leave a half-written file nor replace what is not a regular file (docs/files.md).
#pragma once
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <ostream>
#include <random>
#include <streambuf>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kernelnet/error.hpp>

namespace kn::io {

// What a reader takes in by default: 2 GiB. A bigger file is refused before it is read.
constexpr uint64_t kMaxReadBytes = uint64_t(2) << 30;

// A file's kind as a message says it.
inline const char* kind_of(mode_t m) {
  return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
       : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket"
       : S_ISLNK(m) ? "a symbolic link" : "not a file";
}

namespace detail {
struct Fd {  // closes what it holds
  int fd = -1;
  ~Fd() { if (fd >= 0) ::close(fd); }
};
}  // namespace detail

// A regular file open for reading. It is checked before it is opened, since opening a
// FIFO waits for a writer and a device such as /dev/zero never ends, and again once open,
// in case the name changed meanwhile. Errors name the path and `what` ("the data file").
class InFile {
 public:
  InFile(const std::string& path, const std::string& what, uint64_t max_bytes, const std::string& raise_with)
      : path_(path), what_(what), max_(max_bytes), raise_(raise_with) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail("cannot open");
    check(st);
    // O_NONBLOCK: should a FIFO take the name now, open returns at once and fstat sees it.
    fd_.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd_.fd < 0 || ::fstat(fd_.fd, &st) != 0) fail("cannot open");
    check(st);
    size_ = uint64_t(st.st_size);
    check_size(size_);
  }
  uint64_t size() const { return size_; }  // as fstat said when opened
  // Up to n bytes; 0 at the end of the file.
  size_t read_some(void* dst, size_t n) {
    ssize_t got;
    while ((got = ::read(fd_.fd, dst, n)) < 0 && errno == EINTR) {}
    if (got < 0) fail("cannot read");
    return size_t(got);
  }
  void read_exact(void* dst, size_t n) {
    for (size_t done = 0, got; done < n; done += got)
      KN_CHECK((got = read_some(static_cast<char*>(dst) + done, n - done)) > 0, path_, ": ", what_, " ended after ",
               done, " of ", n, " bytes (did it change while being read?)");
  }
  void check_size(uint64_t bytes) const {
    KN_CHECK(bytes <= max_, path_, ": ", what_, " is ", bytes == size_ ? "" : "over ", bytes,
             " bytes, over the limit of ", max_, " bytes (raise it with ", raise_, ")");
  }
 private:
  [[noreturn]] void fail(const char* doing) const {
    throw Error(str(path_, ": ", doing, " ", what_, ": ", std::strerror(errno)));
  }
  void check(const struct stat& st) const {
    KN_CHECK(!S_ISDIR(st.st_mode), path_, ": cannot read ", what_, ": is a directory");
    KN_CHECK(S_ISREG(st.st_mode), path_, ": cannot read ", what_, ": not a regular file (", kind_of(st.st_mode), ")");
  }
  std::string path_, what_;
  uint64_t max_, size_ = 0;
  std::string raise_;
  detail::Fd fd_;
};

// A whole regular file, at most max_bytes of it (the check is made again as it is read,
// so that a file that grows meanwhile is refused at max_bytes + 1 bytes).
inline std::string read_file(const std::string& path, const std::string& what = "the file",
                             uint64_t max_bytes = kMaxReadBytes,
                             const std::string& raise_with = "the max_bytes argument of kn::io::read_file") {
  InFile f(path, what, max_bytes, raise_with);
  std::string bytes;
  bytes.reserve(size_t(f.size()));
  char buf[1 << 16];
  for (;;) {
    const uint64_t left = max_bytes - bytes.size();  // one byte more is read, to see the limit crossed
    const size_t n = f.read_some(buf, left < sizeof buf ? size_t(left) + 1 : sizeof buf);
    if (n == 0) return bytes;
    bytes.append(buf, n);
    f.check_size(bytes.size());
  }
}

namespace detail {
// An ostream's buffer over a descriptor, written with write(2) so that an error (EPIPE,
// ENOSPC) is kept in error() rather than lost.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
  int error() const { return err_ ? err_ : EIO; }
 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) *pptr() = traits_type::to_char_type(c), pbump(1);
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }
 private:
  bool drain() {
    for (char* p = pbase(); p < pptr();) {
      const ssize_t n = ::write(fd_, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return err_ = n < 0 ? errno : EIO, false;
      p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return true;
  }
  int fd_, err_ = 0;
  char buf_[1 << 16];
};

// Holds SIGPIPE back on this thread while it writes to a stream, so that a reader gone
// away (kn-iris --loss-csv /dev/stdout | head -1) is EPIPE and an Error naming the path,
// not a silent death. A SIGPIPE raised meanwhile is taken; one pending before is left.
class HoldSigpipe {
 public:
  HoldSigpipe() {
    sigset_t pending;
    sigemptyset(&pipe_), sigaddset(&pipe_, SIGPIPE);
    was_pending_ = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~HoldSigpipe() {
    sigset_t pending;
    const timespec now{0, 0};
    if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
      sigtimedwait(&pipe_, nullptr, &now);
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

inline void write_fd(int fd, const std::string& path, const std::function<void(std::ostream&)>& write) {
  FdBuf buf(fd);
  std::ostream out(&buf);
  write(out);
  out.flush();
  KN_CHECK(out, path, ": write failed: ", std::strerror(buf.error()));
}

// The descriptor of this process a name stands for, or -1: /dev/stdout, /dev/stderr,
// /dev/fd/N, /proc/self/fd/N. Known by name, before any link is followed: /dev/stdout
// leads to the shell's file when stdout is redirected, which must be appended to through
// the open descriptor, not replaced.
inline int stream_fd(const std::string& p) {
  if (p == "/dev/stdout" || p == "/dev/stderr") return p == "/dev/stdout" ? 1 : 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"}) {
    const size_t len = std::strlen(prefix);
    const std::string n = p.compare(0, len, prefix) == 0 ? p.substr(len) : "";
    if (!n.empty() && n.size() < 9 && n.find_first_not_of("0123456789") == std::string::npos) return std::stoi(n);
  }
  return -1;
}

inline std::string folder_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// Where a write to `path` lands: the end of any chain of symbolic links, or a descriptor.
struct Target {
  std::string path;  // the last link's target (or `path` itself)
  int fd = -1;       // >= 0: a descriptor of this process, by name
  int err = 0;       // lstat's errno when it failed (ENOENT: to be created)
  struct stat st {};
  bool stream() const { return fd >= 0 || (err == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))); }
};
inline Target output_target(const std::string& path) {
  Target t{path};
  for (int hops = 0;; ++hops) {
    if ((t.fd = stream_fd(t.path)) >= 0) return t;
    if (::lstat(t.path.c_str(), &t.st) != 0) return t.err = errno, t;
    if (!S_ISLNK(t.st.st_mode)) return t;
    KN_CHECK(hops < 40, path, ": too many levels of symbolic links");
    char buf[4096];
    const ssize_t n = ::readlink(t.path.c_str(), buf, sizeof buf);
    KN_CHECK(n > 0 && size_t(n) < sizeof buf, path, ": cannot read the link ", t.path, ": ", std::strerror(errno));
    const std::string to(buf, size_t(n));  // relative to the link's folder, unless absolute
    t.path = to[0] == '/' || t.path.find('/') == std::string::npos ? to : folder_of(t.path) + "/" + to;
  }
}

// The target of a write to `path`, checked without opening or changing anything (a
// FIFO would wait): errors start with the path and say what is wrong.
inline Target checked_target(const std::string& path) {
  KN_CHECK(!path.empty(), "the path is empty");
  const Target t = output_target(path);
  const std::string dir = folder_of(t.path);
  const auto check_folder = [&] {  // a regular file is written in its folder, then renamed
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
      throw Error(errno == ENOENT ? str(path, ": the folder ", dir, " does not exist")
                                  : str(path, ": the folder ", dir, ": ", std::strerror(errno)));
    KN_CHECK(S_ISDIR(st.st_mode), path, ": ", dir, " is not a directory");
    KN_CHECK(::access(dir.c_str(), W_OK | X_OK) == 0, path, ": the folder ", dir, " is not writable: ",
             std::strerror(errno));
  };
  const mode_t m = t.st.st_mode;
  if (t.fd >= 0) {
    const int flags = ::fcntl(t.fd, F_GETFL);
    KN_CHECK(flags >= 0, path, ": descriptor ", t.fd, " is not open");
    KN_CHECK((flags & O_ACCMODE) != O_RDONLY, path, ": descriptor ", t.fd, " is open for reading only");
  } else if (t.err != 0) {
    KN_CHECK(t.err == ENOENT || t.err == ENOTDIR, path, ": ", std::strerror(t.err));
    check_folder();
  } else {
    KN_CHECK(!S_ISDIR(m), path, ": is a directory");
    KN_CHECK(S_ISREG(m) || S_ISFIFO(m) || S_ISCHR(m), path, ": is ", kind_of(m),
             "; kernelnet writes only regular files, FIFOs and character devices");
    KN_CHECK(::access(t.path.c_str(), W_OK) == 0, path, ": ", S_ISREG(m) ? "the file" : kind_of(m),
             " is not writable: ", std::strerror(errno));
    if (S_ISREG(m)) check_folder();
  }
  return t;
}

// A new regular file at `target`: written beside it, then renamed over it.
inline void replace_file(const std::string& target, const std::string& path, const struct stat* old,
                         const std::function<void(std::ostream&)>& write) {
  std::random_device rd;
  const std::string tmp = target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  Fd fd{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
  KN_CHECK(fd.fd >= 0, path, ": cannot create a file in ", folder_of(target), ": ", std::strerror(errno));
  try {
    if (old) (void)::fchmod(fd.fd, old->st_mode & 07777);  // the old file's permissions, not the umask's
    write_fd(fd.fd, path, write);
    const int closed = ::close(fd.fd);
    fd.fd = -1;
    KN_CHECK(closed == 0, path, ": write failed: ", std::strerror(errno));
    KN_CHECK(::rename(tmp.c_str(), target.c_str()) == 0, path, ": cannot replace the file: ", std::strerror(errno));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}
}  // namespace detail

// Writes `path` so that a reader never sees part of a file, and replaces nothing but a
// regular file. A regular file (or a new one) is written to a temporary file beside it,
// then renamed over it: a failure (a full disk, an exception in `write`) leaves it as it
// was. A symbolic link (or a chain) stays a link: its final target is written that way.
// A FIFO, a character device (/dev/null, a tty), /dev/stdout, /dev/stderr, /dev/fd/N and
// /proc/self/fd/N are streams, written in place (an exception in `write` leaves what was
// sent; opening a FIFO waits for a reader). A directory, a block device or a socket is
// an Error naming the path.
inline void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  KN_CHECK(!path.empty(), "cannot write to an empty path");
  const detail::Target t = detail::checked_target(path);
  if (!t.stream()) return detail::replace_file(t.path, path, t.err == 0 ? &t.st : nullptr, write);
  detail::Fd opened;
  if (t.fd < 0 && (opened.fd = ::open(t.path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0)
    throw Error(str(path, ": cannot open for writing: ", std::strerror(errno)));
  detail::HoldSigpipe hold;
  std::fflush(nullptr);  // what stdio holds for the same descriptor goes first
  detail::write_fd(t.fd >= 0 ? t.fd : opened.fd, path, write);
}

inline void write_text_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(text.data(), std::streamsize(text.size())); });
}

// Whether write_file_atomic(path) can succeed, for a program to check before the work
// that makes the output (a bad --loss-csv then fails at once, not after training). It
// follows links as the write does, opens nothing and changes nothing. The Error names
// `what` and the path: "--loss-csv out/x.csv: the folder out does not exist". As root,
// access() grants almost everything, so less is caught.
inline void check_output_path(const std::string& path, const std::string& what) {
  try {
    detail::checked_target(path);
  } catch (const Error& e) {
    throw Error(what + (path.empty() ? ": " : " ") + e.what());
  }
}

}  // namespace kn::io
