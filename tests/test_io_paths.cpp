// Where kn::io writes (docs/files.md): a regular file is replaced whole through a rename,
// anything else never is. Each test looks at the aftermath: the kinds of the files, their
// inodes, their contents, and that nothing else appeared beside them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <set>
#include <stdexcept>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_util.hpp"

using namespace kn;
using kn::test::error_of;

namespace {

// A fresh empty folder under the build directory, removed when the tests end.
std::string io_dir(const std::string& name) { return kn::test::temp_dir("io-" + name); }
std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
using kn::test::put;
struct stat lstat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}
std::string link_of(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  REQUIRE(n > 0);
  return std::string(buf, size_t(n));
}
// Runs f on a thread and fails the test when it takes more than 5 s (it would hang the
// suite: opening a FIFO waits for the other end). `unblock` then makes it return.
template <typename F>
std::string error_within_5s(F f, const std::function<void()>& unblock) {
  auto done = std::async(std::launch::async, [f] { return error_of(f); });
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    unblock();
    FAIL_CHECK("still running after 5 s");
  }
  return done.get();
}
using kn::test::release_fifo;
// A listening Unix socket at `path` (the descriptor stays open: its file is what counts).
void make_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
}

}  // namespace

TEST_CASE("writing through a symbolic link writes its target and keeps the link", "[io]") {
  const std::string a = io_dir("target"), b = io_dir("links");
  put(a + "/target.txt", "old");
  REQUIRE(::symlink((a + "/target.txt").c_str(), (b + "/link").c_str()) == 0);
  io::write_text_atomic(b + "/link", "new");
  CHECK(S_ISLNK(lstat_of(b + "/link").st_mode));
  CHECK(link_of(b + "/link") == a + "/target.txt");
  CHECK(slurp(a + "/target.txt") == "new");
  CHECK(S_ISREG(lstat_of(a + "/target.txt").st_mode));
  CHECK(entries(a) == std::set<std::string>{"target.txt"});  // no temporary file left, none beside the link
  CHECK(entries(b) == std::set<std::string>{"link"});
}

TEST_CASE("a chain of relative links is followed to the end, and each link stays", "[io]") {
  const std::string a = io_dir("chain-target"), b = io_dir("chain");
  put(a + "/target.txt", "old");
  const std::string rel = "../" + std::filesystem::path(a).filename().string() + "/target.txt";
  REQUIRE(::symlink(rel.c_str(), (b + "/first").c_str()) == 0);
  REQUIRE(::symlink("first", (b + "/second").c_str()) == 0);
  io::write_text_atomic(b + "/second", "through two links");
  CHECK(link_of(b + "/second") == "first");
  CHECK(link_of(b + "/first") == rel);
  CHECK(slurp(a + "/target.txt") == "through two links");
  CHECK(entries(a) == std::set<std::string>{"target.txt"});
  CHECK(entries(b) == std::set<std::string>{"first", "second"});
}

TEST_CASE("a dangling link gets its target created, and stays a link", "[io]") {
  const std::string d = io_dir("dangling");
  REQUIRE(::symlink("made.txt", (d + "/link").c_str()) == 0);
  io::write_text_atomic(d + "/link", "created");
  CHECK(S_ISLNK(lstat_of(d + "/link").st_mode));
  CHECK(S_ISREG(lstat_of(d + "/made.txt").st_mode));
  CHECK(slurp(d + "/made.txt") == "created");
  CHECK(entries(d) == std::set<std::string>{"link", "made.txt"});
  // A target whose folder does not exist: an error, and nothing made.
  REQUIRE(::symlink("missing/x.txt", (d + "/far").c_str()) == 0);
  CHECK(error_of([&] { io::write_text_atomic(d + "/far", "x"); }) ==
        d + "/far: the folder " + d + "/missing does not exist");
  CHECK(entries(d) == std::set<std::string>{"far", "link", "made.txt"});
}

TEST_CASE("a FIFO is written as a stream and stays a FIFO", "[io]") {
  const std::string d = io_dir("fifo"), aux = io_dir("fifo-aux");
  const std::string fifo = d + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A second name for the FIFO, so that the reader can be let go even if the FIFO's own
  // name were replaced (the bug this test is for).
  REQUIRE(::link(fifo.c_str(), (aux + "/same-pipe").c_str()) == 0);
  auto reader = std::async(std::launch::async, [&] {
    std::string got;
    const int fd = ::open(fifo.c_str(), O_RDONLY);
    if (fd < 0) return std::string("cannot open");
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    ::close(fd);
    return got;
  });
  CHECK(error_within_5s([&] { io::write_text_atomic(fifo, "through the pipe\n"); },
                        [&] { release_fifo(aux + "/same-pipe"); }) == "");
  if (reader.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    release_fifo(aux + "/same-pipe");
    FAIL_CHECK("the reader got nothing in 5 s");
  }
  CHECK(reader.get() == "through the pipe\n");
  CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
  CHECK(entries(d) == std::set<std::string>{"pipe"});
}

