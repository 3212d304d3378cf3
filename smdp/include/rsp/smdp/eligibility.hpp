// What a profile needs of the eUICC and the device, and the eligibility
// check the SM-DP+ makes in ES9+.AuthenticateClient before it binds the
// profile (SGP.22 v2.2.2 3.1.3 step "eligibility check", 5.6.3; SGP.21 4.4
// "Dynamic Eligibility Check"): against EUICCInfo2 and DeviceInfo as the
// eUICC signed them in euiccSigned1.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rsp/bytes.hpp"

struct EUICCInfo2;
struct DeviceInfo;

namespace rsp::smdp {

// PprIds named bits (SGP.22 2.9.1, ProfileInfo / StoreMetadataRequest).
inline constexpr unsigned kPprUpdateControl = 0, kPpr1 = 1, kPpr2 = 2;
// PPR1: disabling of this profile is not allowed; PPR2: deletion is not allowed.

struct ProfileRequirements {
  // Profile Policy Rules, as PprIds bit numbers (kPpr1, kPpr2); sent in
  // StoreMetadata.profilePolicyRules and checked against the eUICC's
  // forbiddenProfilePolicyRules.
  std::vector<unsigned> ppr;
  // profileOwner.mccMnc (3 bytes, TS 24.008 coding, MNC digit 3 'F' when
  // absent): the operator an eUICC's Rules Authorisation Table must allow
  // the PPRs for (SGP.22 2.9.2). Empty: no profileOwner is sent.
  Bytes profile_owner_mcc_mnc;
  // The package's SIMalliance/TCA version (ProfileHeader major, minor, 0):
  // EUICCInfo2.profileVersion must be at least this. Set when staged.
  Bytes profile_version;
  // Lowest eUICC Protection Profile version (EUICCInfo2.ppVersion) the
  // operator accepts; empty: any.
  Bytes min_pp_version;
  // Free non-volatile memory the profile needs on the eUICC (extCardResource
  // tag 82, ETSI TS 102 226 8.2.1.7.2); 0: not checked. Staging sets it to
  // the package's size unless given.
  std::uint64_t nvm_bytes = 0;
  // DeviceCapabilities members (SGP.22 2.3.1 names, e.g.
  // "eutranEpcSupportedRelease") with the lowest release the profile needs.
  std::vector<std::pair<std::string, Bytes>> device_capabilities;
};

// The DeviceCapabilities member names SGP.22 v2.2.2 2.3.1 defines, in order.
const std::vector<std::string>& device_capability_names();

// Throws FunctionError when the eUICC or device cannot take the profile:
// 8.1/4.8 when the free memory the eUICC reports is less than nvm_bytes,
// 8.2.5/4.3 ("no eligible profile for this eUICC/device") for every other
// requirement not met. The message names the requirement.
void check_eligibility(const ProfileRequirements& r, const EUICCInfo2& info2, const DeviceInfo& device);
// The same from DER: EUICCInfo2 (BF22) and DeviceInfo (30) as encoded.
void check_eligibility_der(const ProfileRequirements& r, ByteView euicc_info2_der, ByteView device_info_der);

// Requirements read from an unprotected profile package: its ProfileHeader
// version and its size. Throws DecodeError like inspect_upp.
ProfileRequirements requirements_from_upp(ByteView upp);

// "1.2.3" <-> {1,2,3}; throws std::invalid_argument on anything else.
Bytes parse_version(std::string_view text);
std::string version_string(ByteView v);
// "00101" / "310410" -> TS 24.008 mccMnc (3 bytes); throws std::invalid_argument.
Bytes mcc_mnc_from_digits(std::string_view digits);

}  // namespace rsp::smdp
