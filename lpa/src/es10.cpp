#include "rsp/lpa/es10.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <utility>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/lpa/bpp.hpp"
#include "rsp/tlv.hpp"

// asn1c-generated RSPDefinitions types
#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <CancelSessionRequest.h>
#include <CancelSessionResponse.h>
#include <Certificate.h>
#include <DeleteProfileRequest.h>
#include <DeleteProfileResponse.h>
#include <DisableProfileRequest.h>
#include <DisableProfileResponse.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <EnableProfileRequest.h>
#include <EnableProfileResponse.h>
#include <EuiccConfiguredAddressesRequest.h>
#include <EuiccConfiguredAddressesResponse.h>
#include <EuiccMemoryResetRequest.h>
#include <EuiccMemoryResetResponse.h>
#include <GetEuiccChallengeRequest.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataRequest.h>
#include <GetEuiccDataResponse.h>
#include <GetEuiccInfo1Request.h>
#include <GetEuiccInfo2Request.h>
#include <ListNotificationRequest.h>
#include <ListNotificationResponse.h>
#include <NotificationConfigurationInformation.h>
#include <NotificationMetadata.h>
#include <NotificationSentRequest.h>
#include <NotificationSentResponse.h>
#include <OperatorId.h>
#include <PendingNotification.h>
#include <PrepareDownloadRequest.h>
#include <PrepareDownloadResponse.h>
#include <ProfileInfo.h>
#include <ProfileInfoListRequest.h>
#include <ProfileInfoListResponse.h>
#include <ProfileInstallationResult.h>
#include <RetrieveNotificationsListRequest.h>
#include <RetrieveNotificationsListResponse.h>
#include <ServerSigned1.h>
#include <SetDefaultDpAddressRequest.h>
#include <SetDefaultDpAddressResponse.h>
#include <SetNicknameRequest.h>
#include <SetNicknameResponse.h>
#include <SmdpSigned2.h>
#include <CertificationDataObject.h>