TEST_CASE("/dev/null stays the same character device after a write to it", "[io]") {
  const struct stat before = lstat_of("/dev/null");
  REQUIRE(S_ISCHR(before.st_mode));
  io::write_text_atomic("/dev/null", "discarded");
  io::write_file_atomic("/dev/null", [](std::ostream& out) { out << std::string(1 << 20, 'x'); });
  const struct stat after = lstat_of("/dev/null");
  CHECK(S_ISCHR(after.st_mode));
  CHECK(after.st_rdev == before.st_rdev);
  CHECK(after.st_ino == before.st_ino);
  for (const auto& name : entries("/dev")) CHECK(name.find("null.tmp") == std::string::npos);
}

TEST_CASE("/dev/stdout is written to descriptor 1, whatever file the shell gave it", "[io]") {
  const std::string d = io_dir("stdout");
  const std::string file = d + "/captured.txt";
  put(file, "before\n");
  const ino_t inode = lstat_of(file).st_ino;
  std::fflush(stdout);
  const int saved = ::dup(1), fd = ::open(file.c_str(), O_WRONLY | O_APPEND);
  REQUIRE(saved >= 0);
  REQUIRE(fd >= 0);
  ::dup2(fd, 1);  // as `>> captured.txt` would: /dev/stdout now resolves to a regular file
  ::close(fd);
  const std::string e1 = error_of([] { io::write_text_atomic("/dev/stdout", "streamed\n"); });
  const std::string e2 = error_of([] { io::write_text_atomic("/proc/self/fd/1", "by descriptor\n"); });
  ::dup2(saved, 1);
  ::close(saved);
  CHECK(e1 == "");
  CHECK(e2 == "");
  CHECK(slurp(file) == "before\nstreamed\nby descriptor\n");
  CHECK(lstat_of(file).st_ino == inode);  // appended to, not replaced
  CHECK(entries(d) == std::set<std::string>{"captured.txt"});
}

TEST_CASE("/dev/fd/N reaches the pipe; a reader gone away is an Error, not SIGPIPE", "[io]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const std::string name = "/dev/fd/" + std::to_string(p[1]);
  io::write_text_atomic(name, "into the pipe");
  char buf[64] = {};
  CHECK(std::string(buf, size_t(::read(p[0], buf, sizeof buf))) == "into the pipe");
  ::close(p[0]);  // no reader left: the next write gets EPIPE (and SIGPIPE would kill the process)
  CHECK(error_of([&] { io::write_text_atomic(name, "nobody reads this"); }) == name + ": write failed: Broken pipe");
  sigset_t pending;
  REQUIRE(::sigpending(&pending) == 0);
  CHECK(sigismember(&pending, SIGPIPE) == 0);  // taken, not left pending
  ::close(p[1]);
  CHECK(error_of([&] { io::write_text_atomic(name, "x"); }) == name + ": descriptor " + std::to_string(p[1]) +
                                                                    " is not open");
}

TEST_CASE("a directory, a socket or a path through a file is an Error, and nothing is made", "[io]") {
  const std::string d = io_dir("kinds");
  std::filesystem::create_directory(d + "/sub");
  CHECK(error_of([&] { io::write_text_atomic(d + "/sub", "x"); }) == d + "/sub: is a directory");
  CHECK(entries(d + "/sub").empty());
  REQUIRE(::symlink("sub", (d + "/to-sub").c_str()) == 0);
  CHECK(error_of([&] { io::write_text_atomic(d + "/to-sub", "x"); }) == d + "/to-sub: is a directory");
  make_socket(d + "/sock");
  CHECK(error_of([&] { io::write_text_atomic(d + "/sock", "x"); }) ==
        d + "/sock: is a socket; kernelnet writes only regular files, FIFOs and character devices");
  CHECK(S_ISSOCK(lstat_of(d + "/sock").st_mode));
  put(d + "/file.txt", "kept");
  CHECK(error_of([&] { io::write_text_atomic(d + "/file.txt/x", "x"); }) ==
        d + "/file.txt/x: " + d + "/file.txt is not a directory");
  CHECK(slurp(d + "/file.txt") == "kept");
  CHECK(entries(d) == std::set<std::string>{"file.txt", "sock", "sub", "to-sub"});
  CHECK(error_of([] { io::write_text_atomic("", "x"); }) == "cannot write to an empty path");
}

