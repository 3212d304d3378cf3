// Addresses and the 0x-hex forms used on JSON-RPC.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp::eth {

// 20 bytes: the last 20 bytes of keccak256 of the public key's X||Y.
using Address = std::array<std::uint8_t, 20>;

// "0x"-prefixed lower-case hex (JSON-RPC DATA form); "0x" for empty input.
std::string hex0x(ByteView data);
// Hex with or without "0x"; "0x" alone is empty. Throws DecodeError.
Bytes parse_hex(std::string_view hex);

// Parses "0x" + 40 hex digits (the prefix is optional). All-lower or
// all-upper input is accepted as is; mixed case must be a valid EIP-55
// checksum (a typo is refused, as EIP-55 intends). Throws DecodeError.
Address parse_address(std::string_view text);
Address address_from_bytes(ByteView b);  // exactly 20 bytes, else DecodeError
// EIP-55 mixed-case checksum form, "0x" + 40 digits.
std::string checksum_address(const Address& a);

}  // namespace rsp::eth