namespace rsp::lpa {
namespace {

using Names = std::initializer_list<std::pair<int, const char*>>;

std::string name_of(Names names, int code) {
  for (const auto& [c, n] : names)
    if (c == code) return n;
  return "code" + std::to_string(code);
}

const Names kEnableNames = {{0, "ok"},
                            {1, "iccidOrAidNotFound"},
                            {2, "profileNotInDisabledState"},
                            {3, "disallowedByPolicy"},
                            {4, "wrongProfileReenabling"},
                            {5, "catBusy"},
                            {127, "undefinedError"}};
const Names kDisableNames = {{0, "ok"},      {1, "iccidOrAidNotFound"}, {2, "profileNotInEnabledState"},
                             {3, "disallowedByPolicy"}, {5, "catBusy"}, {127, "undefinedError"}};
const Names kDeleteNames = {{0, "ok"},
                            {1, "iccidOrAidNotFound"},
                            {2, "profileNotInDisabledState"},
                            {3, "disallowedByPolicy"},
                            {127, "undefinedError"}};
const Names kNicknameNames = {{0, "ok"}, {1, "iccidNotFound"}, {127, "undefinedError"}};
const Names kMemoryResetNames = {{0, "ok"}, {1, "nothingToDelete"}, {5, "catBusy"}, {127, "undefinedError"}};
const Names kNotificationSentNames = {{0, "ok"}, {1, "nothingToDelete"}, {127, "undefinedError"}};
const Names kOkUndefined = {{0, "ok"}, {127, "undefinedError"}};
const Names kAuthErrorNames = {{1, "invalidCertificate"}, {2, "invalidSignature"}, {3, "unsupportedCurve"},
                               {4, "noSessionContext"},   {5, "invalidOid"},       {6, "euiccChallengeMismatch"},
                               {7, "ciPKUnknown"},        {127, "undefinedError"}};
const Names kDownloadErrorNames = {{1, "invalidCertificate"}, {2, "invalidSignature"},     {3, "unsupportedCurve"},
                                   {4, "noSessionContext"},   {5, "invalidTransactionId"}, {127, "undefinedError"}};
const Names kCancelErrorNames = {{5, "invalidTransactionId"}, {127, "undefinedError"}};
const Names kBppCommandNames = {{0, "initialiseSecureChannel"}, {1, "configureISDP"},      {2, "storeMetadata"},
                                {3, "storeMetadata2"},          {4, "replaceSessionKeys"}, {5, "loadProfileElements"}};
const Names kErrorReasonNames = {{1, "incorrectInputValues"},
                                 {2, "invalidSignature"},
                                 {3, "invalidTransactionId"},
                                 {4, "unsupportedCrtValues"},
                                 {5, "unsupportedRemoteOperationType"},
                                 {6, "unsupportedProfileClass"},
                                 {7, "scp03tStructureError"},
                                 {8, "scp03tSecurityError"},
                                 {9, "installFailedDueToIccidAlreadyExistsOnEuicc"},
                                 {10, "installFailedDueToInsufficientMemoryForProfile"},
                                 {11, "installFailedDueToInterruption"},
                                 {12, "installFailedDueToPEProcessingError"},
                                 {13, "installFailedDueToDataMismatch"},
                                 {14, "testProfileInstallFailedDueToInvalidNaaKey"},
                                 {15, "pprNotAllowed"},
                                 {127, "installFailedDueToUnknownError"}};

// UICCCapability named bits (SIMalliance/TCA Interoperable Profile, PEDefinitions).
const char* const kUiccCapabilityNames[] = {
    "contactlessSupport", "usimSupport",      "isimSupport",         "csimSupport",         "akaMilenage",
    "akaCave",            "akaTuak128",       "akaTuak256",          "rfu1",                "rfu2",
    "gbaAuthenUsim",      "gbaAuthenISim",    "mbmsAuthenUsim",      "eapClient",           "javacard",
    "multos",             "multipleUsimSupport", "multipleIsimSupport", "multipleCsimSupport", "berTlvFileSupport",
    "dfLinkSupport",      "catTp",            "getIdentity",         "profile-a-x25519",    "profile-b-p256",
    "suciCalculatorApi"};
const char* const kRspCapabilityNames[] = {"additionalProfile", "crlSupport", "rpmSupport", "testProfileSupport"};

[[noreturn]] void malformed(const std::string& fn, const std::string& why) {
  throw Es10Error(fn + ": malformed response from the eUICC: " + why, fn, -1, "malformedResponse");
}

// Decodes `data` as T, turning ASN.1 errors into Es10Error.
template <class T>
asn1::Value<T> decode_response(const std::string& fn, const asn_TYPE_descriptor_t& td, ByteView data) {
  if (data.empty()) malformed(fn, "no data");
  try {
    return asn1::decode<T>(td, data);
  } catch (const DecodeError& e) {
    malformed(fn, e.what());
  }
}

// Decodes `der` into an embedded member of a struct under construction (the
// member must be zeroed): the value is decoded on its own, then moved in.
template <class T>
void embed(const asn_TYPE_descriptor_t& td, T& member, ByteView der) {
  auto v = asn1::decode<T>(td, der);
  T* p = v.release();
  std::memcpy(static_cast<void*>(&member), p, sizeof(T));
  std::free(p);
}

Version to_version(const OCTET_STRING_t& s) {
  Version v{};
  auto b = asn1::view(s);
  for (std::size_t i = 0; i < 3 && i < b.size(); ++i) v[i] = b[i];
  return v;
}

void set_version(OCTET_STRING_t*& member, const std::optional<Version>& v) {
  if (v) member = asn1::new_octet_string(ByteView(v->data(), v->size()));
}

std::optional<std::string> opt_string(const OCTET_STRING_t* s) {
  if (!s) return std::nullopt;
  return asn1::to_string(*s);
}

int to_int(const INTEGER_t& i) { return static_cast<int>(asn1::to_int64(i)); }

NotificationEvent event_of(const BIT_STRING_t& b) {
  for (unsigned n = 0; n < 4; ++n)
    if (asn1::test_bit(b, n)) return static_cast<NotificationEvent>(n);
  throw DecodeError("NotificationEvent with no known bit set");
}

std::vector<int> bits_of(const BIT_STRING_t* b) {
  std::vector<int> out;
  if (!b) return out;
  for (std::size_t n = 0; n < asn1::bit_count(*b); ++n)
    if (asn1::test_bit(*b, n)) out.push_back(static_cast<int>(n));
  return out;
}

Bytes iccid_bytes(std::string_view digits) {
  Bytes b = iccid_to_bcd(digits);
  b.resize(10, 0xFF);
  return b;
}

NotificationMetadata metadata_of(const NotificationMetadata_t& m) {
  NotificationMetadata out;
  out.seq_number = asn1::to_int64(m.seqNumber);
  out.operation = event_of(m.profileManagementOperation);
  out.address = asn1::to_string(m.notificationAddress);
  if (m.iccid) out.iccid = iccid_from_bcd(asn1::view(*m.iccid));
  return out;
}

// The value of a TLV with `tag`, or `in` itself when it is not such a TLV.
Bytes value_if_tlv(ByteView in, std::uint32_t tag) {
  try {
    auto t = tlv::parse_one(in);
    if (t.tag == tag && t.raw.size() == in.size()) return Bytes(t.value.begin(), t.value.end());
  } catch (const DecodeError&) {
  }
  return Bytes(in.begin(), in.end());
}

bool contains(ByteView hay, ByteView needle) {
  return !needle.empty() && std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

template <class List>
std::vector<Bytes> ski_list(const List& list) {
  std::vector<Bytes> out;
  for (int i = 0; i < list.count; ++i) out.push_back(asn1::to_bytes(*list.array[i]));
  return out;
}

Es10Result simple_result(const Names& names, int code) { return Es10Result{code, name_of(names, code)}; }

void fill_profile_identifier(auto& choice_holder, auto pr_aid, auto pr_iccid, const ProfileId& id) {
  if (id.kind == ProfileId::Kind::Aid) {
    choice_holder.present = pr_aid;
    asn1::set(choice_holder.choice.isdpAid, ByteView(id.aid));
  } else {
    choice_holder.present = pr_iccid;
    asn1::set(choice_holder.choice.iccid, ByteView(iccid_bytes(id.iccid)));
  }
}

void put_uint(std::optional<unsigned long long>& out, ByteView v) {
  if (v.empty() || v.size() > 8) return;
  unsigned long long x = 0;
  for (auto b : v) x = (x << 8) | b;
  out = x;
}

}  // namespace

// --- small types --------------------------------------------------------------

std::string version_to_string(const Version& v) {
  return std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
}

std::string_view to_string(NotificationEvent e) {
  switch (e) {
    case NotificationEvent::Install: return "install";
    case NotificationEvent::Enable: return "enable";
    case NotificationEvent::Disable: return "disable";
    case NotificationEvent::Delete: return "delete";
  }
  return "unknown";
}

std::string_view to_string(CancelSessionReason r) {
  switch (r) {
    case CancelSessionReason::EndUserRejection: return "endUserRejection";
    case CancelSessionReason::Postponed: return "postponed";
    case CancelSessionReason::Timeout: return "timeout";
    case CancelSessionReason::PprNotAllowed: return "pprNotAllowed";
    case CancelSessionReason::MetadataMismatch: return "metadataMismatch";
    case CancelSessionReason::LoadBppExecutionError: return "loadBppExecutionError";
    case CancelSessionReason::UndefinedReason: return "undefinedReason";
  }
  return "undefinedReason";
}

std::string_view profile_state_name(int state) {
  switch (state) {
    case 0: return "disabled";
    case 1: return "enabled";
    default: return "unknown";
  }
}

std::string_view profile_class_name(int cls) {
  switch (cls) {
    case 0: return "test";
    case 1: return "provisioning";
    case 2: return "operational";
    default: return "unknown";
  }
}

ProfileId ProfileId::from_iccid(std::string_view digits) {
  std::string d(digits);
  if (!d.empty() && (d.back() == 'F' || d.back() == 'f')) d.pop_back();
  if (d.size() < 18 || d.size() > 20 || !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw std::invalid_argument("ICCID must be 18-20 decimal digits: '" + std::string(digits) + "'");
  ProfileId id;
  id.kind = Kind::Iccid;
  id.iccid = d;
  return id;
}

ProfileId ProfileId::from_aid(ByteView aid) {
  if (aid.size() < 5 || aid.size() > 16) throw std::invalid_argument("ISD-P AID must be 5..16 bytes");
  ProfileId id;
  id.kind = Kind::Aid;
  id.aid.assign(aid.begin(), aid.end());
  return id;
}

ProfileId ProfileId::parse(std::string_view text) {
  if (text.size() >= 10 && text.size() <= 32 && text.size() % 2 == 0 && (text.substr(0, 2) == "A0" || text.substr(0, 2) == "a0")) {
    try {
      return from_aid(from_hex(text));
    } catch (const DecodeError&) {
    }
  }
  return from_iccid(text);
}

std::string ProfileId::to_string() const { return kind == Kind::Aid ? to_hex(aid, true) : iccid; }

DeviceInfo DeviceInfo::plausible_default() {
  DeviceInfo d;
  d.tac = {0x35, 0x67, 0x41, 0x08};
  const Version r15 = {15, 0, 0};
  d.gsm = r15;
  d.utran = r15;
  d.eutran_epc = r15;
  d.nr_epc = r15;
  d.nr_5gc = r15;
  d.eutran_5gc = r15;
  return d;
}

void DeviceInfo::set_imei(std::string_view digits) {
  if ((digits.size() != 15 && digits.size() != 16) ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw std::invalid_argument("IMEI must be 15 (IMEI) or 16 (IMEISV) decimal digits");
  for (std::size_t i = 0; i < 4; ++i)
    tac[i] = static_cast<std::uint8_t>(((digits[2 * i] - '0') << 4) | (digits[2 * i + 1] - '0'));
  Bytes b = iccid_to_bcd(digits);  // swapped nibbles, F-padded
  b.resize(8, 0xFF);
  imei = b;
}

std::string ProfileInstallationResult::describe() const {
  if (success) return "success (ISD-P " + to_hex(isdp_aid, true) + ")";
  return "error: " + bpp_command_name + " / " + error_reason_name;
}

// --- decoders -------------------------------------------------------------------

NotificationMetadata decode_notification_metadata(ByteView bf2f) {
  auto m = decode_response<NotificationMetadata_t>("NotificationMetadata", asn_DEF_NotificationMetadata, bf2f);
  try {
    return metadata_of(*m);
  } catch (const DecodeError& e) {
    malformed("NotificationMetadata", e.what());
  }
}

ProfileInstallationResult decode_profile_installation_result(ByteView bf37) {
  const std::string fn = "LoadBoundProfilePackage";
  auto pir = decode_response<ProfileInstallationResult_t>(fn, asn_DEF_ProfileInstallationResult, bf37);
  ProfileInstallationResult out;
  out.raw.assign(bf37.begin(), bf37.end());
  const auto& d = pir->profileInstallationResultData;
  out.transaction_id = asn1::to_bytes(d.transactionId);
  try {
    out.notification = metadata_of(d.notificationMetadata);
    out.smdp_oid = asn1::oid_to_string(d.smdpOid);
    switch (d.finalResult.present) {
      case ProfileInstallationResultData__finalResult_PR_successResult:
        out.success = true;
        out.isdp_aid = asn1::to_bytes(d.finalResult.choice.successResult.aid);
        break;
      case ProfileInstallationResultData__finalResult_PR_errorResult: {
        const auto& e = d.finalResult.choice.errorResult;
        out.success = false;
        out.bpp_command_id = to_int(e.bppCommandId);
        out.error_reason = to_int(e.errorReason);
        out.bpp_command_name = name_of(kBppCommandNames, out.bpp_command_id);
        out.error_reason_name = name_of(kErrorReasonNames, out.error_reason);
        break;
      }
      default:
        malformed(fn, "finalResult missing");
    }
  } catch (const DecodeError& e) {
    malformed(fn, e.what());
  }
  return out;
}

// --- Es10Client -------------------------------------------------------------------

Es10Client::Es10Client(apdu::Transport& transport, ChannelOptions options) : channel_(transport, std::move(options)) {}

Bytes Es10Client::get_euicc_challenge() {
  auto req = RSP_ASN1_MAKE(GetEuiccChallengeRequest);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<GetEuiccChallengeResponse_t>("GetEuiccChallenge", asn_DEF_GetEuiccChallengeResponse, rsp);
  return asn1::to_bytes(r->euiccChallenge);
}

EuiccInfo1 Es10Client::get_euicc_info1() {
  auto req = RSP_ASN1_MAKE(GetEuiccInfo1Request);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<EUICCInfo1_t>("GetEUICCInfo1", asn_DEF_EUICCInfo1, rsp);
  EuiccInfo1 out;
  out.raw = rsp;
  out.svn = to_version(r->svn);
  out.ci_pkids_verification = ski_list(r->euiccCiPKIdListForVerification.list);
  out.ci_pkids_signing = ski_list(r->euiccCiPKIdListForSigning.list);
  return out;
}

EuiccInfo2 Es10Client::get_euicc_info2() {
  auto req = RSP_ASN1_MAKE(GetEuiccInfo2Request);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<EUICCInfo2_t>("GetEUICCInfo2", asn_DEF_EUICCInfo2, rsp);
  EuiccInfo2 out;
  out.raw = rsp;
  out.profile_version = to_version(r->profileVersion);
  out.svn = to_version(r->svn);
  out.firmware_version = to_version(r->euiccFirmwareVer);
  out.ext_card_resource = asn1::to_bytes(r->extCardResource);
  try {
    for (const auto& t : tlv::parse_all(out.ext_card_resource)) {
      if (t.tag == 0x81) put_uint(out.installed_applications, t.value);
      if (t.tag == 0x82) put_uint(out.free_nvm, t.value);
      if (t.tag == 0x83) put_uint(out.free_volatile, t.value);
    }
  } catch (const DecodeError&) {
    log::warn("lpa.es10", "extCardResource is not a TLV list; left undecoded");
  }
  for (int bit : bits_of(&r->uiccCapability))
    out.uicc_capability.push_back(bit < static_cast<int>(std::size(kUiccCapabilityNames)) ? kUiccCapabilityNames[bit]
                                                                                           : "bit" + std::to_string(bit));
  if (r->ts102241Version) out.javacard_version = to_version(*r->ts102241Version);
  if (r->globalplatformVersion) out.globalplatform_version = to_version(*r->globalplatformVersion);
  for (int bit : bits_of(&r->rspCapability))
    out.rsp_capability.push_back(bit < static_cast<int>(std::size(kRspCapabilityNames)) ? kRspCapabilityNames[bit]
                                                                                        : "bit" + std::to_string(bit));
  out.ci_pkids_verification = ski_list(r->euiccCiPKIdListForVerification.list);
  out.ci_pkids_signing = ski_list(r->euiccCiPKIdListForSigning.list);
  if (r->euiccCategory) out.euicc_category = to_int(*r->euiccCategory);
  out.forbidden_profile_policy_rules = bits_of(r->forbiddenProfilePolicyRules);
  out.pp_version = to_version(r->ppVersion);
  out.sas_accreditation_number = asn1::to_string(r->sasAcreditationNumber);
  if (r->certificationDataObject) {
    out.platform_label = asn1::to_string(r->certificationDataObject->platformLabel);
    out.discovery_base_url = asn1::to_string(r->certificationDataObject->discoveryBaseURL);
  }
  return out;
}

std::string Es10Client::get_eid() {
  auto req = RSP_ASN1_MAKE(GetEuiccDataRequest);
  const std::uint8_t eid_tag = 0x5A;
  asn1::set(req->tagList, ByteView(&eid_tag, 1));
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<GetEuiccDataResponse_t>("GetEID", asn_DEF_GetEuiccDataResponse, rsp);
  return to_hex(asn1::view(r->eidValue), true);
}

ConfiguredAddresses Es10Client::get_configured_addresses() {
  auto req = RSP_ASN1_MAKE(EuiccConfiguredAddressesRequest);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<EuiccConfiguredAddressesResponse_t>("EuiccConfiguredAddresses",
                                                               asn_DEF_EuiccConfiguredAddressesResponse, rsp);
  ConfiguredAddresses out;
  out.default_dp_address = opt_string(r->defaultDpAddress);
  out.root_ds_address = asn1::to_string(r->rootDsAddress);
  return out;
}

Es10Result Es10Client::set_default_dp_address(std::string_view address) {
  auto req = RSP_ASN1_MAKE(SetDefaultDpAddressRequest);
  asn1::set(req->defaultDpAddress, address);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<SetDefaultDpAddressResponse_t>("SetDefaultDpAddress", asn_DEF_SetDefaultDpAddressResponse, rsp);
  return simple_result(kOkUndefined, to_int(r->setDefaultDpAddressResult));
}

std::vector<ProfileInfo> Es10Client::get_profiles_info() {
  auto req = RSP_ASN1_MAKE(ProfileInfoListRequest);
  Bytes rsp = command(req.encode_der());
  const std::string fn = "GetProfilesInfo";
  auto r = decode_response<ProfileInfoListResponse_t>(fn, asn_DEF_ProfileInfoListResponse, rsp);
  if (r->present == ProfileInfoListResponse_PR_profileInfoListError) {
    int code = to_int(r->choice.profileInfoListError);
    std::string name = name_of({{1, "incorrectInputValues"}, {127, "undefinedError"}}, code);
    throw Es10Error(fn + " failed: " + name, fn, code, name);
  }
  if (r->present != ProfileInfoListResponse_PR_profileInfoListOk) malformed(fn, "no choice");
  std::vector<ProfileInfo> out;
  const auto& list = r->choice.profileInfoListOk.list;
  for (int i = 0; i < list.count; ++i) {
    const ProfileInfo_t& p = *list.array[i];
    ProfileInfo info;
    if (p.iccid) info.iccid = iccid_from_bcd(asn1::view(*p.iccid));
    if (p.isdpAid) info.isdp_aid = asn1::to_bytes(*p.isdpAid);
    if (p.profileState) info.state = to_int(*p.profileState);
    info.nickname = opt_string(p.profileNickname);
    info.service_provider_name = opt_string(p.serviceProviderName);
    info.profile_name = opt_string(p.profileName);
    if (p.iconType) info.icon_type = to_int(*p.iconType);
    if (p.icon) info.icon = asn1::to_bytes(*p.icon);
    if (p.profileClass) info.profile_class = to_int(*p.profileClass);
    if (p.profileOwner) info.owner_mcc_mnc = asn1::to_bytes(p.profileOwner->mccMnc);
    info.policy_rules = bits_of(p.profilePolicyRules);
    if (p.notificationConfigurationInfo) {
      const auto& ncl = p.notificationConfigurationInfo->list;
      for (int k = 0; k < ncl.count; ++k) {
        try {
          info.notification_configuration.emplace_back(event_of(ncl.array[k]->profileManagementOperation),
                                                       asn1::to_string(ncl.array[k]->notificationAddress));
        } catch (const DecodeError&) {
        }
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Es10Result Es10Client::enable_profile(const ProfileId& id, bool refresh) {
  auto req = RSP_ASN1_MAKE(EnableProfileRequest);
  fill_profile_identifier(req->profileIdentifier, EnableProfileRequest__profileIdentifier_PR_isdpAid,
                          EnableProfileRequest__profileIdentifier_PR_iccid, id);
  req->refreshFlag = refresh ? 1 : 0;
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<EnableProfileResponse_t>("EnableProfile", asn_DEF_EnableProfileResponse, rsp);
  return simple_result(kEnableNames, to_int(r->enableResult));
}

Es10Result Es10Client::disable_profile(const ProfileId& id, bool refresh) {
  auto req = RSP_ASN1_MAKE(DisableProfileRequest);
  fill_profile_identifier(req->profileIdentifier, DisableProfileRequest__profileIdentifier_PR_isdpAid,
                          DisableProfileRequest__profileIdentifier_PR_iccid, id);
  req->refreshFlag = refresh ? 1 : 0;
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<DisableProfileResponse_t>("DisableProfile", asn_DEF_DisableProfileResponse, rsp);
  return simple_result(kDisableNames, to_int(r->disableResult));
}

Es10Result Es10Client::delete_profile(const ProfileId& id) {
  auto req = RSP_ASN1_MAKE(DeleteProfileRequest);
  fill_profile_identifier(*req, DeleteProfileRequest_PR_isdpAid, DeleteProfileRequest_PR_iccid, id);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<DeleteProfileResponse_t>("DeleteProfile", asn_DEF_DeleteProfileResponse, rsp);
  return simple_result(kDeleteNames, to_int(r->deleteResult));
}

Es10Result Es10Client::set_nickname(std::string_view iccid, std::string_view nickname) {
  ProfileId id = ProfileId::from_iccid(iccid);
  if (nickname.size() > 64) throw std::invalid_argument("nickname longer than 64 bytes");
  auto req = RSP_ASN1_MAKE(SetNicknameRequest);
  asn1::set(req->iccid, ByteView(iccid_bytes(id.iccid)));
  asn1::set(req->profileNickname, nickname);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<SetNicknameResponse_t>("SetNickname", asn_DEF_SetNicknameResponse, rsp);
  return simple_result(kNicknameNames, to_int(r->setNicknameResult));
}

Es10Result Es10Client::euicc_memory_reset(bool operational, bool test, bool default_smdp) {
  auto req = RSP_ASN1_MAKE(EuiccMemoryResetRequest);
  asn1::set_named_bit(req->resetOptions, 0, operational);
  asn1::set_named_bit(req->resetOptions, 1, test);
  asn1::set_named_bit(req->resetOptions, 2, default_smdp);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<EuiccMemoryResetResponse_t>("EuiccMemoryReset", asn_DEF_EuiccMemoryResetResponse, rsp);
  return simple_result(kMemoryResetNames, to_int(r->resetResult));
}

std::vector<NotificationMetadata> Es10Client::list_notifications(std::optional<NotificationEvent> filter) {
  auto req = RSP_ASN1_MAKE(ListNotificationRequest);
  if (filter) {
    req->profileManagementOperation = asn1::alloc<NotificationEvent_t>();
    asn1::set_named_bits(*req->profileManagementOperation, {static_cast<unsigned>(*filter)});
  }
  Bytes rsp = command(req.encode_der());
  const std::string fn = "ListNotification";
  auto r = decode_response<ListNotificationResponse_t>(fn, asn_DEF_ListNotificationResponse, rsp);
  if (r->present == ListNotificationResponse_PR_listNotificationsResultError) {
    int code = to_int(r->choice.listNotificationsResultError);
    throw Es10Error(fn + " failed: " + name_of(kOkUndefined, code), fn, code, name_of(kOkUndefined, code));
  }
  if (r->present != ListNotificationResponse_PR_notificationMetadataList) malformed(fn, "no choice");
  std::vector<NotificationMetadata> out;
  const auto& list = r->choice.notificationMetadataList.list;
  for (int i = 0; i < list.count; ++i) {
    try {
      out.push_back(metadata_of(*list.array[i]));
    } catch (const DecodeError& e) {
      malformed(fn, e.what());
    }
  }
  return out;
}

std::vector<PendingNotification> Es10Client::retrieve_notifications(std::optional<long long> seq_number) {
  auto req = RSP_ASN1_MAKE(RetrieveNotificationsListRequest);
  if (seq_number) {
    req->searchCriteria = asn1::alloc<std::remove_pointer_t<decltype(req->searchCriteria)>>();
    req->searchCriteria->present = RetrieveNotificationsListRequest__searchCriteria_PR_seqNumber;
    asn1::set_int64(req->searchCriteria->choice.seqNumber, *seq_number);
  }
  Bytes rsp = command(req.encode_der());
  const std::string fn = "RetrieveNotificationsList";
  auto r = decode_response<RetrieveNotificationsListResponse_t>(fn, asn_DEF_RetrieveNotificationsListResponse, rsp);
  if (r->present == RetrieveNotificationsListResponse_PR_notificationsListResultError) {
    int code = to_int(r->choice.notificationsListResultError);
    if (code == 1) return {};  // noResultAvailable
    std::string name = name_of({{1, "noResultAvailable"}, {127, "undefinedError"}}, code);
    throw Es10Error(fn + " failed: " + name, fn, code, name);
  }
  if (r->present != RetrieveNotificationsListResponse_PR_notificationList) malformed(fn, "no choice");

  // The raw PendingNotification values, exactly as the eUICC signed them:
  // BF2B { A0 { PendingNotification... } }.
  std::vector<tlv::Tlv> raws;
  try {
    auto outer = tlv::parse_one(rsp);
    auto list_tlv = tlv::parse_one(outer.value);
    raws = tlv::parse_all(list_tlv.value);
  } catch (const DecodeError& e) {
    malformed(fn, e.what());
  }
  const auto& list = r->choice.notificationList.list;
  if (static_cast<std::size_t>(list.count) != raws.size()) malformed(fn, "notification count mismatch");
  std::vector<PendingNotification> out;
  for (int i = 0; i < list.count; ++i) {
    const PendingNotification_t& p = *list.array[i];
    PendingNotification n;
    n.raw.assign(raws[static_cast<std::size_t>(i)].raw.begin(), raws[static_cast<std::size_t>(i)].raw.end());
    try {
      if (p.present == PendingNotification_PR_profileInstallationResult) {
        n.profile_installation_result = true;
        n.metadata = metadata_of(p.choice.profileInstallationResult.profileInstallationResultData.notificationMetadata);
      } else if (p.present == PendingNotification_PR_otherSignedNotification) {
        n.metadata = metadata_of(p.choice.otherSignedNotification.tbsOtherNotification);
      } else {
        malformed(fn, "unknown PendingNotification choice");
      }
    } catch (const DecodeError& e) {
      malformed(fn, e.what());
    }
    out.push_back(std::move(n));
  }
  return out;
}

Es10Result Es10Client::notification_sent(long long seq_number) {
  auto req = RSP_ASN1_MAKE(NotificationSentRequest);
  asn1::set_int64(req->seqNumber, seq_number);
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<NotificationSentResponse_t>("NotificationSent", asn_DEF_NotificationSentResponse, rsp);
  return simple_result(kNotificationSentNames, to_int(r->deleteNotificationStatus));
}

AuthenticateServerResult Es10Client::authenticate_server(const AuthenticateServerInput& in) {
  const std::string fn = "AuthenticateServer";
  Bytes signature = value_if_tlv(in.server_signature1, 0x5F37);
  Bytes ski = value_if_tlv(in.euicc_ci_pkid_to_be_used, 0x04);

  auto req = RSP_ASN1_MAKE(AuthenticateServerRequest);
  embed(asn_DEF_ServerSigned1, req->serverSigned1, in.server_signed1);
  asn1::set(req->serverSignature1, ByteView(signature));
  asn1::set(req->euiccCiPKIdToBeUsed, ByteView(ski));
  embed(asn_DEF_Certificate, req->serverCertificate, in.server_certificate);
  req->ctxParams1.present = CtxParams1_PR_ctxParamsForCommonAuthentication;
  auto& ctx = req->ctxParams1.choice.ctxParamsForCommonAuthentication;
  if (in.matching_id) ctx.matchingId = asn1::new_octet_string(std::string_view(*in.matching_id));
  const DeviceInfo& d = in.device_info;
  asn1::set(ctx.deviceInfo.tac, ByteView(d.tac.data(), d.tac.size()));
  auto& caps = ctx.deviceInfo.deviceCapabilities;
  set_version(caps.gsmSupportedRelease, d.gsm);
  set_version(caps.utranSupportedRelease, d.utran);
  set_version(caps.cdma2000onexSupportedRelease, d.cdma2000_1x);
  set_version(caps.cdma2000hrpdSupportedRelease, d.cdma2000_hrpd);
  set_version(caps.cdma2000ehrpdSupportedRelease, d.cdma2000_ehrpd);
  set_version(caps.eutranEpcSupportedRelease, d.eutran_epc);
  set_version(caps.contactlessSupportedRelease, d.contactless);
  set_version(caps.rspCrlSupportedVersion, d.rsp_crl);
  set_version(caps.nrEpcSupportedRelease, d.nr_epc);
  set_version(caps.nr5gcSupportedRelease, d.nr_5gc);
  set_version(caps.eutran5gcSupportedRelease, d.eutran_5gc);
  if (d.imei) ctx.deviceInfo.imei = asn1::new_octet_string(ByteView(*d.imei));
  Bytes der = req.encode_der();
  if (!contains(der, in.server_signed1) || !contains(der, in.server_certificate)) {
    // The SM-DP+ signed serverSigned1 as it sent it; a value that asn1c does
    // not re-encode byte for byte (not DER) is passed on unchanged.
    log::warn("lpa.es10", "serverSigned1/serverCertificate not in DER; passing the received bytes on");
    Bytes ctx_der = RSP_ASN1_ENCODE(CtxParams1, &req->ctxParams1);
    der = tlv::make(0xBF38, concat(in.server_signed1, tlv::make(0x5F37, signature), tlv::make(0x04, ski),
                                   in.server_certificate, ctx_der));
  }

  Bytes rsp = command(der);
  auto r = decode_response<AuthenticateServerResponse_t>(fn, asn_DEF_AuthenticateServerResponse, rsp);
  AuthenticateServerResult out;
  out.raw = rsp;
  if (r->present == AuthenticateServerResponse_PR_authenticateResponseOk) {
    out.ok = true;
    out.transaction_id = asn1::to_bytes(r->choice.authenticateResponseOk.euiccSigned1.transactionId);
  } else if (r->present == AuthenticateServerResponse_PR_authenticateResponseError) {
    out.ok = false;
    out.transaction_id = asn1::to_bytes(r->choice.authenticateResponseError.transactionId);
    out.error_code = to_int(r->choice.authenticateResponseError.authenticateErrorCode);
    out.error_name = name_of(kAuthErrorNames, out.error_code);
  } else {
    malformed(fn, "no choice");
  }
  return out;
}

PrepareDownloadResult Es10Client::prepare_download(const PrepareDownloadInput& in) {
  const std::string fn = "PrepareDownload";
  Bytes signature = value_if_tlv(in.smdp_signature2, 0x5F37);
  auto req = RSP_ASN1_MAKE(PrepareDownloadRequest);
  embed(asn_DEF_SmdpSigned2, req->smdpSigned2, in.smdp_signed2);
  asn1::set(req->smdpSignature2, ByteView(signature));
  if (in.hash_cc) {
    if (in.hash_cc->size() != 32) throw std::invalid_argument("hashCc must be 32 bytes");
    req->hashCc = asn1::new_octet_string(ByteView(*in.hash_cc));
  }
  embed(asn_DEF_Certificate, req->smdpCertificate, in.smdp_certificate);
  Bytes der = req.encode_der();
  if (!contains(der, in.smdp_signed2) || !contains(der, in.smdp_certificate)) {
    log::warn("lpa.es10", "smdpSigned2/smdpCertificate not in DER; passing the received bytes on");
    Bytes body = concat(in.smdp_signed2, tlv::make(0x5F37, signature));
    if (in.hash_cc) append(body, tlv::make(0x04, *in.hash_cc));
    append(body, in.smdp_certificate);
    der = tlv::make(0xBF21, body);
  }

  Bytes rsp = command(der);
  auto r = decode_response<PrepareDownloadResponse_t>(fn, asn_DEF_PrepareDownloadResponse, rsp);
  PrepareDownloadResult out;
  out.raw = rsp;
  if (r->present == PrepareDownloadResponse_PR_downloadResponseOk) {
    out.ok = true;
    out.transaction_id = asn1::to_bytes(r->choice.downloadResponseOk.euiccSigned2.transactionId);
    out.euicc_otpk = asn1::to_bytes(r->choice.downloadResponseOk.euiccSigned2.euiccOtpk);
  } else if (r->present == PrepareDownloadResponse_PR_downloadResponseError) {
    out.ok = false;
    out.transaction_id = asn1::to_bytes(r->choice.downloadResponseError.transactionId);
    out.error_code = to_int(r->choice.downloadResponseError.downloadErrorCode);
    out.error_name = name_of(kDownloadErrorNames, out.error_code);
  } else {
    malformed(fn, "no choice");
  }
  return out;
}

ProfileInstallationResult Es10Client::load_bound_profile_package(
    ByteView bpp, const std::function<void(std::size_t, std::size_t)>& progress) {
  const std::string fn = "LoadBoundProfilePackage";
  std::vector<Bytes> segments;
  try {
    segments = segment_bpp(bpp);
  } catch (const DecodeError& e) {
    throw Es10Error(fn + ": malformed Bound Profile Package: " + e.what(), fn, -1, "malformedBpp");
  }
  for (std::size_t i = 0; i < segments.size(); ++i) {
    Bytes rsp = command(segments[i]);
    if (progress) progress(i + 1, segments.size());
    if (rsp.empty()) continue;
    if (rsp.size() < 2 || rsp[0] != 0xBF || rsp[1] != 0x37)
      malformed(fn, "unexpected data after segment " + std::to_string(i));
    auto pir = decode_profile_installation_result(rsp);
    if (i + 1 < segments.size())
      log::info("lpa.es10", "eUICC ended the BPP after segment " + std::to_string(i + 1) + " of " +
                                std::to_string(segments.size()) + ": " + pir.describe());
    return pir;
  }
  throw Es10Error(fn + ": the eUICC returned no ProfileInstallationResult", fn, -1, "noResult");
}

CancelSessionResult Es10Client::cancel_session(ByteView transaction_id, CancelSessionReason reason) {
  const std::string fn = "CancelSession";
  auto req = RSP_ASN1_MAKE(CancelSessionRequest);
  asn1::set(req->transactionId, transaction_id);
  asn1::set_int64(req->reason, static_cast<int>(reason));
  Bytes rsp = command(req.encode_der());
  auto r = decode_response<CancelSessionResponse_t>(fn, asn_DEF_CancelSessionResponse, rsp);
  CancelSessionResult out;
  out.raw = rsp;
  if (r->present == CancelSessionResponse_PR_cancelSessionResponseOk) {
    out.ok = true;
  } else if (r->present == CancelSessionResponse_PR_cancelSessionResponseError) {
    out.error_code = to_int(r->choice.cancelSessionResponseError);
    out.error_name = name_of(kCancelErrorNames, out.error_code);
  } else {
    malformed(fn, "no choice");
  }
  return out;
}

}  // namespace rsp::lpa
