// ES10a/b/c (SGP.22 5.7): one reassembled STORE DATA command in, one
// response out. Every message is decoded and encoded with rsp_asn1; raw
// bytes are taken with rsp::tlv only where a signature covers them as sent.
#include <algorithm>

#include "asn1_util.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <CancelSessionRequest.h>
#include <CancelSessionResponse.h>
#include <DeleteProfileRequest.h>
#include <DeleteProfileResponse.h>
#include <DisableProfileRequest.h>
#include <DisableProfileResponse.h>
#include <EUICCInfo1.h>
#include <EUICCInfo2.h>
#include <EnableProfileRequest.h>
#include <EnableProfileResponse.h>
#include <EuiccConfiguredAddressesResponse.h>
#include <EuiccMemoryResetRequest.h>
#include <EuiccMemoryResetResponse.h>
#include <GetEuiccChallengeResponse.h>
#include <GetEuiccDataRequest.h>
#include <GetEuiccDataResponse.h>
#include <GetRatResponse.h>
#include <ListNotificationRequest.h>
#include <ListNotificationResponse.h>
#include <NotificationSentRequest.h>
#include <NotificationSentResponse.h>
#include <OtherSignedNotification.h>
#include <PendingNotification.h>
#include <PrepareDownloadRequest.h>
#include <PrepareDownloadResponse.h>
#include <ProfileInfo.h>
#include <ProfileInfoListRequest.h>
#include <ProfileInfoListResponse.h>
#include <RetrieveNotificationsListRequest.h>
#include <RetrieveNotificationsListResponse.h>
#include <SetDefaultDpAddressRequest.h>
#include <SetDefaultDpAddressResponse.h>
#include <SetNicknameRequest.h>
#include <SetNicknameResponse.h>
#include <StoreMetadataRequest.h>
#include <DpProprietaryData.h>
#include <OperatorId.h>
#include <NotificationConfigurationInformation.h>

