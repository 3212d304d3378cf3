// Shared helpers of the OTA tests.
#pragma once
#include "rsp/bytes.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/key_set.hpp"

namespace ota_test {

inline rsp::ota::KeySet key_set(std::uint8_t version, rsp::ota::Algorithm cipher, const char* kic,
                                rsp::ota::Algorithm checksum, const char* kid) {
  rsp::ota::KeySet k;
  k.version = version;
  k.cipher = cipher;
  k.kic = rsp::from_hex(kic);
  k.checksum = checksum;
  k.kid = rsp::from_hex(kid);
  return k;
}

inline rsp::ota::CommandHeader header(const char* spi, std::uint8_t kic, std::uint8_t kid, const char* tar) {
  rsp::Bytes s = rsp::from_hex(spi), t = rsp::from_hex(tar);
  rsp::ota::CommandHeader h;
  h.spi = rsp::ota::Spi::decode(s.at(0), s.at(1));
  h.kic = kic;
  h.kid = kid;
  h.tar = {t.at(0), t.at(1), t.at(2)};
  return h;
}

}  // namespace ota_test
