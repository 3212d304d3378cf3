#include "rsp/smdp/es9plus.hpp"

#include <AuthenticateServerResponse.h>
#include <CancelSessionResponse.h>
#include <ConfigureISDPRequest.h>
#include <EUICCInfo1.h>
#include <EUICCSigned2.h>
#include <EuiccSigned1.h>
#include <InitialiseSecureChannelRequest.h>
#include <NotificationConfigurationInformation.h>
#include <OperatorId.h>
#include <PendingNotification.h>
#include <PrepareDownloadResponse.h>
#include <ReplaceSessionKeysRequest.h>
#include <ServerSigned1.h>
#include <SmdpSigned2.h>
#include <StoreMetadataRequest.h>

#include <algorithm>

#include "rsp/asn1.hpp"
#include "rsp/log.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/smdp/credential_check.hpp"
#include "rsp/smdp/status.hpp"
#include "rsp/tlv.hpp"

namespace rsp::smdp {

using nlohmann::json;
namespace a1 = rsp::asn1;

namespace {

constexpr std::uint32_t kTagSignature = 0x5F37;  // [APPLICATION 55]
constexpr std::uint32_t kTagOtpk = 0x5F49;       // [APPLICATION 73]

json success(json body = json::object()) {
  body["header"] = {{"functionExecutionStatus", {{"status", "Executed-Success"}}}};
  return body;
}

std::string field(const json& req, const char* name) {
  auto it = req.find(name);
  if (it == req.end() || !it->is_string())
    throw FunctionError(status::kMandatoryElementMissing, std::string("missing ") + name);
  return it->get<std::string>();
}

Bytes base64_field(const json& req, const char* name) {
  try {
    return from_base64(field(req, name));
  } catch (const DecodeError&) {
    throw FunctionError(status::kInvalidRequest, std::string(name) + " is not valid base64");
  }
}

// transactionId travels as hex of the TransactionId value (SGP.22 6.6.1).
Bytes transaction_id_field(const json& req) {
  std::string hex = field(req, "transactionId");
  Bytes id;
  try {
    id = from_hex(hex);
  } catch (const DecodeError&) {
    throw FunctionError(status::kUnknownTransaction, "transactionId is not hex");
  }
  if (id.empty() || id.size() > 16) throw FunctionError(status::kUnknownTransaction, "transactionId length");
  return id;
}

template <class T>
a1::Value<T> decode_field(const asn_TYPE_descriptor_t& td, ByteView der, const char* name) {
  try {
    return a1::decode<T>(td, der);
  } catch (const DecodeError& e) {
    throw FunctionError(status::kInvalidRequest, std::string(name) + " is not a valid " + td.name);
  }
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

Bytes signature_tlv(ByteView raw_rs) { return tlv::make(kTagSignature, raw_rs); }

// The children of a constructed TLV, as received (signatures cover raw bytes).
std::vector<tlv::Tlv> children(ByteView der) { return tlv::parse_all(tlv::parse_one(der).value); }

std::string upper_hex(ByteView b) { return to_hex(b, true); }

void map_certificate_error(const certs::ValidationError& e) {
  using K = certs::ValidationError::Kind;
  if (e.kind == K::UnknownCi) throw FunctionError(status::kUnknownCi, e.what());
  bool eum = e.which == certs::Role::Eum;
  if (e.kind == K::Expired) throw FunctionError(eum ? status::kEumExpired : status::kEuiccCertExpired, e.what());
  throw FunctionError(eum ? status::kEumInvalid : status::kEuiccCertInvalid, e.what());
}

// NotificationEvent bits (SGP.22 2.4a / 5.7.16-18).
// ProfileClass (SGP.22 2.4a.1.1 / 5.5.3): test(0), provisioning(1), operational(2).
constexpr int kProfileClassOperational = 2;

constexpr unsigned kNotificationInstall = 0, kNotificationEnable = 1, kNotificationDisable = 2,
                   kNotificationDelete = 3;

// StoreMetadataRequest (SGP.22 5.5.3): sent as profileMetadata in
// authenticateClient and, MACed, as the 88 segment of the BPP. Its
// notificationConfigurationInfo asks the eUICC to send enable, disable and
// delete notifications to this SM-DP+ (SGP.22 2.4a.1, 3.5).
// Its profilePolicyRules and profileOwner come from the profile's staging
// data (SGP.22 2.9: the eUICC checks the PPRs against its Rules
// Authorisation Table for that owner).
Bytes store_metadata(const Profile& p, const ProfileRequirements& r, const std::string& notification_address) {
  auto md = RSP_ASN1_MAKE(StoreMetadataRequest);
  a1::set(md->iccid, iccid_to_bcd(p.iccid));
  a1::set(md->serviceProviderName, std::string_view(p.service_provider_name));
  a1::set(md->profileName, std::string_view(p.profile_name));
  // profileClass is `DEFAULT operational` (SGP.22 5.5.3): DER omits a value
  // equal to its DEFAULT (X.690 11.5), and asn1c does not drop it by itself.
  if (p.profile_class != kProfileClassOperational) md->profileClass = a1::new_integer(p.profile_class);
  if (!p.icon.empty()) {
    md->iconType = a1::new_integer(p.icon_type);
    md->icon = a1::new_octet_string(p.icon);
  }
  // The profile's own configuration when staged with one (an empty one
  // asks for no notifications: the member is then omitted).
  std::vector<NotificationConfiguration> configured;
  if (p.notification_configuration) {
    configured = *p.notification_configuration;
  } else {
    for (auto e : {NotificationConfiguration::Event::Enable, NotificationConfiguration::Event::Disable,
                   NotificationConfiguration::Event::Delete})
      configured.push_back({e, ""});
  }
  if (!configured.empty())
    md->notificationConfigurationInfo =
        a1::alloc<StoreMetadataRequest::StoreMetadataRequest__notificationConfigurationInfo>();
  for (const auto& c : configured) {
    auto& nci = a1::add(md->notificationConfigurationInfo->list);
    a1::set_named_bits(nci.profileManagementOperation, {static_cast<unsigned>(c.event)});
    a1::set(nci.notificationAddress, std::string_view(c.address.empty() ? notification_address : c.address));
  }
  if (!r.profile_owner_mcc_mnc.empty()) {
    md->profileOwner = a1::alloc<OperatorId_t>();
    a1::set(md->profileOwner->mccMnc, r.profile_owner_mcc_mnc);
  }
  if (!r.ppr.empty()) {
    md->profilePolicyRules = a1::alloc<PprIds_t>();
    for (unsigned bit : r.ppr) a1::set_named_bit(*md->profilePolicyRules, bit);
  }
  return md.encode_der();
}

}  // namespace

Es9Plus::Es9Plus(const Config& config, ProfileStore& store)
    : config_(config), store_(store), now_([] { return std::time(nullptr); }) {
  if (config_.credentials.empty()) throw std::invalid_argument("SM-DP+ needs at least one credential set");
  crls_ = load_crls(config_, now_());
  check_own_credentials(config_, crls_, now_());
  for (const auto& c : config_.credentials) {
    auto cr = std::make_unique<Credentials>();
    cr->ci = certs::parse(c.ci_certificate);
    cr->dpauth = certs::parse(c.dpauth_certificate);
    cr->dppb = certs::parse(c.dppb_certificate);
    cr->dpauth_der = c.dpauth_certificate;
    cr->dppb_der = c.dppb_certificate;
    cr->dpauth_key = c.dpauth_signer ? c.dpauth_signer
                                     : crypto::key_signer(crypto::EcKey::from_pem_or_der(to_bytes(c.dpauth_key_pem)));
    cr->dppb_key = c.dppb_signer ? c.dppb_signer
                                 : crypto::key_signer(crypto::EcKey::from_pem_or_der(to_bytes(c.dppb_key_pem)));
    creds_.push_back(std::move(cr));
  }
}

Es9Plus::~Es9Plus() = default;

certs::ChainOptions Es9Plus::chain_options() const {
  certs::ChainOptions opt;
  opt.allow_eum_without_name_constraints = config_.allow_eum_without_name_constraints;
  opt.crls = &crls_;
  return opt;
}

std::vector<certs::Certificate> Es9Plus::trusted_cis() const {
  std::vector<certs::Certificate> out;
  for (const auto& c : creds_) out.push_back(c->ci);
  return out;
}

void Es9Plus::progress(const Profile& p, const std::string& eid, int point, bool ok, const FunctionError* error,
                       Bytes result) {
  if (!on_progress || p.owner.empty()) return;
  ProgressEvent e;
  e.owner = p.owner;
  e.iccid = p.iccid;
  e.eid = eid;
  e.profile_type = p.profile_type;
  e.notification_point_id = point;
  e.success = ok;
  if (error) {
    e.subject_code = error->subject_code;
    e.reason_code = error->reason_code;
    e.message = error->what();
  }
  e.result_data = std::move(result);
  on_progress(e);
}

// The session as stored, checked to be in `expected_state` and not expired.
// Callers read it before their signature checks and then move it on with
// ProfileStore::transition_session inside their store transaction, which
// fails if a concurrent call on the same transactionId moved it first.
Session Es9Plus::live_session(const std::string& transaction_id, const char* expected_state) {
  auto s = store_.session(transaction_id);
  if (!s || s->state != expected_state)
    throw FunctionError(status::kUnknownTransaction, "unknown RSP session " + transaction_id);
  if (now_() - s->created_at > config_.session_timeout_seconds) {
    store_.end_session(transaction_id, "expired");
    throw FunctionError(status::kUnknownTransaction, "RSP session " + transaction_id + " expired");
  }
  return *s;
}

// SGP.22 5.6.3: CERT.EUM must chain to the CI announced in
// euiccCiPKIdToBeUsed. An EUM under a CI we do not know at all is
// 8.11.1/3.9; one that does not chain to the announced CI (issued by another
// of our CIs, or without authorityKeyIdentifier) is 8.1.2/6.1.
certs::Certificate Es9Plus::verify_euicc(const Session& s, ByteView euicc_der, ByteView eum_der) {
  certs::Certificate eum;
  try {
    eum = certs::parse(eum_der);
  } catch (const DecodeError& e) {
    throw FunctionError(status::kEumInvalid, std::string("CERT.EUM: ") + e.what());
  }
  if (eum.authority_key_id.empty())
    throw FunctionError(status::kEumInvalid, "CERT.EUM has no authorityKeyIdentifier: it cannot be chained to a CI");
  std::vector<certs::Certificate> anchors;
  if (s.signing_ci_index >= 0 && static_cast<std::size_t>(s.signing_ci_index) < creds_.size())
    anchors.push_back(creds_[static_cast<std::size_t>(s.signing_ci_index)]->ci);
  else
    anchors = trusted_cis();  // a session from before the signing CI was recorded
  try {
    // A revoked CERT.EUM or CERT.EUICC (SGP.22 4.6) fails verification like
    // any invalid one: 8.1.2/6.1 or 8.1.3/6.1 (5.6.3 has no other code).
    return certs::verify_euicc_chain(euicc_der, eum_der, anchors, now_(), chain_options());
  } catch (const certs::ValidationError& e) {
    if (e.kind == certs::ValidationError::Kind::UnknownCi && certs::find_issuer(eum, trusted_cis()))
      throw FunctionError(status::kEumInvalid, "CERT.EUM is not issued by the CI announced in euiccCiPKIdToBeUsed");
    map_certificate_error(e);
  } catch (const DecodeError& e) {
    throw FunctionError(status::kEuiccCertInvalid, e.what());
  }
  throw std::logic_error("unreachable");
}

// ---------------------------------------------------------------- 5.6.1
json Es9Plus::initiate_authentication(const json& req) {
  Bytes euicc_challenge = base64_field(req, "euiccChallenge");
  Bytes info1_der = base64_field(req, "euiccInfo1");
  std::string address = field(req, "smdpAddress");
  if (euicc_challenge.size() != 16)
    throw FunctionError(status::kInvalidRequest, "euiccChallenge must be 16 bytes");
  if (!iequal(address, config_.address))
    throw FunctionError(status::kSmdpAddressRefused, "smdpAddress " + address + " is not this SM-DP+");

  auto info1 = decode_field<EUICCInfo1_t>(asn_DEF_EUICCInfo1, info1_der, "euiccInfo1");
  Bytes svn = a1::to_bytes(info1->svn);
  if (svn.size() != 3 || svn[0] != 2)
    throw FunctionError(status::kSvnUnsupported, "eUICC SGP.22 version not supported");

  // SGP.22 5.6.1: the eUICC will sign with a certificate under one of
  // euiccCiPKIdListForSigning, which we must be able to verify (8.8.2/3.1
  // otherwise); our CERT.DPauth must chain to a CI in
  // euiccCiPKIdListForVerification, which the eUICC can verify (8.8.4/3.7).
  auto in_list = [](const auto& list, ByteView ski) {
    for (int i = 0; i < list.count; ++i)
      if (a1::to_bytes(*list.array[i]) == Bytes(ski.begin(), ski.end())) return true;
    return false;
  };
  const auto& signing = info1->euiccCiPKIdListForSigning;
  const auto& verification = info1->euiccCiPKIdListForVerification;
  std::vector<std::size_t> trusted_signing;  // our CIs the eUICC signs under
  for (std::size_t c = 0; c < creds_.size(); ++c)
    if (in_list(signing.list, creds_[c]->ci.subject_key_id)) trusted_signing.push_back(c);
  if (trusted_signing.empty())
    throw FunctionError(status::kNoSupportedCiForSigning, "none of the eUICC's signing CI public keys is supported");
  int chosen = -1;
  for (std::size_t c = 0; c < creds_.size() && chosen < 0; ++c)
    if (in_list(verification.list, creds_[c]->ci.subject_key_id)) chosen = static_cast<int>(c);
  if (chosen < 0)
    throw FunctionError(status::kNoDpAuthForVerificationCi,
                        "no CERT.DPauth under a CI the eUICC can verify with");
  const auto& cr = credentials(chosen);
  // euiccCiPKIdToBeUsed: the signing CI, the chosen set's own when the eUICC
  // signs under it too.
  std::size_t signing_ci = trusted_signing.front();
  for (std::size_t c : trusted_signing)
    if (creds_[c]->ci.subject_key_id == cr.ci.subject_key_id) signing_ci = c;

  Session s;
  Bytes txn = crypto::random_bytes(16);
  s.transaction_id = upper_hex(txn);
  s.state = "initiated";
  s.created_at = now_();
  s.euicc_challenge = euicc_challenge;
  s.server_challenge = crypto::random_bytes(16);
  s.server_address = config_.address;
  s.credential_index = chosen;
  s.signing_ci_index = static_cast<int>(signing_ci);

  auto ss1 = RSP_ASN1_MAKE(ServerSigned1);
  a1::set(ss1->transactionId, txn);
  a1::set(ss1->euiccChallenge, euicc_challenge);
  a1::set(ss1->serverAddress, std::string_view(config_.address));
  a1::set(ss1->serverChallenge, s.server_challenge);
  Bytes ss1_der = ss1.encode_der();
  Bytes signature1 = cr.dpauth_key->sign(ss1_der);
  store_.put_session(s);

  json body;
  body["transactionId"] = s.transaction_id;
  body["serverSigned1"] = to_base64(ss1_der);
  body["serverSignature1"] = to_base64(signature_tlv(signature1));
  body["euiccCiPKIdToBeUsed"] = to_base64(tlv::make(0x04, creds_[signing_ci]->ci.subject_key_id));
  body["serverCertificate"] = to_base64(cr.dpauth_der);
  log::info("es9+", "initiateAuthentication " + s.transaction_id);
  return success(body);
}

// ---------------------------------------------------------------- 5.6.3
json Es9Plus::authenticate_client(const json& req) {
  Bytes txn = transaction_id_field(req);
  Bytes asr_der = base64_field(req, "authenticateServerResponse");
  Session s = live_session(upper_hex(txn), "initiated");
  const auto& cr = credentials(s.credential_index);

  auto asr = decode_field<AuthenticateServerResponse_t>(asn_DEF_AuthenticateServerResponse, asr_der,
                                                        "authenticateServerResponse");
  if (asr->present != AuthenticateServerResponse_PR_authenticateResponseOk) {
    store_.end_session(s.transaction_id, "failed");
    throw FunctionError(status::kEuiccRefused, "the eUICC refused to authenticate the server");
  }
  // The signed part, as received: BF38 { A0 { 30 euiccSigned1, 5F37, 30 cert, 30 cert } }.
  auto ok = children(children(asr_der).at(0).raw);
  if (ok.size() < 4) throw FunctionError(status::kInvalidRequest, "AuthenticateResponseOk incomplete");
  ByteView euicc_signed1 = ok[0].raw;
  Bytes euicc_signature1(ok[1].value.begin(), ok[1].value.end());
  Bytes euicc_cert_der(ok[2].raw.begin(), ok[2].raw.end());
  Bytes eum_cert_der(ok[3].raw.begin(), ok[3].raw.end());

  certs::Certificate euicc_cert = verify_euicc(s, euicc_cert_der, eum_cert_der);
  if (!euicc_cert.public_key().verify(euicc_signed1, euicc_signature1))
    throw FunctionError(status::kEuiccSignatureInvalid, "euiccSignature1 does not verify");

  const auto& signed1 = asr->choice.authenticateResponseOk.euiccSigned1;
  if (a1::to_bytes(signed1.transactionId) != txn)
    throw FunctionError(status::kUnknownTransaction, "transactionId in euiccSigned1 differs");
  if (!equal_ct(a1::to_bytes(signed1.serverChallenge), s.server_challenge))
    throw FunctionError(status::kEuiccSignatureInvalid, "serverChallenge in euiccSigned1 differs");
  if (!iequal(a1::to_string(signed1.serverAddress), s.server_address))
    throw FunctionError(status::kSmdpAddressRefused, "serverAddress in euiccSigned1 differs");
  if (signed1.ctxParams1.present != CtxParams1_PR_ctxParamsForCommonAuthentication)
    throw FunctionError(status::kInvalidRequest, "unsupported ctxParams1");
  const auto* mid = signed1.ctxParams1.choice.ctxParamsForCommonAuthentication.matchingId;
  std::string matching_id = mid ? a1::to_string(*mid) : std::string();
  std::string eid = euicc_cert.subject_serial_number;

  // The order this session asks for, read without holding the store: the
  // checks and smdpSignature2 below run on this copy, outside any
  // transaction (a signature under the store's lock would serialise every
  // server thread behind it; issue 12). The allocation itself is a short
  // transaction that reads the order again and checks it once more, so two
  // sessions never both hold it.
  store_.expire_orders(now_());  // committed on its own: the checks below may roll back
  auto check_order = [&](const Profile& found) {
    if (!found.eid.empty() && !iequal(found.eid, eid))
      throw FunctionError(status::kEidRefused, "the profile download order is associated with another EID");
    if (found.state != ProfileState::Released && found.state != ProfileState::Downloaded)
      throw FunctionError(status::kProfileNotReleased, "the profile is not released for download");
    if (found.order_expires_at > 0 && now_() > found.order_expires_at)
      throw FunctionError(status::kDownloadOrderExpired, "the download order has expired");
    if (found.download_attempts >= config_.max_download_attempts)
      throw FunctionError(status::kDownloadRetriesExceeded, "download attempts exhausted");
    // The confirmation code's retries are the order's too (SGP.22 3.1.3): once
    // exhausted, no new session may start.
    if (found.cc_hash && found.cc_attempts >= config_.max_cc_attempts)
      throw FunctionError(status::kDownloadRetriesExceeded, "confirmation code attempts exhausted");
  };
  auto find_order = [&] {
    std::optional<Profile> found;
    if (!matching_id.empty()) {
      found = store_.by_matching_id(matching_id);
      if (!found && store_.is_expired_order(matching_id))
        throw FunctionError(status::kDownloadOrderExpired, "the download order has expired");
      if (!found) throw FunctionError(status::kMatchingIdRefused, "unknown matchingId");
    } else {
      found = store_.default_smdp_order(eid);
      // Default SM-DP+ use case (SGP.22 3.1.3, no matchingId): an EID with no
      // pending order is refused.
      if (!found) throw FunctionError(status::kEidRefused, "no profile download order for this EID");
    }
    check_order(*found);
    return *found;
  };
  Profile p = find_order();
  // Eligibility check (SGP.22 3.1.3, 5.6.3) before anything is bound: the
  // profile's requirements against EUICCInfo2 and DeviceInfo as the eUICC
  // signed them. A failure binds nothing and is reported to the operator as
  // notificationPointId 1 with its code.
  ProfileRequirements requirements = store_.requirements(p.iccid);
  try {
    check_eligibility(requirements, signed1.euiccInfo2,
                      signed1.ctxParams1.choice.ctxParamsForCommonAuthentication.deviceInfo);
  } catch (const FunctionError& e) {
    progress(p, eid, kPointEligibility, false, &e);
    log::info("es9+", "authenticateClient " + s.transaction_id + " EID " + eid + " ICCID " + p.iccid + ": " + e.what());
    throw;
  }
  // SGP.22 5.6.3: smdpSignature2 covers smdpSigned2 || euiccSignature1 (with its 5F37 tag).
  auto sign2 = [&](bool cc_required, Bytes& sm2_der) {
    auto sm2 = RSP_ASN1_MAKE(SmdpSigned2);
    a1::set(sm2->transactionId, txn);
    sm2->ccRequiredFlag = cc_required ? 1 : 0;
    sm2_der = sm2.encode_der();
    return cr.dppb_key->sign(concat(sm2_der, signature_tlv(euicc_signature1)));
  };
  Bytes sm2_der;
  bool cc_required = p.cc_hash.has_value();
  Bytes smdp_signature2 = sign2(cc_required, sm2_der);

  {
    store::Transaction tx(store_.db());
    // Compare-and-set: the order as it is now must still pass every check
    // (a concurrent session, an ES2+ CancelOrder or an expiry may have
    // moved it since the read above); then it is bound to this session.
    std::optional<Profile> now_stored = store_.by_iccid(p.iccid);
    if (!now_stored || now_stored->matching_id != p.matching_id) {
      if (!matching_id.empty() && store_.is_expired_order(matching_id))
        throw FunctionError(status::kDownloadOrderExpired, "the download order has expired");
      throw FunctionError(matching_id.empty() ? status::kEidRefused : status::kMatchingIdRefused,
                          "the download order was withdrawn during authentication");
    }
    check_order(*now_stored);
    p = std::move(*now_stored);
    if (p.cc_hash.has_value() != cc_required) {
      // ConfirmOrder changed the order meanwhile (rare): sign for what it is now.
      cc_required = p.cc_hash.has_value();
      smdp_signature2 = sign2(cc_required, sm2_der);
    }
    p.download_attempts += 1;
    p.transaction_id = s.transaction_id;
    // SGP.22 3.1.3 / 5.6.3: the download order is now associated with this
    // EID; from here on only this eUICC may download or retry it, whatever
    // happens to the session or the install notification (ES2+ CancelOrder
    // frees it).
    p.eid = eid;
    store_.update(p);
    s.state = "authenticated";
    s.eid = eid;
    s.euicc_certificate = euicc_cert_der;
    s.iccid = p.iccid;
    s.smdp_signature2 = smdp_signature2;
    if (!store_.transition_session(s, "initiated"))
      throw FunctionError(status::kUnknownTransaction, "RSP session " + s.transaction_id + " already moved on");
    tx.commit();
  }
  Bytes metadata_der = store_metadata(p, requirements, config_.address);
  progress(p, eid, kPointEligibility, true);  // eligibility and retry limit checks passed

  json body;
  body["transactionId"] = s.transaction_id;
  body["profileMetadata"] = to_base64(metadata_der);
  body["smdpSigned2"] = to_base64(sm2_der);
  body["smdpSignature2"] = to_base64(signature_tlv(smdp_signature2));
  body["smdpCertificate"] = to_base64(cr.dppb_der);
  log::info("es9+", "authenticateClient " + s.transaction_id + " EID " + eid + " ICCID " + p.iccid);
  return success(body);
}

// ---------------------------------------------------------------- 5.6.2
json Es9Plus::get_bound_profile_package(const json& req) {
  Bytes txn = transaction_id_field(req);
  Bytes pdr_der = base64_field(req, "prepareDownloadResponse");
  Session s = live_session(upper_hex(txn), "authenticated");

  auto pdr = decode_field<PrepareDownloadResponse_t>(asn_DEF_PrepareDownloadResponse, pdr_der, "prepareDownloadResponse");
  if (pdr->present != PrepareDownloadResponse_PR_downloadResponseOk) {
    store_.end_session(s.transaction_id, "failed");
    throw FunctionError(status::kEuiccRefused, "the eUICC refused PrepareDownload");
  }
  auto ok = children(children(pdr_der).at(0).raw);
  if (ok.size() < 2) throw FunctionError(status::kInvalidRequest, "PrepareDownloadResponseOk incomplete");
  ByteView euicc_signed2 = ok[0].raw;
  Bytes euicc_signature2(ok[1].value.begin(), ok[1].value.end());

  auto euicc_key = certs::parse(s.euicc_certificate).public_key();
  // SGP.22 5.6.2: euiccSignature2 covers euiccSigned2 || smdpSignature2 (with its 5F37 tag).
  if (!euicc_key.verify(concat(euicc_signed2, signature_tlv(s.smdp_signature2)), euicc_signature2))
    throw FunctionError(status::kEuiccSignatureInvalid, "euiccSignature2 does not verify");
  const auto& signed2 = pdr->choice.downloadResponseOk.euiccSigned2;
  if (a1::to_bytes(signed2.transactionId) != txn)
    throw FunctionError(status::kUnknownTransaction, "transactionId in euiccSigned2 differs");

  // The profile as it stands, read without holding the store: the BPP is
  // built (one-time key, ECDH, smdpSign, the package decrypted at rest and
  // wrapped in SCP03t) outside any transaction, so server threads do not
  // queue behind one another's cryptography (issue 12). A short transaction
  // then checks that neither the session nor the profile moved on meanwhile
  // and records the download.
  auto bound_profile = [&] {
    auto found = store_.by_iccid(s.iccid);
    if (!found || found->transaction_id != s.transaction_id)
      throw FunctionError(status::kBppUnavailable, "the session no longer holds its profile");
    if (found->order_expires_at > 0 && now_() > found->order_expires_at)
      throw FunctionError(status::kDownloadOrderExpired, "the download order has expired");
    return *found;
  };
  Profile p = bound_profile();
  if (p.cc_hash) {
    // A missing or wrong confirmation code leaves the session usable for
    // another PrepareDownload/GetBoundProfilePackage while retries remain
    // (SGP.22 3.1.3); the last allowed failure ends it (8.2.7/6.4).
    if (!signed2.hashCc) throw FunctionError(status::kCcMissing, "confirmation code required");
    // SGP.22 3.1.3.1: hashCc = SHA-256(SHA-256(CC) || transactionId).
    Bytes expected = crypto::sha256(concat(*p.cc_hash, txn));
    if (!equal_ct(a1::to_bytes(*signed2.hashCc), expected)) {
      store::Transaction tx(store_.db());
      if (auto now_stored = store_.session(s.transaction_id); !now_stored || now_stored->state != "authenticated")
        throw FunctionError(status::kUnknownTransaction, "RSP session " + s.transaction_id + " already moved on");
      p = bound_profile();  // the attempts as counted now, not as read before
      p.cc_attempts += 1;
      store_.update(p);
      bool exhausted = p.cc_attempts >= config_.max_cc_attempts;
      if (exhausted) store_.end_session(s.transaction_id, "failed");
      tx.commit();
      FunctionError e = exhausted ? FunctionError(status::kCcRetriesExceeded, "confirmation code attempts exhausted")
                                  : FunctionError(status::kCcRefused, "confirmation code refused");
      progress(p, s.eid, kPointConfirmationFailure, false, &e);
      throw e;
    }
  }
  Bytes euicc_otpk = a1::to_bytes(signed2.euiccOtpk);
  Bytes bpp = build_bpp(s, p, euicc_otpk, euicc_signature2);
  {
    store::Transaction tx(store_.db());
    // Compare-and-set on both: a concurrent call on this transactionId, a
    // new session of the same order or an ES2+ CancelOrder may have moved
    // them since they were read.
    if (auto now_stored = store_.session(s.transaction_id); !now_stored || now_stored->state != "authenticated")
      throw FunctionError(status::kUnknownTransaction, "RSP session " + s.transaction_id + " already moved on");
    Profile now_profile = bound_profile();
    if (now_profile.cc_hash != p.cc_hash)
      throw FunctionError(status::kBppUnavailable, "the download order changed during the download");
    p = std::move(now_profile);
    p.state = ProfileState::Downloaded;
    store_.update(p);
    s.state = "bpp-sent";
    s.euicc_otpk = euicc_otpk;
    if (!store_.transition_session(s, "authenticated"))
      throw FunctionError(status::kUnknownTransaction, "RSP session " + s.transaction_id + " already moved on");
    tx.commit();
  }
  progress(p, s.eid, kPointBppDownload, true);

  json body;
  body["transactionId"] = s.transaction_id;
  body["boundProfilePackage"] = to_base64(bpp);
  log::info("es9+", "getBoundProfilePackage " + s.transaction_id + " (" + std::to_string(bpp.size()) + " bytes)");
  return success(body);
}

// SGP.22 2.5.4 / 5.5: InitialiseSecureChannel signed with SK.DPpb, then
// ConfigureISDP (87), StoreMetadata (88, MAC only) and the profile in 86
// segments, all under the session keys from ECKA(otSK.DP, otPK.EUICC).
Bytes Es9Plus::build_bpp(const Session& s, const Profile& p, ByteView euicc_otpk, ByteView /*euicc_signature2*/) {
  const auto& cr = credentials(s.credential_index);
  crypto::Curve curve = cr.dppb_key->curve();
  crypto::EcKey ot_dp;
  SecretBytes shs;
  try {
    ot_dp = crypto::EcKey::generate(curve);
    shs = ot_dp.ecdh(euicc_otpk);
  } catch (const crypto::CryptoError&) {
    throw FunctionError(status::kEuiccSignatureInvalid, "euiccOtpk is not a point on the session curve");
  }
  Bytes txn = from_hex(s.transaction_id);
  Bytes host_id = to_bytes(std::string_view(config_.address).substr(0, 16));
  auto keys = scp03t::derive_session_keys(shs, host_id, from_hex(s.eid));

  auto isc = RSP_ASN1_MAKE(InitialiseSecureChannelRequest);
  a1::set_int64(isc->remoteOpId, 1);  // installBoundProfilePackage
  a1::set(isc->transactionId, txn);
  a1::set(isc->controlRefTemplate.keyType, Bytes{0x88});
  a1::set(isc->controlRefTemplate.keyLen, Bytes{0x10});
  a1::set(isc->controlRefTemplate.hostId, host_id);
  a1::set(isc->smdpOtpk, ot_dp.public_point());
  a1::set(isc->smdpSign, Bytes(64, 0));
  // smdpSign covers remoteOpId, transactionId, controlRefTemplate and
  // smdpOtpk as encoded, followed by euiccOtpk (tag 5F49) (SGP.22 5.5.2).
  Bytes isc_draft = isc.encode_der();  // parts below point into it
  auto parts = children(isc_draft);
  Bytes tbs;
  for (std::size_t i = 0; i < 4; ++i) append(tbs, parts.at(i).raw);
  append(tbs, tlv::make(kTagOtpk, euicc_otpk));
  a1::set(isc->smdpSign, cr.dppb_key->sign(tbs));
  Bytes isc_der = isc.encode_der();

  auto cfg = RSP_ASN1_MAKE(ConfigureISDPRequest);
  Bytes cfg_der = cfg.encode_der();
  Bytes md_der = store_metadata(p, store_.requirements(p.iccid), config_.address);

  scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);
  Bytes seq87 = tlv::make(0xA0, ch.wrap(scp03t::kTagConfigureOrReplace, cfg_der));
  // StoreMetadata in 88 segments of at most 1,020 bytes each (SGP.22 2.5.5):
  // a large icon makes it longer than one segment.
  Bytes seq88 = tlv::make(0xA1, ch.wrap_segments(scp03t::kTagMacOnly, md_der, false));
  if (auto ppp = store_.protected_package(p.iccid)) {
    // Protected once at staging: hand the eUICC the profile protection keys
    // in ReplaceSessionKeys (SGP.22 5.5.4) and send the stored segments as is.
    auto rsk = RSP_ASN1_MAKE(ReplaceSessionKeysRequest);
    a1::set(rsk->initialMacChainingValue, ppp->initial_mcv);
    a1::set(rsk->ppkEnc, ppp->ppk_enc);
    a1::set(rsk->ppkCmac, ppp->ppk_mac);
    SecretBytes rsk_der = rsk.encode_der();
    Bytes second87 = tlv::make(0xA2, ch.wrap(scp03t::kTagConfigureOrReplace, rsk_der));
    return tlv::make(0xBF36, concat(isc_der, seq87, seq88, second87, tlv::make(0xA3, ppp->segments)));
  }
  // The package is decrypted at rest once and wrapped once, straight into
  // the BPP's buffer (a profile is tens of kB: no copies of it beyond the
  // plaintext and its 86 segments).
  Bytes upp = store_.upp(p.iccid);
  Bytes seq86 = ch.wrap_segments(scp03t::kTagEncryptedMac, upp);
  wipe(upp.data(), upp.size());
  std::size_t a3_len = tlv::header_len(0xA3, seq86.size()) + seq86.size();
  std::size_t content = isc_der.size() + seq87.size() + seq88.size() + a3_len;
  Bytes bpp = tlv::encode_tag(0xBF36);
  append(bpp, tlv::encode_length(content));
  bpp.reserve(bpp.size() + content);
  append(bpp, isc_der);
  append(bpp, seq87);
  append(bpp, seq88);
  append(bpp, tlv::encode_tag(0xA3));
  append(bpp, tlv::encode_length(seq86.size()));
  append(bpp, seq86);
  return bpp;
}

void Es9Plus::check_smdp_oid(const Session& s, const std::string& smdp_oid) const {
  const auto& cr = credentials(s.credential_index);
  if (!cr.dpauth.registered_id && !cr.dppb.registered_id) return;  // our certificates name no OID to compare
  if (smdp_oid == cr.dpauth.registered_id || smdp_oid == cr.dppb.registered_id) return;
  throw FunctionError(status::kSmdpOidInvalid, "smdpOid " + smdp_oid + " is not this SM-DP+'s");
}

// ---------------------------------------------------------------- 5.6.4
void Es9Plus::handle_notification(const json& req) {
  Bytes der = base64_field(req, "pendingNotification");
  auto pn = decode_field<PendingNotification_t>(asn_DEF_PendingNotification, der, "pendingNotification");
  if (pn->present == PendingNotification_PR_profileInstallationResult) {
    const auto& pir = pn->choice.profileInstallationResult;
    Bytes txn = a1::to_bytes(pir.profileInstallationResultData.transactionId);
    auto s = store_.session(upper_hex(txn));
    if (!s || s->euicc_certificate.empty() || s->iccid.empty())
      throw FunctionError(status::kUnknownTransaction, "notification for an unknown session");
    // euiccSignPIR covers profileInstallationResultData (BF27) as received.
    auto parts = children(der);
    if (parts.size() < 2) throw FunctionError(status::kInvalidRequest, "ProfileInstallationResult");
    if (!certs::parse(s->euicc_certificate).public_key().verify(parts[0].raw, parts[1].value))
      throw FunctionError(status::kEuiccSignatureInvalid, "euiccSignPIR does not verify");
    check_smdp_oid(*s, a1::oid_to_string(pir.profileInstallationResultData.smdpOid));
    bool installed = pir.profileInstallationResultData.finalResult.present ==
                     ProfileInstallationResultData__finalResult_PR_successResult;
    // A signed success from the eUICC the profile is bound to marks it
    // installed, whichever of its sessions sent it (an LPA may deliver a PIR
    // late, after a retry started); a failure never downgrades an installed
    // profile; a PIR sent again changes nothing and tells the operator
    // nothing new.
    store::Transaction tx(store_.db());
    std::optional<Profile> p = store_.by_iccid(s->iccid);
    bool changed = false;
    // (A profile bound before EIDs were recorded at authenticateClient has
    // none: then only the session holding it counts.)
    bool bound_here = p && (p->eid.empty() ? p->transaction_id == s->transaction_id : iequal(p->eid, s->eid));
    if (bound_here && p->state != ProfileState::Installed) {
      if (installed) {
        p->state = ProfileState::Installed;
        changed = true;
      } else if (p->transaction_id == s->transaction_id && p->state != ProfileState::Error) {
        p->state = ProfileState::Error;
        changed = true;
      }
      if (changed) store_.update(*p);
    }
    if (s->state != "done" && s->state != "install-failed")
      store_.end_session(s->transaction_id, installed ? "done" : "install-failed");
    tx.commit();
    if (changed && on_install_result) on_install_result(installed);
    if (changed) {
      FunctionError failure(status::kInstallFailed, "the eUICC could not install the profile");
      progress(*p, s->eid, kPointBppInstallation, installed, installed ? nullptr : &failure, der);
    }
    log::info("es9+", "handleNotification install " + s->transaction_id + (installed ? " success" : " failure") +
                          " ICCID " + s->iccid + (changed ? "" : " (no change)"));
    return;
  }
  // Other notifications (enable, disable, delete; SGP.22 3.5, 5.6.4): signed
  // by an eUICC whose chain we trust; recorded once per (EID, seqNumber) and
  // forwarded to the profile's operator.
  auto parts = children(der);
  if (parts.size() < 4) throw FunctionError(status::kInvalidRequest, "OtherSignedNotification");
  certs::Certificate cert;
  try {
    cert = certs::verify_euicc_chain(parts[2].raw, parts[3].raw, trusted_cis(), now_(), chain_options());
  } catch (const certs::ValidationError& e) {
    map_certificate_error(e);
  } catch (const DecodeError& e) {
    throw FunctionError(status::kEuiccCertInvalid, e.what());
  }
  if (!cert.public_key().verify(parts[0].raw, parts[1].value))
    throw FunctionError(status::kEuiccSignatureInvalid, "euiccNotificationSignature does not verify");
  const auto& md = pn->choice.otherSignedNotification.tbsOtherNotification;
  std::string eid = cert.subject_serial_number;
  std::string iccid = md.iccid ? iccid_from_bcd(a1::view(*md.iccid)) : std::string();
  std::string operation;
  int point = 0;
  if (a1::test_bit(md.profileManagementOperation, kNotificationDelete)) operation = "delete", point = kPointDeleted;
  else if (a1::test_bit(md.profileManagementOperation, kNotificationDisable)) operation = "disable", point = kPointDisabled;
  else if (a1::test_bit(md.profileManagementOperation, kNotificationEnable)) operation = "enable", point = kPointEnabled;
  else if (a1::test_bit(md.profileManagementOperation, kNotificationInstall)) operation = "install";
  std::int64_t seq = 0;
  try {
    seq = a1::to_int64(md.seqNumber);
  } catch (const a1::Asn1Error&) {
    throw FunctionError(status::kInvalidRequest, "seqNumber out of range");
  }

  store::Transaction tx(store_.db());
  bool first = store_.record_notification(eid, seq, operation, iccid, now_());
  std::optional<Profile> p = iccid.empty() ? std::nullopt : store_.by_iccid(iccid);
  if (p && !iequal(p->eid, eid)) p.reset();  // not the eUICC this profile is bound to: nothing to change
  if (first && p && operation == "delete" && p->state == ProfileState::Installed) {
    p->state = ProfileState::Unavailable;  // deleted from the eUICC: no longer installed (SGP.22 3.2.3)
    store_.update(*p);
  }
  tx.commit();
  if (first && p && point != 0) progress(*p, eid, point, true, nullptr, der);
  log::info("es9+", "handleNotification " + operation + " seq " + std::to_string(seq) + " from EID " + eid +
                        (iccid.empty() ? "" : " ICCID " + iccid) + (first ? "" : " (repeated)"));
}

// ---------------------------------------------------------------- 5.6.5
json Es9Plus::cancel_session(const json& req) {
  Bytes txn = transaction_id_field(req);
  Bytes der = base64_field(req, "cancelSessionResponse");
  auto s = store_.session(upper_hex(txn));
  if (!s || s->state == "done" || s->state == "cancelled")
    throw FunctionError(status::kUnknownTransaction, "unknown RSP session");
  auto csr = decode_field<CancelSessionResponse_t>(asn_DEF_CancelSessionResponse, der, "cancelSessionResponse");
  if (csr->present != CancelSessionResponse_PR_cancelSessionResponseOk)
    throw FunctionError(status::kEuiccRefused, "the eUICC could not cancel the session");
  if (a1::to_bytes(csr->choice.cancelSessionResponseOk.euiccCancelSessionSigned.transactionId) != txn)
    throw FunctionError(status::kUnknownTransaction, "transactionId in euiccCancelSessionSigned differs");
  if (!s->euicc_certificate.empty()) {
    auto ok = children(children(der).at(0).raw);
    if (ok.size() < 2 || !certs::parse(s->euicc_certificate).public_key().verify(ok[0].raw, ok[1].value))
      throw FunctionError(status::kEuiccSignatureInvalid, "euiccCancelSessionSignature does not verify");
  }
  check_smdp_oid(*s, a1::oid_to_string(csr->choice.cancelSessionResponseOk.euiccCancelSessionSigned.smdpOid));
  store::Transaction tx(store_.db());
  if (auto p = store_.by_iccid(s->iccid); p && p->transaction_id == s->transaction_id &&
                                          p->state != ProfileState::Installed) {
    p->state = ProfileState::Released;  // available for a later attempt
    p->transaction_id.clear();
    store_.update(*p);
  }
  store_.end_session(s->transaction_id, "cancelled");
  tx.commit();
  log::info("es9+", "cancelSession " + s->transaction_id);
  return success();
}

}  // namespace rsp::smdp
