#include "rsp/bytes.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>

namespace rsp {

std::string to_hex(ByteView data, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (auto b : data) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0F]);
  }
  return out;
}

static int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Bytes from_hex(std::string_view hex) {
  Bytes out;
  out.reserve(hex.size() / 2);
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == ':' || c == '\n' || c == '\t') continue;
    int n = hex_nibble(c);
    if (n < 0) throw DecodeError("invalid hex character");
    if (hi < 0) {
      hi = n;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | n));
      hi = -1;
    }
  }
  if (hi >= 0) throw DecodeError("odd number of hex digits");
  return out;
}

std::string to_base64(ByteView data) {
  std::size_t olen = 0;
  mbedtls_base64_encode(nullptr, 0, &olen, data.data(), data.size());
  std::string out(olen, '\0');
  if (mbedtls_base64_encode(reinterpret_cast<unsigned char*>(out.data()), out.size(), &olen, data.data(),
                            data.size()) != 0)
    throw std::runtime_error("base64 encode failed");
  out.resize(olen);
  return out;
}

Bytes from_base64(std::string_view b64) {
  // mbedTLS tolerates embedded line breaks; SGP.22 JSON never has them, but a
  // strict length check keeps "abc" (missing padding) an error, as RFC 4648 says.
  if (b64.size() % 4 != 0) throw DecodeError("base64 length is not a multiple of 4");
  std::size_t olen = 0;
  int rc = mbedtls_base64_decode(nullptr, 0, &olen, reinterpret_cast<const unsigned char*>(b64.data()), b64.size());
  if (rc == MBEDTLS_ERR_BASE64_INVALID_CHARACTER) throw DecodeError("invalid base64");
  Bytes out(olen);
  rc = mbedtls_base64_decode(out.data(), out.size(), &olen, reinterpret_cast<const unsigned char*>(b64.data()),
                             b64.size());
  if (rc != 0) throw DecodeError("invalid base64");
  out.resize(olen);
  return out;
}

bool equal_ct(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

void wipe(void* p, std::size_t n) { mbedtls_platform_zeroize(p, n); }

Bytes iccid_to_bcd(std::string_view digits) {
  Bytes out((digits.size() + 1) / 2, 0xFF);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    char c = digits[i];
    if (c < '0' || c > '9') throw DecodeError("ICCID must be decimal digits");
    auto d = static_cast<std::uint8_t>(c - '0');
    auto& byte = out[i / 2];
    // ITU-T E.118 / TS 102 221 13.2: swapped nibbles, low nibble first.
    byte = (i % 2 == 0) ? static_cast<std::uint8_t>((byte & 0xF0) | d) : static_cast<std::uint8_t>((byte & 0x0F) | (d << 4));
  }
  return out;
}

std::string iccid_from_bcd(ByteView bcd) {
  std::string out;
  for (auto b : bcd) {
    for (int n : {b & 0x0F, b >> 4}) {
      if (n == 0x0F) return out;
      if (n > 9) throw DecodeError("ICCID BCD has a non-decimal nibble");
      out.push_back(static_cast<char>('0' + n));
    }
  }
  return out;
}

}  // namespace rsp
