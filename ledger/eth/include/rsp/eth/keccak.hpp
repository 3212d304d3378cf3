// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not the
// FIPS-202 SHA3-256 padding (0x06); the two give different digests.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp::eth {

Bytes keccak256(ByteView data);  // 32 bytes
inline Bytes keccak256(std::string_view text) {
  return keccak256(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// Solidity function selector: first 4 bytes of keccak256 of the canonical
// signature, e.g. "transfer(address,uint256)" -> a9059cbb. The signature is
// hashed as given (write it canonical: no spaces, no parameter names, uint256
// not uint).
std::array<std::uint8_t, 4> selector(std::string_view signature);

}  // namespace rsp::eth
