// The SM-DP+'s own profile template: a small unprotected profile package
// (SIMalliance/TCA "eUICC Profile Package: Interoperable Format", profile
// elements back to back, PEDefinitions DER) with a Milenage USIM, built from
// the PEDefinitions types, so that generate_profile() has a template without
// any third-party (e.g. GSMA TS.48) material.
//
// What it holds, in order (PE identification numbers 1..8):
//   ProfileHeader   version 2.3, services usim + milenage, templates
//                   2.23.143.1.2.1 (MF), .2.4 (USIM), .2.5 (OPT-USIM)
//   PE-MF           MF, EF PL, EF ICCID, EF DIR (one record: the USIM), EF ARR
//   PE-PUKCodes     PUK1 (01), PUK2 (81)
//   PE-PINCodes     the MF's PINs: PIN1 (01, disabled, unblocked by PUK1), ADM1 (0A)
//   PE-USIM         ADF USIM (kMinimalTemplateUsimAid), EF IMSI, EF ARR, EF UST,
//                   EF SPN, EF EST, EF ACC, EF AD, EF ECC
//   PE-OPT-USIM     EF HPLMNwAcT (one entry, for SubscriberValues::home_plmns)
//   PE-PINCodes     the USIM's local PIN2 (81, unblocked by PUK2)
//   PE-AKAParameter Milenage, Ki and OPc all zero, the TS 35.206 constants
//                   r1..r5 / c1..c5 (DEFAULT values, so omitted in DER)
//   PE-End
// Files the USIM template creates by default (EF KEYS, EF LOCI, EF PSLOCI,
// EF FPLMN, ...) are left to the eUICC. There is no PE-SecurityDomain (no
// MNO-SD, no OTA keys) and no application.
//
// The placeholders (ICCID, IMSI, Ki, OPc, PINs, ADM1, an empty SPN) are meant
// to be replaced: generate_profile(minimal_profile_template(), values).
#pragma once
#include <string_view>

#include "rsp/bytes.hpp"

namespace rsp::smdp {

// Placeholder values the template carries.
inline constexpr std::string_view kMinimalTemplateIccid = "8900000000000000003";  // Luhn-valid
inline constexpr std::string_view kMinimalTemplateImsi = "001010000000000";      // MCC 001, MNC 01
// RID A000000087 (3GPP), application code 1002 (USIM), rest unassigned/generic.
inline constexpr std::string_view kMinimalTemplateUsimAid = "A0000000871002FFFFFFFF8907090000";
inline constexpr std::string_view kMinimalTemplateProfileType = "rsp-marketplace minimal USIM (Milenage)";

// The template, DER. Deterministic: every call returns the same bytes.
Bytes minimal_profile_template();

}  // namespace rsp::smdp
