// One key set of a card: the KIc and KID of one key version (ETSI TS 102 225
// Annex A), with the algorithms they are for. The OTA server holds one per
// card and version; the card holds several and picks one by the key version
// in the packet's KIc/KID.
#pragma once
#include <cstdint>

#include "rsp/bytes.hpp"
#include "rsp/ota/security_parameters.hpp"

namespace rsp::ota {

struct KeySet {
  std::uint8_t version = 1;                  // 1..15 (b8..b5 of KIc/KID)
  Algorithm cipher = Algorithm::Implicit;    // what KIc's key is for (used when KIc says "implicit")
  SecretBytes kic;
  Algorithm checksum = Algorithm::Implicit;  // what KID's key is for (CC), or CRC16/CRC32 (RC)
  SecretBytes kid;
};

// The algorithm a KIc/KID names, or the key set's own when it says
// "implicit". Throws PacketError(06) when neither names one, or when both do
// and they differ (a key is bound to its algorithm).
Algorithm resolve_algorithm(Algorithm named, Algorithm key_set_algorithm, const char* field);

}  // namespace rsp::ota
