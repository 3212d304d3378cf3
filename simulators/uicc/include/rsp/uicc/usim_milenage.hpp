// USIM AUTHENTICATE (3GPP TS 31.102 7.1.2) with Milenage (TS 35.206) for
// given keys: the part every simulated card shares (the eUICC's hook takes
// the keys from the enabled profile's PE-AKAParameter, the multi-account
// UICC from its active account).
//
// - P2 81 (3G context), data = L RAND L AUTN: 'DB' L RES L CK L IK [L Kc]
//   (Kc by conversion c3 when include_kc); a stale SQN: 'DC' L AUTS; a
//   wrong MAC-A: '98 62'.
// - P2 80 (GSM context), data = L RAND: L SRES L Kc (c2 / c3), when
//   gsm_context; otherwise '6A 86'.
// - P1 not 00 or another P2: '6A 86'; RAND/AUTN of the wrong size '6A 80';
//   bytes after them '67 00'.
// SQNms is the caller's: read, and moved forward on success (TS 33.102
// 6.3.3: SQN > SQNms; no SEQ/IND array, no age limit).
#pragma once
#include <cstdint>

#include "rsp/apdu.hpp"
#include "rsp/milenage.hpp"

namespace rsp::uicc {

struct MilenageKeys {
  SecretBytes k, opc;
  milenage::Constants constants;
};

struct UsimAuthenticateOptions {
  bool include_kc = true;   // TS 31.102 7.1.2.1: Kc when the GSM access service n27 is on
  bool gsm_context = true;  // answer P2 80
};

// The command must be AUTHENTICATE (INS 88) in the USIM's context; the
// caller checks that. `sqn_ms` is updated on success.
apdu::Response usim_authenticate_milenage(const apdu::Command& c, const MilenageKeys& keys, std::uint64_t& sqn_ms,
                                          const UsimAuthenticateOptions& options = {});

// RID A000000087 (3GPP) + application code 1002 (USIM), TS 101 220 Annex E.
bool is_usim_aid(ByteView aid);

}  // namespace rsp::uicc
