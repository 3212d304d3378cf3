// Byte strings and their textual forms (hex, base64) used on every interface.
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rsp {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Thrown for input that does not parse (hex, base64, TLV, DER...). Protocol
// layers catch it and answer in their own terms (status codes, status words).
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string to_hex(ByteView data, bool upper = false);
Bytes from_hex(std::string_view hex);  // throws DecodeError; ignores spaces
std::string to_base64(ByteView data);
Bytes from_base64(std::string_view b64);  // strict RFC 4648 with padding; throws DecodeError

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string to_string(ByteView b) { return std::string(b.begin(), b.end()); }

inline void append(Bytes& out, ByteView more) { out.insert(out.end(), more.begin(), more.end()); }
template <typename... V>
Bytes concat(const V&... parts) {
  Bytes out;
  (append(out, ByteView(parts)), ...);
  return out;
}

// Constant-time comparison for MACs and secrets.
bool equal_ct(ByteView a, ByteView b);

// Overwrites memory that held a secret; the compiler may not elide it.
void wipe(void* p, std::size_t n);
struct SecretBytes : Bytes {
  using Bytes::Bytes;
  SecretBytes(const Bytes& b) : Bytes(b) {}
  SecretBytes(const SecretBytes&) = default;
  SecretBytes(SecretBytes&&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes& operator=(SecretBytes&&) = default;
  ~SecretBytes() { wipe(data(), size()); }
};

// SGP.22 EID / ICCID helpers: BCD with swapped nibbles (ICCID), plain hex (EID).
Bytes iccid_to_bcd(std::string_view digits);   // "8944..." -> swapped-nibble BCD, F-padded
std::string iccid_from_bcd(ByteView bcd);

}  // namespace rsp
