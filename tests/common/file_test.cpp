// rsp::read_file's bounds (issue 9: every file a tool reads is bounded before
// it is held): a file over the limit, an endless device and a directory are
// refused with the path named; a file at the limit is read whole.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "rsp/file.hpp"

namespace rsp {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("rsp-file-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  return p;
}

void write(const fs::path& p, std::size_t n) {
  std::ofstream f(p, std::ios::binary);
  f << std::string(n, 'x');
}

std::string refusal(const std::string& path, std::size_t max) {
  try {
    read_file(path, max);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ReadFile, AtTheLimitIsReadWholeOneByteMoreIsRefused) {
  auto p = scratch("limit");
  write(p, 1000);
  EXPECT_EQ(read_file(p.string(), 1000).size(), 1000u);
  EXPECT_EQ(refusal(p.string(), 999), "cannot read " + p.string() + ": larger than 999 bytes");
  fs::remove(p);
}

TEST(ReadFile, AnEndlessDeviceStopsAtTheLimit) {
  // /dev/zero has no size to check first: the bound must hold while reading.
  EXPECT_EQ(refusal("/dev/zero", 1 << 20), "cannot read /dev/zero: larger than 1048576 bytes");
}

TEST(ReadFile, ADirectoryOrAMissingFileIsNamed) {
  auto d = scratch("dir");
  fs::create_directory(d);
  EXPECT_EQ(refusal(d.string(), 100), "cannot read " + d.string() + ": it is a directory");
  fs::remove(d);
  EXPECT_EQ(refusal(d.string(), 100), "cannot read " + d.string() + ": No such file or directory");
}

TEST(ReadFile, PrivateFilesAreKeySized) {
  auto p = scratch("key");
  write(p, kMaxPrivateFileBytes + 1);
  ::chmod(p.c_str(), 0600);
  EXPECT_THROW(read_private_file(p.string()), std::runtime_error);
  fs::resize_file(p, 32);
  EXPECT_EQ(read_private_file(p.string()).size(), 32u);
  fs::remove(p);
}

}  // namespace
}  // namespace rsp
