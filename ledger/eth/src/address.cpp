#include "rsp/eth/address.hpp"

#include <cctype>

#include "rsp/eth/keccak.hpp"

namespace rsp::eth {

std::string hex0x(ByteView data) { return "0x" + to_hex(data); }

Bytes parse_hex(std::string_view hex) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  return from_hex(hex);
}

Address address_from_bytes(ByteView b) {
  if (b.size() != 20) throw DecodeError("address: expected 20 bytes, got " + std::to_string(b.size()));
  Address a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

Address parse_address(std::string_view text) {
  std::string_view digits = text;
  if (digits.size() >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
  if (digits.size() != 40) throw DecodeError("address: expected 40 hex digits");
  bool lower = false, upper = false;
  for (char c : digits) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) throw DecodeError("address: bad hex digit");
    if (std::islower(static_cast<unsigned char>(c))) lower = true;
    if (std::isupper(static_cast<unsigned char>(c))) upper = true;
  }
  Address a = address_from_bytes(from_hex(digits));
  // EIP-55: mixed case carries a checksum; single case carries none.
  if (lower && upper && checksum_address(a).substr(2) != digits)
    throw DecodeError("address: EIP-55 checksum mismatch");
  return a;
}

std::string checksum_address(const Address& a) {
  // EIP-55: hash the lower-case hex text; a letter is upper case when the
  // hash nibble at its position is >= 8.
  std::string hex = to_hex(a);
  Bytes h = keccak256(std::string_view(hex));
  for (std::size_t i = 0; i < hex.size(); ++i) {
    unsigned nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0F);
    if (nibble >= 8) hex[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
  }
  return "0x" + hex;
}

}  // namespace rsp::eth
