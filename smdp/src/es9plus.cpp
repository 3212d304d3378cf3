#include "rsp/smdp/es9plus.hpp"

#include <AuthenticateServerResponse.h>
#include <CancelSessionResponse.h>
#include <ConfigureISDPRequest.h>
#include <EUICCInfo1.h>
#include <EUICCSigned2.h>
#include <EuiccSigned1.h>
#include <InitialiseSecureChannelRequest.h>
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
    throw FunctionError(code::kFunctionProvider, code::kMandatoryElementMissing, std::string("missing ") + name);
  return it->get<std::string>();
}

Bytes base64_field(const json& req, const char* name) {
  try {
    return from_base64(field(req, name));
  } catch (const DecodeError&) {
    throw FunctionError(code::kFunctionProvider, code::kInvalid, std::string(name) + " is not valid base64");
  }
}

// transactionId travels as hex of the TransactionId value (SGP.22 6.6.1).
Bytes transaction_id_field(const json& req) {
  std::string hex = field(req, "transactionId");
  Bytes id;
  try {
    id = from_hex(hex);
  } catch (const DecodeError&) {
    throw FunctionError(code::kTransactionId, code::kUnknown, "transactionId is not hex");
  }
  if (id.empty() || id.size() > 16) throw FunctionError(code::kTransactionId, code::kUnknown, "transactionId length");
  return id;
}

template <class T>
a1::Value<T> decode_field(const asn_TYPE_descriptor_t& td, ByteView der, const char* name) {
  try {
    return a1::decode<T>(td, der);
  } catch (const DecodeError& e) {
    throw FunctionError(code::kFunctionProvider, code::kInvalid, std::string(name) + " is not a valid " + td.name);
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
  if (e.kind == K::UnknownCi) throw FunctionError(code::kCiPublicKey, code::kUnknown, e.what());
  const char* subject = e.which == certs::Role::Eum ? code::kEumCertificate : code::kEuiccCertificate;
  if (e.kind == K::Expired) throw FunctionError(subject, code::kExpired, e.what());
  throw FunctionError(subject, code::kVerificationFailed, e.what());
}

// StoreMetadataRequest (SGP.22 5.5.3): sent as profileMetadata in
// authenticateClient and, MACed, as the 88 segment of the BPP.
Bytes store_metadata(const Profile& p) {
  auto md = RSP_ASN1_MAKE(StoreMetadataRequest);
  a1::set(md->iccid, iccid_to_bcd(p.iccid));
  a1::set(md->serviceProviderName, std::string_view(p.service_provider_name));
  a1::set(md->profileName, std::string_view(p.profile_name));
  md->profileClass = a1::new_integer(p.profile_class);
  return md.encode_der();
}

}  // namespace

Es9Plus::Es9Plus(const Config& config, ProfileStore& store)
    : config_(config), store_(store), now_([] { return std::time(nullptr); }) {
  if (config_.credentials.empty()) throw std::invalid_argument("SM-DP+ needs at least one credential set");
  for (const auto& c : config_.credentials) {
    auto cr = std::make_unique<Credentials>();
    cr->ci = certs::parse(c.ci_certificate);
    cr->dpauth = certs::parse(c.dpauth_certificate);
    cr->dppb = certs::parse(c.dppb_certificate);
    cr->dpauth_der = c.dpauth_certificate;
    cr->dppb_der = c.dppb_certificate;
    cr->dpauth_key = crypto::EcKey::from_pem_or_der(to_bytes(c.dpauth_key_pem));
    cr->dppb_key = crypto::EcKey::from_pem_or_der(to_bytes(c.dppb_key_pem));
    creds_.push_back(std::move(cr));
  }
}

Es9Plus::~Es9Plus() = default;

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

Session Es9Plus::live_session(const std::string& transaction_id, const char* expected_state) {
  auto s = store_.session(transaction_id);
  if (!s || s->state != expected_state)
    throw FunctionError(code::kTransactionId, code::kUnknown, "unknown RSP session " + transaction_id);
  if (now_() - s->created_at > config_.session_timeout_seconds) {
    store_.end_session(transaction_id, "expired");
    throw FunctionError(code::kTransactionId, code::kUnknown, "RSP session " + transaction_id + " expired");
  }
  return *s;
}

