// Profile Policy Rules and the Rules Authorisation Table (SGP.22 2.9): which
// PPRs a profile carries (StoreMetadata.profilePolicyRules), and whether the
// RAT allows them for the profile's owner. The Profile Policy Enabler's
// refusals of DisableProfile (PPR1) and DeleteProfile (PPR2) are in es10.cpp;
// the install-time check (pprNotAllowed) is called from bpp.cpp.
#include "asn1_util.hpp"

#include <OperatorId.h>
#include <ProfilePolicyAuthorisationRule.h>
#include <RulesAuthorisationTable.h>
#include <StoreMetadataRequest.h>

namespace rsp::sim {

namespace {

constexpr unsigned kConsentRequired = 0;  // pprFlags (SGP.22 2.9.2)

// MCC+MNC digits ('E' wildcard allowed) -> TS 24.008 mccMnc.
Bytes mcc_mnc(const std::string& d) {
  if (d.size() != 5 && d.size() != 6) throw std::invalid_argument("MCC+MNC must be 5 or 6 digits: " + d);
  auto n = [&](std::size_t i) -> std::uint8_t {
    char c = d[i];
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c == 'E' || c == 'e') return 0x0E;
    throw std::invalid_argument("MCC+MNC digit '" + std::string(1, c) + "'");
  };
  std::uint8_t mnc3 = d.size() == 6 ? n(5) : 0x0F;
  return {static_cast<std::uint8_t>(n(1) << 4 | n(0)), static_cast<std::uint8_t>(mnc3 << 4 | n(2)),
          static_cast<std::uint8_t>(n(4) << 4 | n(3))};
}

// SGP.22 2.9.2: in allowedOperators, an 'E' nibble matches any digit; gid1
// and gid2, when the rule gives them, must equal the owner's.
bool operator_matches(const OperatorId_t& rule, const OperatorId_t* owner) {
  ByteView r = asn1::view(rule.mccMnc);
  if (r.size() != 3) return false;
  bool any = true;
  for (auto b : r) any = any && (b & 0x0F) == 0x0E && (b >> 4) == 0x0E;
  if (!owner) return any && !rule.gid1 && !rule.gid2;  // no profileOwner: only "any operator" covers it
  ByteView o = asn1::view(owner->mccMnc);
  if (o.size() != 3) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    for (int shift : {0, 4}) {
      std::uint8_t rn = (r[i] >> shift) & 0x0F, on = (o[i] >> shift) & 0x0F;
      if (rn != 0x0E && rn != on) return false;
    }
  }
  if (rule.gid1 && (!owner->gid1 || asn1::to_bytes(*rule.gid1) != asn1::to_bytes(*owner->gid1))) return false;
  if (rule.gid2 && (!owner->gid2 || asn1::to_bytes(*rule.gid2) != asn1::to_bytes(*owner->gid2))) return false;
  return true;
}

}  // namespace

Bytes make_rat_der(const std::vector<unsigned>& ppr_bits, const std::vector<std::string>& mcc_mncs, bool consent) {
  auto rat = RSP_ASN1_MAKE(RulesAuthorisationTable);
  auto& rule = asn1::add(rat->list);
  for (unsigned bit : ppr_bits) asn1::set_named_bit(rule.pprIds, bit);
  for (const auto& m : mcc_mncs) asn1::set(asn1::add(rule.allowedOperators.list).mccMnc, mcc_mnc(m));
  if (consent) asn1::set_named_bit(rule.pprFlags, kConsentRequired);
  else asn1::set_bits(rule.pprFlags, {}, 0);
  return rat.encode_der();
}

Bytes default_rat_der() { return make_rat_der({1, 2}, {"EEEEEE"}, true); }

std::vector<unsigned> profile_policy_rules(const Profile& p) {
  std::vector<unsigned> out;
  if (p.store_metadata_der.empty()) return out;
  auto md = RSP_ASN1_DECODE(StoreMetadataRequest, p.store_metadata_der);
  if (md->profilePolicyRules)
    for (unsigned bit = 0; bit <= 2; ++bit)
      if (asn1::test_bit(*md->profilePolicyRules, bit)) out.push_back(bit);
  return out;
}

std::optional<std::string> Euicc::Impl::ppr_refusal(ByteView store_metadata_der) const {
  auto md = RSP_ASN1_DECODE(StoreMetadataRequest, store_metadata_der);
  if (!md->profilePolicyRules) return std::nullopt;
  auto rat = RSP_ASN1_DECODE(RulesAuthorisationTable, state.rat_der.empty() ? default_rat_der() : state.rat_der);
  // Each PPR the profile sets (ppr1, ppr2; pprUpdateControl is not a rule
  // the RAT authorises) needs a rule naming it for the profile's owner.
  for (unsigned bit : {1u, 2u}) {
    if (!asn1::test_bit(*md->profilePolicyRules, bit)) continue;
    bool allowed = false;
    for (int i = 0; i < rat->list.count && !allowed; ++i) {
      const auto& rule = *rat->list.array[i];
      if (!asn1::test_bit(rule.pprIds, bit)) continue;
      for (int k = 0; k < rule.allowedOperators.list.count && !allowed; ++k)
        allowed = operator_matches(*rule.allowedOperators.list.array[k], md->profileOwner);
    }
    if (!allowed)
      return std::string("the Rules Authorisation Table does not allow PPR") + std::to_string(bit) +
             (md->profileOwner ? " for this profile owner" : " for a profile without profileOwner");
  }
  return std::nullopt;
}

}  // namespace rsp::sim
