// Profile package generator: personalizes a SIMalliance/TCA interoperable
// profile package (UPP: ProfileElements back to back, PEDefinitions DER)
// from a template plus per-subscriber values (ICCID, IMSI, Milenage keys,
// PINs, SPN, home PLMNs).
//
// generate_profile(): only the ProfileElements that carry a personalized
// value are re-encoded; every other element is copied byte for byte from the
// template. ProfileGenerator: the same packages, byte for byte, from a
// template compiled once into DER with a slot per personalized value.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::smdp {

struct SubscriberValues {
  // Complete ICCID (19 or 20 digits) including its Luhn check digit, which is
  // verified. Use luhn_complete() to append the check digit to a number.
  std::string iccid;
  std::string imsi;  // exactly 15 digits (MCC MNC MSIN)
  // Milenage subscriber key and OPc, 16 bytes each. Every AKA parameter PE
  // of the template that holds algorithm parameters is set to Milenage with
  // these (algorithmOptions, SQN settings are kept from the template).
  SecretBytes ki, opc;
  // Milenage r1..r5 (5 bytes) and c1..c5 (80 bytes); absent: the 3GPP TS
  // 35.206 defaults (encoded by omission, as DER wants for DEFAULT values).
  std::optional<Bytes> milenage_r, milenage_c;
  // PIN/PUK values (TS 102 221 9.5.1 coding: ASCII digits, 'FF'-padded to 8
  // bytes). PIN 4..8 digits, PUK 8 digits. Set wherever the template's PIN /
  // PUK PEs hold that key reference (pinAppl1 = 01, secondPINAppl1 = 81,
  // adm1 = 0A; pukAppl1 = 01, secondPUKAppl1 = 81).
  std::string pin1 = "0000", puk1 = "12345678";
  std::optional<std::string> pin2, puk2;
  // ADM1: empty keeps the template's value; else 8 characters (stored as
  // ASCII, e.g. "12345678") or 16 hex digits (the 8 bytes themselves).
  std::string adm1;
  // EF SPN (TS 31.102 4.2.12): display condition 01, the name in the GSM
  // default alphabet (at most 16 characters), 'FF'-padded.
  std::optional<std::string> spn;
  // "MCCMNC" (5 or 6 digits). Written to EF HPLMNwAcT (all access
  // technologies), the rest of that file marked unused. The template must
  // have EF HPLMNwAcT in its OPT-USIM PE.
  std::vector<std::string> home_plmns;
  // Length of the MNC in the IMSI (2 or 3), written to EF AD byte 4. Absent:
  // taken from the first home PLMN if the IMSI starts with it, otherwise the
  // template's EF AD is left as it is.
  std::optional<unsigned> mnc_length;
};

// ITU-T E.118 / ISO/IEC 7812 Luhn check digit. Both throw
// std::invalid_argument on non-digits or an empty string.
std::string luhn_complete(std::string_view iccid_without_check);  // appends the check digit
bool luhn_valid(std::string_view iccid);                            // last digit is the check digit

// Personalizes a template UPP: the ProfileHeader iccid (plain BCD, F filler)
// and its mandatory services (milenage instead of TUAK / the test
// algorithm), EF ICCID (MF PE), EF IMSI (USIM PE, TS 31.102 coding), the AKA
// parameter PEs, the PIN / PUK PEs, and EF SPN, EF HPLMNwAcT, EF AD when
// requested. Throws std::invalid_argument for bad subscriber values or a
// template that lacks a needed element (no header, no MF / USIM / AKA PE,
// ...), rsp::DecodeError if the template does not decode.
Bytes generate_profile(ByteView template_upp, const SubscriberValues& v);

// Many packages from one template (a batch, an operator's order), each byte
// for byte what generate_profile() makes of the same values, at the cost of
// a copy and a few value codings. The template is compiled on first use for
// each shape of values (which optional values are given: PIN2, PUK2, ADM1,
// SPN, MNC length, non-default Milenage constants, the number of home PLMNs):
// the personalized PEs are DER-encoded once with the values' places
// recorded, and since the shape fixes every value's length, a package is
// that DER with the values written in. Each compilation is checked against
// generate_profile() with the values at hand; a template that cannot be
// patched (e.g. a PIN PE not in DER, which generate_profile() copies as it
// is) is re-encoded per package as generate_profile() does. The compiled
// form holds no subscriber's values (Ki, OPc, PINs are zero in it).
// Thread-safe; errors as generate_profile().
class ProfileGenerator {
 public:
  explicit ProfileGenerator(Bytes template_upp);
  ~ProfileGenerator();
  ProfileGenerator(ProfileGenerator&&) noexcept;
  ProfileGenerator& operator=(ProfileGenerator&&) noexcept;

  Bytes generate(const SubscriberValues& v) const;
  // Whether packages of v's shape are patched (else re-encoded); for tests.
  bool patches(const SubscriberValues& v) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::smdp