// ---------------------------------------------------------------- 5.6.1
json Es9Plus::initiate_authentication(const json& req) {
  Bytes euicc_challenge = base64_field(req, "euiccChallenge");
  Bytes info1_der = base64_field(req, "euiccInfo1");
  std::string address = field(req, "smdpAddress");
  if (euicc_challenge.size() != 16)
    throw FunctionError(code::kFunctionProvider, code::kInvalid, "euiccChallenge must be 16 bytes");
  if (!iequal(address, config_.address))
    throw FunctionError(code::kSmdpAddress, code::kRefused, "smdpAddress " + address + " is not this SM-DP+");

  auto info1 = decode_field<EUICCInfo1_t>(asn_DEF_EUICCInfo1, info1_der, "euiccInfo1");
  Bytes svn = a1::to_bytes(info1->svn);
  if (svn.size() != 3 || svn[0] != 2)
    throw FunctionError(code::kSpecificationVersion, code::kUnsupported, "eUICC SGP.22 version not supported");

  // Pick the first credential set whose CI the eUICC can verify with.
  int chosen = -1;
  const auto& list = info1->euiccCiPKIdListForVerification.list;
  for (std::size_t c = 0; c < creds_.size() && chosen < 0; ++c)
    for (int i = 0; i < list.count; ++i)
      if (a1::to_bytes(*list.array[i]) == creds_[c]->ci.subject_key_id) {
        chosen = static_cast<int>(c);
        break;
      }
  if (chosen < 0)
    throw FunctionError(code::kSecurityConfiguration, code::kUnsupported,
                        "none of the eUICC's CI public keys is supported");
  const auto& cr = credentials(chosen);

  Session s;
  Bytes txn = crypto::random_bytes(16);
  s.transaction_id = upper_hex(txn);
  s.state = "initiated";
  s.created_at = now_();
  s.euicc_challenge = euicc_challenge;
  s.server_challenge = crypto::random_bytes(16);
  s.server_address = config_.address;
  s.credential_index = chosen;

  auto ss1 = RSP_ASN1_MAKE(ServerSigned1);
  a1::set(ss1->transactionId, txn);
  a1::set(ss1->euiccChallenge, euicc_challenge);
  a1::set(ss1->serverAddress, std::string_view(config_.address));
  a1::set(ss1->serverChallenge, s.server_challenge);
  Bytes ss1_der = ss1.encode_der();
  Bytes signature1 = cr.dpauth_key.sign(ss1_der);
  store_.put_session(s);

  json body;
  body["transactionId"] = s.transaction_id;
  body["serverSigned1"] = to_base64(ss1_der);
  body["serverSignature1"] = to_base64(signature_tlv(signature1));
  body["euiccCiPKIdToBeUsed"] = to_base64(tlv::make(0x04, cr.ci.subject_key_id));
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
    throw FunctionError(code::kEuicc, code::kRefused, "the eUICC refused to authenticate the server");
  }
  // The signed part, as received: BF38 { A0 { 30 euiccSigned1, 5F37, 30 cert, 30 cert } }.
  auto ok = children(children(asr_der).at(0).raw);
  if (ok.size() < 4) throw FunctionError(code::kFunctionProvider, code::kInvalid, "AuthenticateResponseOk incomplete");
  ByteView euicc_signed1 = ok[0].raw;
  Bytes euicc_signature1(ok[1].value.begin(), ok[1].value.end());
  Bytes euicc_cert_der(ok[2].raw.begin(), ok[2].raw.end());
  Bytes eum_cert_der(ok[3].raw.begin(), ok[3].raw.end());

  certs::Certificate euicc_cert;
  try {
    euicc_cert = certs::verify_euicc_chain(euicc_cert_der, eum_cert_der, trusted_cis(), now_());
  } catch (const certs::ValidationError& e) {
    map_certificate_error(e);
  } catch (const DecodeError& e) {
    throw FunctionError(code::kEuiccCertificate, code::kVerificationFailed, e.what());
  }
  if (!euicc_cert.public_key().verify(euicc_signed1, euicc_signature1))
    throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccSignature1 does not verify");

  const auto& signed1 = asr->choice.authenticateResponseOk.euiccSigned1;
  if (a1::to_bytes(signed1.transactionId) != txn)
    throw FunctionError(code::kTransactionId, code::kUnknown, "transactionId in euiccSigned1 differs");
  if (!equal_ct(a1::to_bytes(signed1.serverChallenge), s.server_challenge))
    throw FunctionError(code::kEuicc, code::kVerificationFailed, "serverChallenge in euiccSigned1 differs");
  if (!iequal(a1::to_string(signed1.serverAddress), s.server_address))
    throw FunctionError(code::kSmdpAddress, code::kRefused, "serverAddress in euiccSigned1 differs");
  if (signed1.ctxParams1.present != CtxParams1_PR_ctxParamsForCommonAuthentication)
    throw FunctionError(code::kFunctionProvider, code::kInvalid, "unsupported ctxParams1");
  const auto* mid = signed1.ctxParams1.choice.ctxParamsForCommonAuthentication.matchingId;
  std::string matching_id = mid ? a1::to_string(*mid) : std::string();
  std::string eid = euicc_cert.subject_serial_number;

  // Allocate the profile in one store transaction so that two sessions with
  // the same matching id never both get it.
  store_.expire_orders(now_());  // committed on its own: the checks below may roll back
  store::Transaction tx(store_.db());
  std::optional<Profile> p;
  if (!matching_id.empty()) {
    p = store_.by_matching_id(matching_id);
    if (!p) throw FunctionError(code::kMatchingId, code::kRefused, "unknown matchingId");
  } else {
    store_.db().query("SELECT iccid FROM profiles WHERE eid = ? AND state = 'released' LIMIT 1", {eid},
                      [&](const store::Row& r) { p = store_.by_iccid(r.text(0)); });
    if (!p) throw FunctionError("8.2.5", code::kNoEligibleProfile, "no profile is released for this EID");
  }
  if (!p->eid.empty() && !iequal(p->eid, eid))
    throw FunctionError(code::kEid, code::kRefused, "the profile is reserved for another EID");
  if (p->state != ProfileState::Released && p->state != ProfileState::Downloaded)
    throw FunctionError(code::kProfile, "1.2", "the profile is not released for download");
  if (p->download_attempts >= config_.max_download_attempts)
    throw FunctionError(code::kProfile, code::kMaxRetriesExceeded, "download attempts exhausted");
  if (p->cc_hash && p->cc_attempts >= config_.max_cc_attempts)
    throw FunctionError(code::kConfirmationCode, code::kMaxRetriesExceeded, "confirmation code attempts exhausted");
  p->download_attempts += 1;
  p->transaction_id = s.transaction_id;
  store_.update(*p);

  auto sm2 = RSP_ASN1_MAKE(SmdpSigned2);
  a1::set(sm2->transactionId, txn);
  sm2->ccRequiredFlag = p->cc_hash ? 1 : 0;
  Bytes sm2_der = sm2.encode_der();
  // SGP.22 5.6.3: smdpSignature2 covers smdpSigned2 || euiccSignature1 (with its 5F37 tag).
  Bytes smdp_signature2 = cr.dppb_key.sign(concat(sm2_der, signature_tlv(euicc_signature1)));

  Bytes metadata_der = store_metadata(*p);

  s.state = "authenticated";
  s.eid = eid;
  s.euicc_certificate = euicc_cert_der;
  s.iccid = p->iccid;
  s.smdp_signature2 = smdp_signature2;
  store_.put_session(s);
  tx.commit();
  progress(*p, eid, 1, true);  // eligibility and retry limit check passed

  json body;
  body["transactionId"] = s.transaction_id;
  body["profileMetadata"] = to_base64(metadata_der);
  body["smdpSigned2"] = to_base64(sm2_der);
  body["smdpSignature2"] = to_base64(signature_tlv(smdp_signature2));
  body["smdpCertificate"] = to_base64(cr.dppb_der);
  log::info("es9+", "authenticateClient " + s.transaction_id + " EID " + eid + " ICCID " + p->iccid);
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
    throw FunctionError(code::kEuicc, code::kRefused, "the eUICC refused PrepareDownload");
  }
  auto ok = children(children(pdr_der).at(0).raw);
  if (ok.size() < 2) throw FunctionError(code::kFunctionProvider, code::kInvalid, "PrepareDownloadResponseOk incomplete");
  ByteView euicc_signed2 = ok[0].raw;
  Bytes euicc_signature2(ok[1].value.begin(), ok[1].value.end());

  auto euicc_key = certs::parse(s.euicc_certificate).public_key();
  // SGP.22 5.6.2: euiccSignature2 covers euiccSigned2 || smdpSignature2 (with its 5F37 tag).
  if (!euicc_key.verify(concat(euicc_signed2, signature_tlv(s.smdp_signature2)), euicc_signature2))
    throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccSignature2 does not verify");
  const auto& signed2 = pdr->choice.downloadResponseOk.euiccSigned2;
  if (a1::to_bytes(signed2.transactionId) != txn)
    throw FunctionError(code::kTransactionId, code::kUnknown, "transactionId in euiccSigned2 differs");

  store::Transaction tx(store_.db());
  auto p = store_.by_iccid(s.iccid);
  if (!p || p->transaction_id != s.transaction_id)
    throw FunctionError(code::kTransactionId, code::kUnknown, "the session no longer holds its profile");
  if (p->cc_hash) {
    if (!signed2.hashCc) {
      throw FunctionError(code::kConfirmationCode, code::kMandatoryElementMissing, "confirmation code required");
    }
    // SGP.22 3.1.3.1: hashCc = SHA-256(SHA-256(CC) || transactionId).
    Bytes expected = crypto::sha256(concat(*p->cc_hash, txn));
    if (!equal_ct(a1::to_bytes(*signed2.hashCc), expected)) {
      p->cc_attempts += 1;
      store_.update(*p);
      store_.end_session(s.transaction_id, "failed");
      tx.commit();
      FunctionError e = p->cc_attempts >= config_.max_cc_attempts
                            ? FunctionError(code::kConfirmationCode, code::kMaxRetriesExceeded,
                                            "confirmation code attempts exhausted")
                            : FunctionError(code::kConfirmationCode, code::kRefused, "confirmation code refused");
      progress(*p, s.eid, 2, false, &e);  // confirmation failure
      throw e;
    }
  }
  Bytes euicc_otpk = a1::to_bytes(signed2.euiccOtpk);
  Bytes bpp = build_bpp(s, *p, euicc_otpk, euicc_signature2);
  p->state = ProfileState::Downloaded;
  store_.update(*p);
  s.state = "bpp-sent";
  s.euicc_otpk = euicc_otpk;
  store_.put_session(s);
  tx.commit();
  progress(*p, s.eid, 3, true);  // BPP download

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
  crypto::Curve curve = cr.dppb_key.curve();
  crypto::EcKey ot_dp;
  SecretBytes shs;
  try {
    ot_dp = crypto::EcKey::generate(curve);
    shs = ot_dp.ecdh(euicc_otpk);
  } catch (const crypto::CryptoError&) {
    throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccOtpk is not a point on the session curve");
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
  a1::set(isc->smdpSign, cr.dppb_key.sign(tbs));
  Bytes isc_der = isc.encode_der();

  auto cfg = RSP_ASN1_MAKE(ConfigureISDPRequest);
  Bytes cfg_der = cfg.encode_der();
  Bytes md_der = store_metadata(p);

  scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);
  Bytes seq87 = tlv::make(0xA0, ch.wrap(scp03t::kTagConfigureOrReplace, cfg_der));
  Bytes seq88 = tlv::make(0xA1, ch.wrap(scp03t::kTagMacOnly, md_der, false));
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
  Bytes upp = store_.upp(p.iccid);
  Bytes seq86 = tlv::make(0xA3, ch.wrap_segments(scp03t::kTagEncryptedMac, upp));
  wipe(upp.data(), upp.size());
  return tlv::make(0xBF36, concat(isc_der, seq87, seq88, seq86));
}