TEST_CASE("a regular file is replaced whole, or not at all, and keeps its permissions", "[io]") {
  const std::string d = io_dir("regular");
  const std::string f = d + "/out.txt";
  put(f, "old");
  REQUIRE(::chmod(f.c_str(), 0640) == 0);
  CHECK_THROWS_WITH(io::write_file_atomic(f,
                                          [](std::ostream& out) {
                                            out << std::string(200000, 'y');  // past the buffer: some is written
                                            throw std::runtime_error("the writer failed");
                                          }),
                    "the writer failed");
  CHECK(slurp(f) == "old");
  CHECK(entries(d) == std::set<std::string>{"out.txt"});  // the temporary file went too
  io::write_text_atomic(f, "new");
  CHECK(slurp(f) == "new");
  CHECK((lstat_of(f).st_mode & 07777) == 0640);
  CHECK(entries(d) == std::set<std::string>{"out.txt"});
  io::write_text_atomic(d + "/fresh.txt", "made");  // a new file
  CHECK(slurp(d + "/fresh.txt") == "made");
  CHECK(entries(d) == std::set<std::string>{"fresh.txt", "out.txt"});
}

TEST_CASE("check_output_path fails at once, naming the flag and the path, and changes nothing", "[io]") {
  const std::string d = io_dir("check");
  const auto check = [](const std::string& path) { return error_of([&] { io::check_output_path(path, "--loss-csv"); }); };
  CHECK(check("") == "--loss-csv: the path is empty");
  CHECK(check(d + "/out/loss.csv") == "--loss-csv " + d + "/out/loss.csv: the folder " + d + "/out does not exist");
  CHECK(check(d) == "--loss-csv " + d + ": is a directory");
  put(d + "/file.txt", "kept");
  CHECK(check(d + "/file.txt/x") == "--loss-csv " + d + "/file.txt/x: " + d + "/file.txt is not a directory");
  make_socket(d + "/sock");
  CHECK(check(d + "/sock") ==
        "--loss-csv " + d + "/sock: is a socket; kernelnet writes only regular files, FIFOs and character devices");
  REQUIRE(::symlink("nowhere/x.csv", (d + "/dangling").c_str()) == 0);
  CHECK(check(d + "/dangling") == "--loss-csv " + d + "/dangling: the folder " + d + "/nowhere does not exist");
  REQUIRE(::symlink("new.csv", (d + "/to-new").c_str()) == 0);
  REQUIRE(::symlink("to-self", (d + "/to-self").c_str()) == 0);
  CHECK(check(d + "/to-self") == "--loss-csv " + d + "/to-self: too many levels of symbolic links");
  // What can be written passes, and is left as it was: a FIFO is not opened (it would wait).
  REQUIRE(::mkfifo((d + "/pipe").c_str(), 0600) == 0);
  for (const std::string& ok : {d + "/file.txt", d + "/new.csv", d + "/to-new", d + "/pipe", std::string("/dev/null"),
                               std::string("/dev/stdout"), std::string("/dev/stderr")}) {
    INFO(ok);
    CHECK(error_within_5s([&] { io::check_output_path(ok, "--loss-csv"); }, [&] { release_fifo(d + "/pipe"); }) == "");
  }
  CHECK(entries(d) == std::set<std::string>{"dangling", "file.txt", "pipe", "sock", "to-new", "to-self"});
  CHECK(slurp(d + "/file.txt") == "kept");
  CHECK(S_ISFIFO(lstat_of(d + "/pipe").st_mode));
  // Descriptors by name: open for writing, not reading.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  CHECK(check("/dev/fd/" + std::to_string(p[1])) == "");
  CHECK(check("/dev/fd/" + std::to_string(p[0])) ==
        "--loss-csv /dev/fd/" + std::to_string(p[0]) + ": descriptor " + std::to_string(p[0]) + " is open for reading only");
  ::close(p[0]);
  ::close(p[1]);
  CHECK(check("/proc/self/fd/" + std::to_string(p[1])) ==
        "--loss-csv /proc/self/fd/" + std::to_string(p[1]) + ": descriptor " + std::to_string(p[1]) + " is not open");
}

TEST_CASE("check_output_path and the write refuse what is not writable (not as root)", "[io]") {
  if (::geteuid() == 0) {
    WARN("skipped: root may write anything, so access() says yes");  // the cases above hold for root too
    return;
  }
  const std::string d = io_dir("readonly");
  put(d + "/ro.txt", "kept");
  REQUIRE(::chmod((d + "/ro.txt").c_str(), 0444) == 0);
  CHECK(error_of([&] { io::check_output_path(d + "/ro.txt", "--plot"); }) ==
        "--plot " + d + "/ro.txt: the file is not writable: Permission denied");
  CHECK(error_of([&] { io::write_text_atomic(d + "/ro.txt", "x"); }) ==
        d + "/ro.txt: the file is not writable: Permission denied");
  CHECK(slurp(d + "/ro.txt") == "kept");
  std::filesystem::create_directory(d + "/locked");
  REQUIRE(::chmod((d + "/locked").c_str(), 0555) == 0);
  CHECK(error_of([&] { io::check_output_path(d + "/locked/x.csv", "--plot"); }) ==
        "--plot " + d + "/locked/x.csv: the folder " + d + "/locked is not writable: Permission denied");
  ::chmod((d + "/locked").c_str(), 0755);
}
