#include "rsp/eth/keccak.hpp"

#include <cryptopp/keccak.h>

namespace rsp::eth {

Bytes keccak256(ByteView data) {
  // CryptoPP::Keccak_256 is the pre-standard Keccak Ethereum uses (SHA3_256
  // would be the FIPS-202 variant).
  CryptoPP::Keccak_256 h;
  Bytes out(32);
  h.Update(data.data(), data.size());
  h.Final(out.data());
  return out;
}

std::array<std::uint8_t, 4> selector(std::string_view signature) {
  Bytes h = keccak256(signature);
  return {h[0], h[1], h[2], h[3]};
}

}  // namespace rsp::eth
