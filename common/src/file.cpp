#include "rsp/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <string>
#include <stdexcept>

namespace rsp {

Bytes read_file(const std::string& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw std::runtime_error("cannot read " + path + ": it is a directory");
  auto too_large = [&] {
    return std::runtime_error("cannot read " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
  };
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) throw too_large();
  Bytes out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<std::size_t>(st.st_size));
  std::uint8_t buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) throw too_large();
    out.insert(out.end(), buf, buf + n);
  }
}

SecretBytes read_private_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error(path + ", whose mode " + mode + " lets others read it (chmod 600 it)");
  }
  return read_file(path, kMaxPrivateFileBytes);
}

namespace {
void write_all_private(const std::string& path, ByteView data, int flags) {
  // open() with the mode, so the file is never readable by others, not even briefly.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw std::runtime_error(path + " exists");
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(e));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}
}  // namespace

void write_private_file(const std::string& path, ByteView data) { write_all_private(path, data, O_TRUNC); }

void create_private_file(const std::string& path, ByteView data) { write_all_private(path, data, O_EXCL); }

void replace_private_file(const std::string& path, ByteView data, const std::string& what) {
  std::string tmp = path + ".tmp";
  auto fail = [&](const std::string& step) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot " + step + ": " + std::strerror(e));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("write " + what + " " + tmp);
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      int e = errno;
      ::close(fd);
      errno = e;
      fail("write " + what + " " + tmp);
    }
    off += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    fail("write " + what + " " + tmp);
  }
  if (::close(fd) != 0) fail("write " + what + " " + tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("replace " + what + " " + path);
}

}  // namespace rsp
