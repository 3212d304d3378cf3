#include "rsp/smdp/eligibility.hpp"

#include <DeviceInfo.h>
#include <EUICCInfo2.h>
#include <ProfileElement.h>

#include <algorithm>
#include <stdexcept>

#include "rsp/asn1.hpp"
#include "rsp/smdp/status.hpp"
#include "rsp/tlv.hpp"

namespace rsp::smdp {

namespace a1 = rsp::asn1;

namespace {

// Versions compare byte by byte (major, minor, revision: SGP.22 VersionType).
bool older(ByteView have, ByteView need) {
  return std::lexicographical_compare(have.begin(), have.end(), need.begin(), need.end());
}

const VersionType_t* capability(const DeviceCapabilities_t& c, const std::string& name) {
  const VersionType_t* const members[] = {
      c.gsmSupportedRelease,           c.utranSupportedRelease,        c.cdma2000onexSupportedRelease,
      c.cdma2000hrpdSupportedRelease,  c.cdma2000ehrpdSupportedRelease, c.eutranEpcSupportedRelease,
      c.contactlessSupportedRelease,   c.rspCrlSupportedVersion,       c.nrEpcSupportedRelease,
      c.nr5gcSupportedRelease,         c.eutran5gcSupportedRelease};
  const auto& names = device_capability_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return members[i];
  throw std::invalid_argument("unknown DeviceCapabilities member " + name);
}

[[noreturn]] void not_eligible(const std::string& why) {
  throw FunctionError(status::kNoEligibleProfile, "no eligible profile for this eUICC/device: " + why);
}

}  // namespace

const std::vector<std::string>& device_capability_names() {
  static const std::vector<std::string> names = {
      "gsmSupportedRelease",           "utranSupportedRelease",         "cdma2000onexSupportedRelease",
      "cdma2000hrpdSupportedRelease",  "cdma2000ehrpdSupportedRelease", "eutranEpcSupportedRelease",
      "contactlessSupportedRelease",   "rspCrlSupportedVersion",        "nrEpcSupportedRelease",
      "nr5gcSupportedRelease",         "eutran5gcSupportedRelease"};
  return names;
}

void check_eligibility(const ProfileRequirements& r, const EUICCInfo2& info2, const DeviceInfo& device) {
  // The profile package must be of a version the eUICC's interpreter takes.
  if (!r.profile_version.empty() && older(a1::view(info2.profileVersion), r.profile_version))
    not_eligible("the profile package is version " + version_string(r.profile_version) + ", the eUICC supports " +
                 version_string(a1::view(info2.profileVersion)));
  if (!r.min_pp_version.empty() && older(a1::view(info2.ppVersion), r.min_pp_version))
    not_eligible("the eUICC's Protection Profile version is " + version_string(a1::view(info2.ppVersion)) +
                 ", the profile needs " + version_string(r.min_pp_version));
  // SGP.22 2.9.2: a profile whose PPRs the eUICC lists as forbidden (e.g.
  // PPR1 while another operational profile is installed) cannot be installed.
  if (info2.forbiddenProfilePolicyRules)
    for (unsigned bit : r.ppr)
      if (a1::test_bit(*info2.forbiddenProfilePolicyRules, bit))
        not_eligible("the eUICC forbids the profile's policy rule " + std::string(bit == kPpr1 ? "PPR1" : bit == kPpr2 ? "PPR2" : "pprUpdateControl"));
  for (const auto& [name, release] : r.device_capabilities) {
    const VersionType_t* have = capability(device.deviceCapabilities, name);
    if (!have) not_eligible("the device does not support " + name + " (the profile needs " + version_string(release) + ")");
    if (older(a1::view(*have), release))
      not_eligible("the device's " + name + " is " + version_string(a1::view(*have)) + ", the profile needs " +
                   version_string(release));
  }
  // Memory last: SGP.22 5.6.3 gives it its own code, 8.1/4.8.
  if (r.nvm_bytes > 0) {
    // extCardResource: ETSI TS 102 226 8.2.1.7.2 TLVs; 82 = free
    // non-volatile memory in bytes. Not there (or not TLVs): nothing to check.
    std::optional<tlv::Tlv> free_nvm;
    try {
      free_nvm = tlv::find(a1::view(info2.extCardResource), 0x82);
    } catch (const DecodeError&) {
    }
    if (free_nvm && !free_nvm->value.empty() && free_nvm->value.size() <= 8) {
      std::uint64_t bytes = 0;
      for (auto b : free_nvm->value) bytes = bytes << 8 | b;
      if (bytes < r.nvm_bytes)
        throw FunctionError(status::kInsufficientMemory, "the eUICC has " + std::to_string(bytes) +
                                                             " bytes of free memory, the profile needs " +
                                                             std::to_string(r.nvm_bytes));
    }
  }
}

void check_eligibility_der(const ProfileRequirements& r, ByteView euicc_info2_der, ByteView device_info_der) {
  auto info2 = RSP_ASN1_DECODE(EUICCInfo2, euicc_info2_der);
  auto device = RSP_ASN1_DECODE(DeviceInfo, device_info_der);
  check_eligibility(r, *info2, *device);
}

ProfileRequirements requirements_from_upp(ByteView upp) {
  ProfileRequirements r;
  bool first = true;
  a1::decode_each<ProfileElement_t>(asn_DEF_ProfileElement, upp, [&](a1::Value<ProfileElement_t> pe, ByteView) {
    if (!first) return;
    first = false;
    if (pe->present != ProfileElement_PR_header) throw DecodeError("profile package does not start with a ProfileHeader");
    long major = pe->choice.header.major_version, minor = pe->choice.header.minor_version;
    if (major < 0 || major > 255 || minor < 0 || minor > 255) throw DecodeError("ProfileHeader version out of range");
    r.profile_version = {static_cast<std::uint8_t>(major), static_cast<std::uint8_t>(minor), 0};
  });
  if (first) throw DecodeError("empty profile package");
  r.nvm_bytes = upp.size();
  return r;
}

Bytes parse_version(std::string_view text) {
  Bytes out;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    std::string_view part = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw std::invalid_argument("version '" + std::string(text) + "' is not major.minor.revision");
    int v = std::stoi(std::string(part));
    if (v > 255) throw std::invalid_argument("version '" + std::string(text) + "': a part exceeds 255");
    out.push_back(static_cast<std::uint8_t>(v));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (out.size() != 3) throw std::invalid_argument("version '" + std::string(text) + "' is not major.minor.revision");
  return out;
}

std::string version_string(ByteView v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "." : "") + std::to_string(v[i]);
  return s;
}

Bytes mcc_mnc_from_digits(std::string_view d) {
  if ((d.size() != 5 && d.size() != 6) || !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw std::invalid_argument("MCC+MNC must be 5 or 6 decimal digits");
  auto n = [&](std::size_t i) { return static_cast<std::uint8_t>(d[i] - '0'); };
  std::uint8_t mnc3 = d.size() == 6 ? n(5) : 0x0F;
  // TS 24.008 10.5.1.3: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1.
  return {static_cast<std::uint8_t>(n(1) << 4 | n(0)), static_cast<std::uint8_t>(mnc3 << 4 | n(2)),
          static_cast<std::uint8_t>(n(4) << 4 | n(3))};
}

}  // namespace rsp::smdp
