#include "rsp/bytes.hpp"

#include <openssl/evp.h>
#include <mbedtls/platform_util.h>

#include <limits>
#include <stdexcept>

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

// Base64 with OpenSSL's block coder (no line breaks): the SM-DP+ encodes a
// ~13 KB BoundProfilePackage per download (SGP.22 6.5.2.6), where mbedTLS's
// coder was a visible share of smdpd's CPU.
std::string to_base64(ByteView data) {
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() / 4 * 3))
    throw std::length_error("base64: input too large");
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) throw std::runtime_error("base64 encode failed");
  return out;
}

Bytes from_base64(std::string_view b64) {
  // Strict RFC 4648 section 4: the alphabet only, length a multiple of 4,
  // "=" only as the last one or two characters. EVP_DecodeBlock alone would
  // skip surrounding white space and read "=" anywhere as zero bits, so the
  // input is checked first; it then decodes whole quanta, padding as zeros.
  if (b64.size() % 4 != 0) throw DecodeError("base64 length is not a multiple of 4");
  if (b64.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) throw DecodeError("base64 too long");
  std::size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') pad = b64[b64.size() - 2] == '=' ? 2 : 1;
  for (std::size_t i = 0; i < b64.size() - pad; ++i) {
    char c = b64[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) throw DecodeError("invalid base64");
  }
  Bytes out(b64.size() / 4 * 3);
  if (b64.empty()) return out;
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) throw DecodeError("invalid base64");
  out.resize(out.size() - pad);
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
