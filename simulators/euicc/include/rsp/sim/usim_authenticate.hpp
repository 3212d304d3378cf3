// USIM AUTHENTICATE (3GPP TS 31.102 7.1.2) with Milenage, as a UICC command
// hook for rsp::sim::Euicc:
//
//   card.set_uicc_command_hook(rsp::sim::make_usim_authenticate_hook());
//
// Answers `00|ch 88 00 P2 Lc data` on a channel where an ADF USIM (AID
// A0000000871002...) is selected, with the K / OPc / r1..r5 / c1..c5 of the
// enabled profile's PE-AKAParameter (algorithmID milenage):
// - P2 81 (3G context), data = L RAND L AUTN:
//   success: 'DB' L RES L CK L IK [L Kc] + 9000 (Kc by conversion c3);
//   stale SQN: 'DC' L AUTS + 9000; wrong MAC-A: 9862.
// - P2 80 (GSM context), data = L RAND: L SRES L Kc + 9000 (c2 / c3).
// Other status words: no enabled profile, no AKA parameters or not Milenage
// 6985; P1 not 00 or P2 not 80/81: 6A86; malformed data 6A80 / 6700.
// Commands other than AUTHENTICATE, or with no USIM selected, are left to the
// card (the hook returns nullopt).
//
// SQN state: SQNms (the highest SQN accepted) is the enabled profile's card
// image's (UiccContext::sqn_ms), which the eUICC state file keeps; it starts
// at the largest sqnInit value of the PE-AKAParameter (0 if absent). Without
// one (a context built by other code) the hook keeps it per ICCID, in memory. Freshness is "SQN > SQNms" (no SEQ/IND array, no
// sqnDelta / sqnAgeLimit, authCounterMax not enforced).
#pragma once
#include <cstdint>
#include <optional>

#include "rsp/bytes.hpp"
#include "rsp/milenage.hpp"
#include "rsp/sim/euicc.hpp"

namespace rsp::sim {

struct UsimAuthenticateOptions {
  // 3G context: append 'L Kc' (TS 31.102 7.1.2.1: present when the GSM access
  // service n27 is available; we do not look at EF UST).
  bool include_kc = true;
  // Answer the GSM security context (P2 80); otherwise 6A86.
  bool gsm_context = true;
};

UiccCommandHook make_usim_authenticate_hook(UsimAuthenticateOptions options = {});

// Milenage parameters of one PE-AKAParameter, as the eUICC stores it (the
// whole ProfileElement, tag A4, or a bare PE-AKAParameter SEQUENCE).
// nullopt if it does not decode, maps to another profile's parameters
// (mappingParameter) or names an algorithm other than Milenage.
struct UsimMilenageParams {
  SecretBytes k, opc;
  milenage::Constants constants;
  std::uint64_t sqn_init = 0;  // largest sqnInit value
};
std::optional<UsimMilenageParams> usim_milenage_params(ByteView aka_pe_der);

}  // namespace rsp::sim