// ---------------------------------------------------------------- 5.6.4
void Es9Plus::handle_notification(const json& req) {
  Bytes der = base64_field(req, "pendingNotification");
  auto pn = decode_field<PendingNotification_t>(asn_DEF_PendingNotification, der, "pendingNotification");
  if (pn->present == PendingNotification_PR_profileInstallationResult) {
    const auto& pir = pn->choice.profileInstallationResult;
    Bytes txn = a1::to_bytes(pir.profileInstallationResultData.transactionId);
    auto s = store_.session(upper_hex(txn));
    if (!s || s->euicc_certificate.empty())
      throw FunctionError(code::kTransactionId, code::kUnknown, "notification for an unknown session");
    // euiccSignPIR covers profileInstallationResultData (BF27) as received.
    auto parts = children(der);
    if (parts.size() < 2) throw FunctionError(code::kFunctionProvider, code::kInvalid, "ProfileInstallationResult");
    if (!certs::parse(s->euicc_certificate).public_key().verify(parts[0].raw, parts[1].value))
      throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccSignPIR does not verify");
    bool installed = pir.profileInstallationResultData.finalResult.present ==
                     ProfileInstallationResultData__finalResult_PR_successResult;
    store::Transaction tx(store_.db());
    std::optional<Profile> p = store_.by_iccid(s->iccid);
    if (p && p->transaction_id == s->transaction_id) {
      p->state = installed ? ProfileState::Installed : ProfileState::Error;
      store_.update(*p);
    } else {
      p.reset();
    }
    store_.end_session(s->transaction_id, installed ? "done" : "install-failed");
    tx.commit();
    if (p) {
      FunctionError failure("8.2", "4.2", "the eUICC could not install the profile");
      progress(*p, s->eid, 4, installed, installed ? nullptr : &failure, der);  // BPP installation
    }
    log::info("es9+", "handleNotification install " + s->transaction_id + (installed ? " success" : " failure") +
                          " ICCID " + s->iccid);
    return;
  }
  // Other notifications (enable, disable, delete): accepted once signed by
  // an eUICC whose chain we trust.
  auto parts = children(der);
  if (parts.size() < 4) throw FunctionError(code::kFunctionProvider, code::kInvalid, "OtherSignedNotification");
  certs::Certificate cert;
  try {
    cert = certs::verify_euicc_chain(parts[2].raw, parts[3].raw, trusted_cis(), now_());
  } catch (const certs::ValidationError& e) {
    map_certificate_error(e);
  }
  if (!cert.public_key().verify(parts[0].raw, parts[1].value))
    throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccNotificationSignature does not verify");
  log::info("es9+", "handleNotification from EID " + cert.subject_serial_number);
}