namespace rsp::sim {

using asn1::set;
using asn1::set_int64;
using Op = NotificationSummary::Op;

namespace {

constexpr const char* kLog = "euicc.es10";

// AuthenticateErrorCode / DownloadErrorCode values (SGP.22 5.7.13 / 5.7.14).
enum AuthErr { kInvalidCertificate = 1, kInvalidSignature = 2, kUnsupportedCurve = 3, kNoSessionContext = 4,
               kInvalidOid = 5, kEuiccChallengeMismatch = 6, kCiPKUnknown = 7, kInvalidTransactionId = 5,
               kUndefinedError = 127 };

Bytes strip_ski_header(ByteView ski) {
  // euiccCiPKIdToBeUsed is seen with its DER header (04 14 <SKI>) in the wild.
  if (ski.size() == 22 && ski[0] == 0x04 && ski[1] == 0x14) return Bytes(ski.begin() + 2, ski.end());
  return Bytes(ski.begin(), ski.end());
}

// Maps a chain-check failure to AuthenticateErrorCode / DownloadErrorCode.
int cert_error_code(const certs::ValidationError& e) {
  switch (e.kind) {
    case certs::ValidationError::Kind::UnknownCi: return kCiPKUnknown;
    case certs::ValidationError::Kind::WrongRole: return kInvalidOid;
    default: return kInvalidCertificate;
  }
}

template <class T>
Bytes encode(const asn1::Value<T>& v) {
  return v.encode_der();
}

// Parses a BER tag list (5C value) into tag numbers as rsp::tlv keeps them.
std::vector<std::uint32_t> parse_tag_list(ByteView v) {
  std::vector<std::uint32_t> tags;
  std::size_t i = 0;
  while (i < v.size()) {
    std::uint32_t t = v[i++];
    if ((t & 0x1F) == 0x1F) {
      while (i < v.size()) {
        std::uint8_t b = v[i++];
        t = t << 8 | b;
        if (!(b & 0x80)) break;
      }
    }
    tags.push_back(t);
  }
  return tags;
}

}  // namespace

// ---- shared helpers ------------------------------------------------------------

unsigned op_bit(Op op) {
  switch (op) {
    case Op::Install: return 0;
    case Op::Enable: return 1;
    case Op::Disable: return 2;
    case Op::Delete: return 3;
  }
  return 0;
}

void fill_metadata(NotificationMetadata_t& m, long seq, Op op, const std::string& address, const std::string& iccid) {
  set_int64(m.seqNumber, seq);
  asn1::set_named_bits(m.profileManagementOperation, {op_bit(op)});
  set(m.notificationAddress, std::string_view(address));
  if (!iccid.empty()) m.iccid = asn1::new_octet_string(iccid_bcd(iccid));
}

void put_certificate(Certificate_t& dst, ByteView der) {
  asn1::move_into(dst, RSP_ASN1_DECODE(Certificate, der));
}

// ---- dispatcher ----------------------------------------------------------------

Bytes Euicc::Impl::es10(ByteView request) {
  // BoundProfilePackage segments (SGP.22 2.5.5) are not complete TLVs.
  if (request.size() >= 2 && request[0] == 0xBF && request[1] == 0x36) return bpp_segment(request);
  if (session.bpp != RspSession::Bpp::Idle && session.bpp != RspSession::Bpp::Done) {
    std::uint8_t t = request[0];
    if (t == 0xA0 || t == 0xA1 || t == 0xA2 || t == 0xA3 || t == 0x86 || t == 0x87 || t == 0x88) return bpp_segment(request);
  }
  auto t = tlv::parse_one(request);
  if (t.raw.size() != request.size()) throw DecodeError("trailing bytes after the ES10 command");
  log::debug(kLog, "ES10 command " + to_hex(tlv::encode_tag(t.tag), true));
  switch (t.tag) {
    case 0xBF20: return get_euicc_info1();
    case 0xBF22: return euicc_info2_der();
    case 0xBF2E: return get_challenge(request);
    case 0xBF38: return authenticate_server(request);
    case 0xBF21: return prepare_download(request);
    case 0xBF41: return cancel_session(request);
    case 0xBF2D: return get_profiles_info(request);
    case 0xBF31: return enable_profile(request);
    case 0xBF32: return disable_profile(request);
    case 0xBF33: return delete_profile(request);
    case 0xBF29: return set_nickname(request);
    case 0xBF28: return list_notification(request);
    case 0xBF2B: return retrieve_notifications(request);
    case 0xBF30: return notification_sent(request);
    case 0xBF3E: return get_eid(request);
    case 0xBF34: return memory_reset(request);
    case 0xBF3C: return configured_addresses(request);
    case 0xBF3F: return set_default_dp(request);
    case 0xBF43: return get_rat(request);
    case 0xBF35: return load_crl(request);
    default:
      throw DecodeError("unknown ES10 command tag " + to_hex(tlv::encode_tag(t.tag)));
  }
}

// ---- ES10b: eUICC information and challenge ---------------------------------------

Bytes Euicc::Impl::get_euicc_info1() {
  auto v = RSP_ASN1_MAKE(EUICCInfo1);
  set(v->svn, Bytes{2, 2, 2});
  for (const auto& ci : cis) {
    set(asn1::add(v->euiccCiPKIdListForVerification.list), ci.subject_key_id);
    set(asn1::add(v->euiccCiPKIdListForSigning.list), ci.subject_key_id);
  }
  return encode(v);
}

Bytes Euicc::Impl::euicc_info2_der() {
  auto v = RSP_ASN1_MAKE(EUICCInfo2);
  set(v->profileVersion, cfg.profile_version);
  set(v->svn, Bytes{2, 2, 2});
  set(v->euiccFirmwareVer, cfg.firmware_version);
  // TS 102 226 8.2.1.7.2: installed applications, free NVM, free RAM.
  std::uint32_t nvm = cfg.free_nvm, ram = cfg.free_ram;
  Bytes ecr = tlv::make(0x81, Bytes{static_cast<std::uint8_t>(state.profiles.size())});
  append(ecr, tlv::make(0x82, Bytes{static_cast<std::uint8_t>(nvm >> 24), static_cast<std::uint8_t>(nvm >> 16),
                                    static_cast<std::uint8_t>(nvm >> 8), static_cast<std::uint8_t>(nvm)}));
  append(ecr, tlv::make(0x83, Bytes{static_cast<std::uint8_t>(ram >> 24), static_cast<std::uint8_t>(ram >> 16),
                                    static_cast<std::uint8_t>(ram >> 8), static_cast<std::uint8_t>(ram)}));
  set(v->extCardResource, ecr);
  // UICCCapability (SAIP): usimSupport(1), isimSupport(2), akaMilenage(4), javacard(14)
  asn1::set_named_bits(v->uiccCapability, {1, 2, 4, 14});
  v->ts102241Version = asn1::new_octet_string(Bytes{9, 2, 0});        // [6]: TS 102 241 version
  v->globalplatformVersion = asn1::new_octet_string(Bytes{2, 3, 1});
  asn1::set_named_bits(v->rspCapability, {0, 1, 3});  // additionalProfile, crlSupport (LoadCRL), testProfileSupport
  for (const auto& ci : cis) {
    set(asn1::add(v->euiccCiPKIdListForVerification.list), ci.subject_key_id);
    set(asn1::add(v->euiccCiPKIdListForSigning.list), ci.subject_key_id);
  }
  v->euiccCategory = asn1::new_integer(2);  // mediumEuicc
  if (!cfg.forbidden_ppr.empty()) {
    v->forbiddenProfilePolicyRules = asn1::alloc<PprIds_t>();
    for (unsigned bit : cfg.forbidden_ppr) asn1::set_named_bit(*v->forbiddenProfilePolicyRules, bit);
  }
  set(v->ppVersion, cfg.pp_version);
  set(v->sasAcreditationNumber, std::string_view("RSP-SIM-SAS-0001"));
  return encode(v);
}

Bytes Euicc::Impl::get_challenge(ByteView) {
  session = RspSession{};
  session.euicc_challenge = crypto::random_bytes(16);
  auto v = RSP_ASN1_MAKE(GetEuiccChallengeResponse);
  set(v->euiccChallenge, session.euicc_challenge);
  return encode(v);
}

// ---- ES10b.AuthenticateServer (SGP.22 5.7.13) -------------------------------------

Bytes Euicc::Impl::authenticate_server(ByteView request) {
  auto req = RSP_ASN1_DECODE(AuthenticateServerRequest, request);
  // The signed part exactly as received: the first element inside BF38.
  auto outer = tlv::parse_one(request);
  auto parts = tlv::parse_all(outer.value);
  if (parts.size() < 2) throw DecodeError("AuthenticateServerRequest too short");
  ByteView server_signed1 = parts[0].raw;
  Bytes transaction_id = asn1::to_bytes(req->serverSigned1.transactionId);

  auto fail = [&](int code) {
    log::info(kLog, "AuthenticateServer failed with authenticateErrorCode " + std::to_string(code));
    auto r = RSP_ASN1_MAKE(AuthenticateServerResponse);
    r->present = AuthenticateServerResponse_PR_authenticateResponseError;
    set(r->choice.authenticateResponseError.transactionId, transaction_id);
    set_int64(r->choice.authenticateResponseError.authenticateErrorCode, code);
    Bytes challenge = std::move(session.euicc_challenge);
    session = RspSession{};  // the challenge is spent either way
    (void)challenge;
    return encode(r);
  };

  // euiccCiPKIdToBeUsed must be one of ours (euiccCiPKIdListForSigning).
  Bytes ci_pkid = strip_ski_header(asn1::view(req->euiccCiPKIdToBeUsed));
  const certs::Certificate* ci = nullptr;
  for (const auto& c : cis)
    if (c.subject_key_id == ci_pkid) ci = &c;
  if (!ci) return fail(kCiPKUnknown);

  // CERT.DPauth.ECDSA, as received.
  auto cert_parts = tlv::parse_all(outer.value);
  ByteView dp_cert_der;
  {
    // serverSigned1, serverSignature1, euiccCiPKIdToBeUsed, serverCertificate, ctxParams1
    if (cert_parts.size() < 5) throw DecodeError("AuthenticateServerRequest misses elements");
    dp_cert_der = cert_parts[3].raw;
  }
  certs::Certificate dp;
  try {
    dp = certs::verify_dp_cert(dp_cert_der, certs::Role::DpAuth, cis, now(), chain_options());
  } catch (const certs::ValidationError& e) {
    log::info(kLog, std::string("CERT.DPauth rejected: ") + e.what());
    return fail(cert_error_code(e));
  } catch (const DecodeError& e) {
    log::info(kLog, std::string("CERT.DPauth does not parse: ") + e.what());
    return fail(kInvalidCertificate);
  }
  if (dp.curve != ci->curve) return fail(kUnsupportedCurve);

  ByteView sig1 = asn1::view(req->serverSignature1);
  if (sig1.size() != 64 || !dp.public_key().verify(server_signed1, sig1)) return fail(kInvalidSignature);

  ByteView challenge = asn1::view(req->serverSigned1.euiccChallenge);
  if (session.euicc_challenge.empty() || !equal_ct(challenge, session.euicc_challenge))
    return fail(kEuiccChallengeMismatch);

  // euiccSigned1 {transactionId, serverAddress, serverChallenge, euiccInfo2, ctxParams1}
  auto ok = RSP_ASN1_MAKE(AuthenticateServerResponse);
  ok->present = AuthenticateServerResponse_PR_authenticateResponseOk;
  auto& body = ok->choice.authenticateResponseOk;
  set(body.euiccSigned1.transactionId, transaction_id);
  set(body.euiccSigned1.serverAddress, asn1::view(req->serverSigned1.serverAddress));
  set(body.euiccSigned1.serverChallenge, asn1::view(req->serverSigned1.serverChallenge));
  asn1::move_into(body.euiccSigned1.euiccInfo2, RSP_ASN1_DECODE(EUICCInfo2, euicc_info2_der()));
  // ctxParams1 moves over from the request as decoded.
  std::memcpy(static_cast<void*>(&body.euiccSigned1.ctxParams1), &req->ctxParams1, sizeof(CtxParams1_t));
  std::memset(static_cast<void*>(&req->ctxParams1), 0, sizeof(CtxParams1_t));
  Bytes signed1 = RSP_ASN1_ENCODE(EuiccSigned1, &body.euiccSigned1);
  Bytes sig = sign(signed1);
  set(body.euiccSignature1, sig);
  put_certificate(body.euiccCertificate, cfg.euicc_cert_der);
  put_certificate(body.eumCertificate, cfg.eum_cert_der);
  Bytes out = encode(ok);

  RspSession s;
  s.authenticated = true;
  s.transaction_id = transaction_id;
  s.server_address = asn1::to_string(req->serverSigned1.serverAddress);
  s.server_challenge = asn1::to_bytes(req->serverSigned1.serverChallenge);
  s.curve = ci->curve;
  s.ci_pkid = ci_pkid;
  s.smdp_oid_auth = dp.registered_id.value_or("");
  s.euicc_signature1 = sig;
  session = std::move(s);
  log::info(kLog, "AuthenticateServer ok, transactionId " + to_hex(transaction_id, true) + ", server " + session.server_address);
  return out;
}

// ---- ES10b.PrepareDownload (SGP.22 5.7.14) ----------------------------------------

Bytes Euicc::Impl::prepare_download(ByteView request) {
  auto req = RSP_ASN1_DECODE(PrepareDownloadRequest, request);
  auto outer = tlv::parse_one(request);
  auto parts = tlv::parse_all(outer.value);
  // smdpSigned2, smdpSignature2, [hashCc], smdpCertificate
  if (parts.size() < 3) throw DecodeError("PrepareDownloadRequest misses elements");
  ByteView smdp_signed2 = parts[0].raw;
  ByteView dp_cert_der = parts.back().raw;
  Bytes transaction_id = asn1::to_bytes(req->smdpSigned2.transactionId);

  auto fail = [&](int code) {
    log::info(kLog, "PrepareDownload failed with downloadErrorCode " + std::to_string(code));
    auto r = RSP_ASN1_MAKE(PrepareDownloadResponse);
    r->present = PrepareDownloadResponse_PR_downloadResponseError;
    set(r->choice.downloadResponseError.transactionId, transaction_id);
    set_int64(r->choice.downloadResponseError.downloadErrorCode, code);
    return encode(r);
  };

  if (!session.authenticated) return fail(kNoSessionContext);
  certs::Certificate dp;
  try {
    dp = certs::verify_dp_cert(dp_cert_der, certs::Role::DpPb, cis, now(), chain_options());
  } catch (const certs::ValidationError& e) {
    log::info(kLog, std::string("CERT.DPpb rejected: ") + e.what());
    int code = cert_error_code(e);
    return fail(code == kCiPKUnknown || code == kInvalidOid ? kInvalidCertificate : code);
  } catch (const DecodeError& e) {
    log::info(kLog, std::string("CERT.DPpb does not parse: ") + e.what());
    return fail(kInvalidCertificate);
  }
  if (dp.curve != session.curve) return fail(kUnsupportedCurve);
  ByteView sig2 = asn1::view(req->smdpSignature2);
  if (sig2.size() != 64 || !dp.public_key().verify(concat(smdp_signed2, sig_tlv(session.euicc_signature1)), sig2))
    return fail(kInvalidSignature);
  if (!equal_ct(transaction_id, session.transaction_id) || transaction_id.size() != session.transaction_id.size())
    return fail(kInvalidTransactionId);
  bool cc_required = req->smdpSigned2.ccRequiredFlag != 0;
  if (cc_required != (req->hashCc != nullptr)) return fail(kUndefinedError);

  // A retry (bppEuiccOtpk) reuses the one-time key pair of this session.
  if (req->smdpSigned2.bppEuiccOtpk && session.otsk &&
      asn1::to_bytes(*req->smdpSigned2.bppEuiccOtpk) == session.euicc_otpk) {
    // keep session.otsk
  } else {
    session.otsk = std::make_unique<crypto::EcKey>(crypto::EcKey::generate(session.curve));
    session.euicc_otpk = session.otsk->public_point();
  }

  auto ok = RSP_ASN1_MAKE(PrepareDownloadResponse);
  ok->present = PrepareDownloadResponse_PR_downloadResponseOk;
  auto& body = ok->choice.downloadResponseOk;
  set(body.euiccSigned2.transactionId, transaction_id);
  set(body.euiccSigned2.euiccOtpk, session.euicc_otpk);
  if (req->hashCc) body.euiccSigned2.hashCc = asn1::new_octet_string(asn1::view(*req->hashCc));
  Bytes signed2 = RSP_ASN1_ENCODE(EUICCSigned2, &body.euiccSigned2);
  set(body.euiccSignature2, sign(concat(signed2, sig_tlv(sig2))));
  Bytes out = encode(ok);

  session.prepared = true;
  session.smdp_signature2.assign(sig2.begin(), sig2.end());
  session.smdp_oid_pb = dp.registered_id.value_or("");
  session.dppb_key = std::make_unique<crypto::EcKey>(dp.public_key());
  session.bpp = RspSession::Bpp::Idle;
  log::info(kLog, "PrepareDownload ok, transactionId " + to_hex(transaction_id, true));
  return out;
}

// ---- ES10b.CancelSession (SGP.22 5.7.14a) ----------------------------------------

Bytes Euicc::Impl::cancel_session(ByteView request) {
  auto req = RSP_ASN1_DECODE(CancelSessionRequest, request);
  Bytes tid = asn1::to_bytes(req->transactionId);
  auto r = RSP_ASN1_MAKE(CancelSessionResponse);
  std::string oid = session.smdp_oid_auth;
  if (!session.authenticated || tid != session.transaction_id) {
    r->present = CancelSessionResponse_PR_cancelSessionResponseError;
    set_int64(r->choice.cancelSessionResponseError, 5);  // invalidTransactionId
    return encode(r);
  }
  if (oid.empty()) {
    r->present = CancelSessionResponse_PR_cancelSessionResponseError;
    set_int64(r->choice.cancelSessionResponseError, 127);
    session = RspSession{};
    return encode(r);
  }
  r->present = CancelSessionResponse_PR_cancelSessionResponseOk;
  auto& body = r->choice.cancelSessionResponseOk;
  set(body.euiccCancelSessionSigned.transactionId, tid);
  asn1::set_oid(body.euiccCancelSessionSigned.smdpOid, oid);
  set_int64(body.euiccCancelSessionSigned.reason, asn1::to_int64(req->reason));
  Bytes signed_part = RSP_ASN1_ENCODE(EuiccCancelSessionSigned, &body.euiccCancelSessionSigned);
  set(body.euiccCancelSessionSignature, sign(signed_part));
  session = RspSession{};
  return encode(r);
}

// ---- ES10c: profiles ------------------------------------------------------------------

Profile* Euicc::Impl::find_profile(ByteView iccid_coded, ByteView aid) {
  for (auto& p : state.profiles) {
    if (!iccid_coded.empty() && iccid_bcd(p.iccid) == Bytes(iccid_coded.begin(), iccid_coded.end())) return &p;
    if (!aid.empty() && p.isdp_aid == Bytes(aid.begin(), aid.end())) return &p;
  }
  return nullptr;
}

Bytes Euicc::Impl::get_profiles_info(ByteView request) {
  auto req = RSP_ASN1_DECODE(ProfileInfoListRequest, request);
  std::vector<std::uint32_t> tags;
  bool all = req->tagList == nullptr;
  if (!all) tags = parse_tag_list(asn1::view(*req->tagList));
  auto want = [&](std::uint32_t tag) { return all || std::find(tags.begin(), tags.end(), tag) != tags.end(); };

  auto r = RSP_ASN1_MAKE(ProfileInfoListResponse);
  r->present = ProfileInfoListResponse_PR_profileInfoListOk;
  for (const auto& p : state.profiles) {
    if (req->searchCriteria) {
      const auto& sc = *req->searchCriteria;
      if (sc.present == ProfileInfoListRequest__searchCriteria_PR_isdpAid && asn1::to_bytes(sc.choice.isdpAid) != p.isdp_aid)
        continue;
      if (sc.present == ProfileInfoListRequest__searchCriteria_PR_iccid &&
          asn1::to_bytes(sc.choice.iccid) != iccid_bcd(p.iccid))
        continue;
      if (sc.present == ProfileInfoListRequest__searchCriteria_PR_profileClass &&
          asn1::to_int64(sc.choice.profileClass) != p.profile_class)
        continue;
    }
    auto& pi = asn1::add(r->choice.profileInfoListOk.list);
    if (want(0x5A)) pi.iccid = asn1::new_octet_string(iccid_bcd(p.iccid));
    if (want(0x4F)) pi.isdpAid = asn1::new_octet_string(p.isdp_aid);
    if (want(0x9F70)) pi.profileState = asn1::new_integer(p.enabled ? 1 : 0);
    // An unset nickname is absent, not empty (LPAs show "" and absent differently).
    if (want(0x90) && !p.nickname.empty()) pi.profileNickname = asn1::new_octet_string(std::string_view(p.nickname));
    if (want(0x91)) pi.serviceProviderName = asn1::new_octet_string(std::string_view(p.service_provider_name));
    if (want(0x92)) pi.profileName = asn1::new_octet_string(std::string_view(p.profile_name));
    if (want(0x95)) pi.profileClass = asn1::new_integer(p.profile_class);
    if (!p.store_metadata_der.empty()) {
      // Metadata kept as the SM-DP+ sent it: move the optional members over.
      auto md = RSP_ASN1_DECODE(StoreMetadataRequest, p.store_metadata_der);
      if (want(0x93) && md->iconType) std::swap(pi.iconType, md->iconType);
      if (want(0x94) && md->icon) std::swap(pi.icon, md->icon);
      if (want(0xB6) && md->notificationConfigurationInfo) {
        pi.notificationConfigurationInfo = asn1::alloc<ProfileInfo::ProfileInfo__notificationConfigurationInfo>();
        auto& from = md->notificationConfigurationInfo->list;
        for (int i = 0; i < from.count; ++i)
          asn1::add_owned(pi.notificationConfigurationInfo->list, from.array[i], asn_DEF_NotificationConfigurationInformation);
        from.count = 0;  // now owned by pi
      }
      if (want(0xB7) && md->profileOwner) std::swap(pi.profileOwner, md->profileOwner);
      if (want(0x99) && md->profilePolicyRules) std::swap(pi.profilePolicyRules, md->profilePolicyRules);
    }
    if (want(0xB8) && !p.dp_proprietary_der.empty()) {
      // B8 as sent in ConfigureISDP; decode it as the SEQUENCE it tags.
      auto t = tlv::parse_one(p.dp_proprietary_der);
      auto dpd = RSP_ASN1_DECODE(DpProprietaryData, tlv::make(0x30, t.value));
      pi.dpProprietaryData = dpd.release();
    }
  }
  return encode(r);
}

void Euicc::Impl::add_other_notification(Op op, const Profile& p) {
  // Only if the profile's metadata asks for this event (SGP.22 5.7.16-18).
  if (p.store_metadata_der.empty()) return;
  auto md = RSP_ASN1_DECODE(StoreMetadataRequest, p.store_metadata_der);
  if (!md->notificationConfigurationInfo) return;
  std::string address;
  for (int i = 0; i < md->notificationConfigurationInfo->list.count; ++i) {
    const auto* nci = md->notificationConfigurationInfo->list.array[i];
    if (asn1::test_bit(nci->profileManagementOperation, op_bit(op))) {
      address = asn1::to_string(nci->notificationAddress);
      break;
    }
  }
  if (address.empty()) return;
  long seq = state.next_seq++;
  auto pn = RSP_ASN1_MAKE(PendingNotification);
  pn->present = PendingNotification_PR_otherSignedNotification;
  auto& osn = pn->choice.otherSignedNotification;
  fill_metadata(osn.tbsOtherNotification, seq, op, address, p.iccid);
  Bytes tbs = RSP_ASN1_ENCODE(NotificationMetadata, &osn.tbsOtherNotification);
  set(osn.euiccNotificationSignature, sign(tbs));
  put_certificate(osn.euiccCertificate, cfg.euicc_cert_der);
  put_certificate(osn.eumCertificate, cfg.eum_cert_der);
  state.notifications.push_back({seq, op, address, p.iccid, encode(pn)});
}

namespace {
bool ppr_set(const Profile& p, unsigned bit) {
  if (p.store_metadata_der.empty()) return false;
  auto md = RSP_ASN1_DECODE(StoreMetadataRequest, p.store_metadata_der);
  return md->profilePolicyRules && asn1::test_bit(*md->profilePolicyRules, bit);
}
}  // namespace

Bytes Euicc::Impl::enable_profile(ByteView request) {
  auto req = RSP_ASN1_DECODE(EnableProfileRequest, request);
  const auto& id = req->profileIdentifier;
  Profile* target = id.present == EnableProfileRequest__profileIdentifier_PR_iccid
                        ? find_profile(asn1::view(id.choice.iccid), {})
                        : find_profile({}, asn1::view(id.choice.isdpAid));
  int result = 0;
  Profile* current = nullptr;
  for (auto& p : state.profiles)
    if (p.enabled) current = &p;
  if (!target) result = 1;
  else if (target->enabled) result = 2;
  else if (current && ppr_set(*current, 1)) result = 3;
  if (result == 0) {
    if (current) {
      current->enabled = false;
      add_other_notification(Op::Disable, *current);
    }
    target->enabled = true;
    add_other_notification(Op::Enable, *target);
    uicc_refresh();  // REFRESH: the new file system
    save();
    log::info(kLog, "enabled profile " + target->iccid);
  }
  auto r = RSP_ASN1_MAKE(EnableProfileResponse);
  set_int64(r->enableResult, result);
  return encode(r);
}

Bytes Euicc::Impl::disable_profile(ByteView request) {
  auto req = RSP_ASN1_DECODE(DisableProfileRequest, request);
  const auto& id = req->profileIdentifier;
  Profile* target = id.present == DisableProfileRequest__profileIdentifier_PR_iccid
                        ? find_profile(asn1::view(id.choice.iccid), {})
                        : find_profile({}, asn1::view(id.choice.isdpAid));
  int result = 0;
  if (!target) result = 1;
  else if (!target->enabled) result = 2;
  else if (ppr_set(*target, 1)) result = 3;
  if (result == 0) {
    target->enabled = false;
    add_other_notification(Op::Disable, *target);
    uicc_refresh();
    save();
    log::info(kLog, "disabled profile " + target->iccid);
  }
  auto r = RSP_ASN1_MAKE(DisableProfileResponse);
  set_int64(r->disableResult, result);
  return encode(r);
}

Bytes Euicc::Impl::delete_profile(ByteView request) {
  auto req = RSP_ASN1_DECODE(DeleteProfileRequest, request);
  Profile* target = req->present == DeleteProfileRequest_PR_iccid ? find_profile(asn1::view(req->choice.iccid), {})
                                                                  : find_profile({}, asn1::view(req->choice.isdpAid));
  int result = 0;
  if (!target) result = 1;
  else if (target->enabled) result = 2;
  else if (ppr_set(*target, 2)) result = 3;
  if (result == 0) {
    add_other_notification(Op::Delete, *target);
    std::string iccid = target->iccid;
    state.profiles.erase(std::remove_if(state.profiles.begin(), state.profiles.end(),
                                        [&](const Profile& p) { return p.iccid == iccid; }),
                         state.profiles.end());
    save();
    log::info(kLog, "deleted profile " + iccid);
  }
  auto r = RSP_ASN1_MAKE(DeleteProfileResponse);
  set_int64(r->deleteResult, result);
  return encode(r);
}

Bytes Euicc::Impl::set_nickname(ByteView request) {
  auto req = RSP_ASN1_DECODE(SetNicknameRequest, request);
  Profile* p = find_profile(asn1::view(req->iccid), {});
  int result = 1;
  if (p) {
    p->nickname = asn1::to_string(req->profileNickname);
    save();
    result = 0;
  }
  auto r = RSP_ASN1_MAKE(SetNicknameResponse);
  set_int64(r->setNicknameResult, result);
  return encode(r);
}

// ---- ES10b: notifications --------------------------------------------------------------

Bytes Euicc::Impl::list_notification(ByteView request) {
  auto req = RSP_ASN1_DECODE(ListNotificationRequest, request);
  auto r = RSP_ASN1_MAKE(ListNotificationResponse);
  r->present = ListNotificationResponse_PR_notificationMetadataList;
  for (const auto& n : state.notifications) {
    if (req->profileManagementOperation && !asn1::test_bit(*req->profileManagementOperation, op_bit(n.op))) continue;
    auto& m = asn1::add(r->choice.notificationMetadataList.list);
    fill_metadata(m, n.seq, n.op, n.address, n.iccid);
  }
  return encode(r);
}

Bytes Euicc::Impl::retrieve_notifications(ByteView request) {
  auto req = RSP_ASN1_DECODE(RetrieveNotificationsListRequest, request);
  auto r = RSP_ASN1_MAKE(RetrieveNotificationsListResponse);
  r->present = RetrieveNotificationsListResponse_PR_notificationList;
  for (const auto& n : state.notifications) {
    if (req->searchCriteria) {
      const auto& sc = *req->searchCriteria;
      if (sc.present == RetrieveNotificationsListRequest__searchCriteria_PR_seqNumber &&
          asn1::to_int64(sc.choice.seqNumber) != n.seq)
        continue;
      if (sc.present == RetrieveNotificationsListRequest__searchCriteria_PR_profileManagementOperation &&
          !asn1::test_bit(sc.choice.profileManagementOperation, op_bit(n.op)))
        continue;
    }
    auto pn = RSP_ASN1_DECODE(PendingNotification, n.pending_der);
    asn1::add_owned(r->choice.notificationList.list, pn.release(), asn_DEF_PendingNotification);
  }
  // SGP.22 v2.2.2 has no "noResultAvailable" (a later version's code): a search
  // that matches nothing answers an empty notificationList.
  return encode(r);
}

Bytes Euicc::Impl::notification_sent(ByteView request) {
  auto req = RSP_ASN1_DECODE(NotificationSentRequest, request);
  long seq = static_cast<long>(asn1::to_int64(req->seqNumber));
  auto before = state.notifications.size();
  state.notifications.erase(std::remove_if(state.notifications.begin(), state.notifications.end(),
                                           [&](const Notification& n) { return n.seq == seq; }),
                            state.notifications.end());
  bool removed = state.notifications.size() != before;
  if (removed) save();
  auto r = RSP_ASN1_MAKE(NotificationSentResponse);
  set_int64(r->deleteNotificationStatus, removed ? 0 : 1);
  return encode(r);
}

// ---- ES10c: eUICC data and management ---------------------------------------------------

Bytes Euicc::Impl::get_eid(ByteView request) {
  auto req = RSP_ASN1_DECODE(GetEuiccDataRequest, request);
  if (asn1::view(req->tagList).size() != 1 || asn1::view(req->tagList)[0] != 0x5A)
    throw DecodeError("GetEuiccData: only tag 5A (EID) is supported");
  auto r = RSP_ASN1_MAKE(GetEuiccDataResponse);
  set(r->eidValue, eid);
  return encode(r);
}

Bytes Euicc::Impl::memory_reset(ByteView request) {
  auto req = RSP_ASN1_DECODE(EuiccMemoryResetRequest, request);
  bool del_operational = asn1::test_bit(req->resetOptions, 0);
  bool del_test = asn1::test_bit(req->resetOptions, 1);
  bool reset_dp = asn1::test_bit(req->resetOptions, 2);
  bool changed = false;
  auto before = state.profiles.size();
  state.profiles.erase(std::remove_if(state.profiles.begin(), state.profiles.end(),
                                      [&](const Profile& p) {
                                        return (del_operational && p.profile_class == 2) || (del_test && p.profile_class == 0);
                                      }),
                       state.profiles.end());
  changed = state.profiles.size() != before;
  if (reset_dp && state.default_dp_address) {
    state.default_dp_address.reset();
    changed = true;
  }
  if (changed) {
    uicc_refresh();
    save();
  }
  auto r = RSP_ASN1_MAKE(EuiccMemoryResetResponse);
  set_int64(r->resetResult, changed ? 0 : 1);
  return encode(r);
}

Bytes Euicc::Impl::configured_addresses(ByteView) {
  auto r = RSP_ASN1_MAKE(EuiccConfiguredAddressesResponse);
  if (state.default_dp_address && !state.default_dp_address->empty())
    r->defaultDpAddress = asn1::new_octet_string(std::string_view(*state.default_dp_address));
  set(r->rootDsAddress, std::string_view(cfg.root_ds_address));
  return encode(r);
}

Bytes Euicc::Impl::set_default_dp(ByteView request) {
  auto req = RSP_ASN1_DECODE(SetDefaultDpAddressRequest, request);
  std::string addr = asn1::to_string(req->defaultDpAddress);
  if (addr.empty()) state.default_dp_address.reset();
  else state.default_dp_address = addr;
  save();
  auto r = RSP_ASN1_MAKE(SetDefaultDpAddressResponse);
  set_int64(r->setDefaultDpAddressResult, 0);
  return encode(r);
}

Bytes Euicc::Impl::get_rat(ByteView) {
  auto r = RSP_ASN1_MAKE(GetRatResponse);
  if (!state.rat_der.empty()) asn1::move_into(r->rat, RSP_ASN1_DECODE(RulesAuthorisationTable, state.rat_der));
  return encode(r);
}

}  // namespace rsp::sim
