// Shared helpers for the asn1 tests.
#pragma once
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "rsp/bytes.hpp"

namespace rsp::asn1::test {

inline std::filesystem::path testdata() { return std::filesystem::path(RSP_SHARED_TESTDATA); }

inline Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Hex to bytes, skipping spaces; local so the tests need no rsp_common sources.
inline Bytes hex(std::string_view h) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  int hi = -1;
  for (char c : h) {
    int v = nib(c);
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace rsp::asn1::test