// ---------------------------------------------------------------- 5.6.5
json Es9Plus::cancel_session(const json& req) {
  Bytes txn = transaction_id_field(req);
  Bytes der = base64_field(req, "cancelSessionResponse");
  auto s = store_.session(upper_hex(txn));
  if (!s || s->state == "done" || s->state == "cancelled")
    throw FunctionError(code::kTransactionId, code::kUnknown, "unknown RSP session");
  auto csr = decode_field<CancelSessionResponse_t>(asn_DEF_CancelSessionResponse, der, "cancelSessionResponse");
  if (csr->present != CancelSessionResponse_PR_cancelSessionResponseOk)
    throw FunctionError(code::kEuicc, code::kRefused, "the eUICC could not cancel the session");
  if (a1::to_bytes(csr->choice.cancelSessionResponseOk.euiccCancelSessionSigned.transactionId) != txn)
    throw FunctionError(code::kTransactionId, code::kUnknown, "transactionId in euiccCancelSessionSigned differs");
  if (!s->euicc_certificate.empty()) {
    auto ok = children(children(der).at(0).raw);
    if (ok.size() < 2 || !certs::parse(s->euicc_certificate).public_key().verify(ok[0].raw, ok[1].value))
      throw FunctionError(code::kEuicc, code::kVerificationFailed, "euiccCancelSessionSignature does not verify");
  }
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
