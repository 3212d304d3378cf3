// Just enough of an SM-DP+ to drive the simulated eUICC in tests: builds
// AuthenticateServerRequest, PrepareDownloadRequest and a BoundProfilePackage
// (SCP03t through rsp::scp03t), segmented as SGP.22 2.5.5 says.
#pragma once
#include <AuthenticateServerRequest.h>
#include <AuthenticateServerResponse.h>
#include <ConfigureISDPRequest.h>
#include <InitialiseSecureChannelRequest.h>
#include <PrepareDownloadRequest.h>
#include <PrepareDownloadResponse.h>
#include <ReplaceSessionKeysRequest.h>
#include <StoreMetadataRequest.h>
#include <NotificationConfigurationInformation.h>

#include "rsp/asn1.hpp"
#include "rsp/crypto.hpp"
#include "rsp/pki.hpp"
#include "rsp/scp03t.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim::test {

struct FakeSmdp {
  const certs::Pki& pki;
  Bytes transaction_id = crypto::random_bytes(16);
  Bytes server_challenge = crypto::random_bytes(16);
  std::string address = "smdp.example.com";
  Bytes euicc_signature1, smdp_signature2, euicc_otpk;

  explicit FakeSmdp(const certs::Pki& p) : pki(p) {}

  struct AuthOptions {
    const Bytes* dp_auth_der = nullptr;       // default pki.dp_auth.der
    const crypto::EcKey* dp_auth_key = nullptr;
    std::optional<Bytes> ci_pkid;             // default pki CI SKI
    bool tamper_signature = false;
  };

  Bytes authenticate_server(ByteView euicc_challenge, const AuthOptions& o) {
    auto req = RSP_ASN1_MAKE(AuthenticateServerRequest);
    asn1::set(req->serverSigned1.transactionId, transaction_id);
    asn1::set(req->serverSigned1.euiccChallenge, euicc_challenge);
    asn1::set(req->serverSigned1.serverAddress, std::string_view(address));
    asn1::set(req->serverSigned1.serverChallenge, server_challenge);
    Bytes ss1 = RSP_ASN1_ENCODE(ServerSigned1, &req->serverSigned1);
    const crypto::EcKey& key = o.dp_auth_key ? *o.dp_auth_key : pki.dp_auth.key;
    Bytes sig = key.sign(ss1);
    if (o.tamper_signature) sig[10] ^= 0x01;
    asn1::set(req->serverSignature1, sig);
    asn1::set(req->euiccCiPKIdToBeUsed, o.ci_pkid ? *o.ci_pkid : pki.ci.cert().subject_key_id);
    asn1::move_into(req->serverCertificate, RSP_ASN1_DECODE(Certificate, o.dp_auth_der ? *o.dp_auth_der : pki.dp_auth.der));
    req->ctxParams1.present = CtxParams1_PR_ctxParamsForCommonAuthentication;
    auto& cp = req->ctxParams1.choice.ctxParamsForCommonAuthentication;
    cp.matchingId = asn1::new_octet_string(std::string_view("TEST-MATCHING-ID"));
    asn1::set(cp.deviceInfo.tac, Bytes{0x35, 0x29, 0x06, 0x11});
    return req.encode_der();
  }
  Bytes authenticate_server(ByteView euicc_challenge) { return authenticate_server(euicc_challenge, AuthOptions{}); }

  // Keeps euiccSignature1 from an AuthenticateServerResponse (ok).
  void take_auth_response(ByteView der) {
    auto r = RSP_ASN1_DECODE(AuthenticateServerResponse, der);
    if (r->present != AuthenticateServerResponse_PR_authenticateResponseOk) throw std::runtime_error("auth failed");
    euicc_signature1 = asn1::to_bytes(r->choice.authenticateResponseOk.euiccSignature1);
  }

  Bytes prepare_download(bool tamper = false, std::optional<Bytes> tid = std::nullopt) {
    auto req = RSP_ASN1_MAKE(PrepareDownloadRequest);
    asn1::set(req->smdpSigned2.transactionId, tid ? *tid : transaction_id);
    req->smdpSigned2.ccRequiredFlag = 0;
    Bytes s2 = RSP_ASN1_ENCODE(SmdpSigned2, &req->smdpSigned2);
    smdp_signature2 = pki.dp_pb.key.sign(concat(s2, tlv::make(0x5F37, euicc_signature1)));
    Bytes sig = smdp_signature2;
    if (tamper) sig[5] ^= 0x80;
    asn1::set(req->smdpSignature2, sig);
    asn1::move_into(req->smdpCertificate, RSP_ASN1_DECODE(Certificate, pki.dp_pb.der));
    return req.encode_der();
  }

  // Keeps otPK.EUICC from a PrepareDownloadResponse (ok); checks euiccSignature2.
  bool take_prepare_response(ByteView der) {
    auto r = RSP_ASN1_DECODE(PrepareDownloadResponse, der);
    if (r->present != PrepareDownloadResponse_PR_downloadResponseOk) return false;
    auto& ok = r->choice.downloadResponseOk;
    euicc_otpk = asn1::to_bytes(ok.euiccSigned2.euiccOtpk);
    Bytes signed2 = RSP_ASN1_ENCODE(EUICCSigned2, &ok.euiccSigned2);
    return pki.euicc.cert().public_key().verify(concat(signed2, tlv::make(0x5F37, smdp_signature2)),
                                                asn1::view(ok.euiccSignature2));
  }

  struct BppOptions {
    bool replace_session_keys = false;
    bool tamper_isc_signature = false;
    int tamper_segment = -1;  // index into the 86 segments
    std::size_t segment_plaintext = scp03t::kMaxSegmentPlaintext;  // more than 1,007: oversize segments
  };

  static Bytes store_metadata(const std::string& iccid, const std::string& spn, const std::string& name,
                              const std::string& notify_address) {
    return store_metadata(iccid_to_bcd(iccid), spn, name, notify_address);
  }
  static Bytes store_metadata(const Bytes& iccid_coded, const std::string& spn, const std::string& name,
                              const std::string& notify_address) {
    auto md = RSP_ASN1_MAKE(StoreMetadataRequest);
    asn1::set(md->iccid, iccid_coded);
    asn1::set(md->serviceProviderName, std::string_view(spn));
    asn1::set(md->profileName, std::string_view(name));
    md->profileClass = asn1::new_integer(2);
    md->notificationConfigurationInfo =
        asn1::alloc<StoreMetadataRequest::StoreMetadataRequest__notificationConfigurationInfo>();
    auto& nci = asn1::add(md->notificationConfigurationInfo->list);
    asn1::set_named_bits(nci.profileManagementOperation, {1, 2, 3});  // enable, disable, delete
    asn1::set(nci.notificationAddress, std::string_view(notify_address));
    return md.encode_der();
  }

  // The BPP as the list of STORE DATA payloads (SGP.22 2.5.5 segments).
  std::vector<Bytes> bound_profile_package(ByteView eid, ByteView store_metadata_der, ByteView profile_package,
                                           const BppOptions& o) {
    crypto::EcKey otsk = crypto::EcKey::generate(pki.curve);
    Bytes host_id = to_bytes("RSP-TEST-HOSTID");
    SecretBytes shs = otsk.ecdh(euicc_otpk);
    auto keys = scp03t::derive_session_keys(shs, host_id, eid);
    scp03t::Channel ch(keys.s_enc, keys.s_mac, keys.initial_mcv);

    auto isc = RSP_ASN1_MAKE(InitialiseSecureChannelRequest);
    asn1::set_int64(isc->remoteOpId, 1);
    asn1::set(isc->transactionId, transaction_id);
    asn1::set(isc->controlRefTemplate.keyType, Bytes{0x88});
    asn1::set(isc->controlRefTemplate.keyLen, Bytes{0x10});
    asn1::set(isc->controlRefTemplate.hostId, host_id);
    asn1::set(isc->smdpOtpk, otsk.public_point());
    asn1::set(isc->smdpSign, Bytes(64, 0));
    Bytes draft = isc.encode_der();
    Bytes signed_part;
    for (const auto& t : tlv::parse_all(tlv::parse_one(draft).value))
      if (t.tag != 0x5F37) append(signed_part, t.raw);
    append(signed_part, tlv::make(0x5F49, euicc_otpk));
    Bytes sign = pki.dp_pb.key.sign(signed_part);
    if (o.tamper_isc_signature) sign[0] ^= 0x01;
    asn1::set(isc->smdpSign, sign);
    Bytes isc_der = isc.encode_der();

    Bytes cfg87 = ch.wrap(0x87, Bytes{0xBF, 0x24, 0x00});
    Bytes md88 = ch.wrap(0x88, store_metadata_der, false);
    Bytes rsk87;
    std::optional<scp03t::Channel> ppk;
    if (o.replace_session_keys) {
      Bytes enc = crypto::random_bytes(16), mac = crypto::random_bytes(16), mcv = crypto::random_bytes(16);
      auto rsk = RSP_ASN1_MAKE(ReplaceSessionKeysRequest);
      asn1::set(rsk->initialMacChainingValue, mcv);
      asn1::set(rsk->ppkEnc, enc);
      asn1::set(rsk->ppkCmac, mac);
      rsk87 = ch.wrap(0x87, rsk.encode_der());
      ppk.emplace(enc, mac, mcv);
    }
    scp03t::Channel& pch = ppk ? *ppk : ch;
    std::vector<Bytes> seg86;
    for (std::size_t off = 0; off < profile_package.size(); off += o.segment_plaintext) {
      std::size_t n = std::min(o.segment_plaintext, profile_package.size() - off);
      seg86.push_back(pch.wrap(0x86, profile_package.subspan(off, n)));
    }
    if (o.tamper_segment >= 0 && o.tamper_segment < static_cast<int>(seg86.size()))
      seg86[static_cast<std::size_t>(o.tamper_segment)][20] ^= 0x01;

    Bytes a0 = tlv::make(0xA0, cfg87), a1 = tlv::make(0xA1, md88), a2 = rsk87.empty() ? Bytes{} : tlv::make(0xA2, rsk87);
    Bytes all86;
    for (const auto& s : seg86) append(all86, s);
    Bytes a3 = tlv::make(0xA3, all86);
    Bytes body = concat(isc_der, a0, a1, a2, a3);
    Bytes bf36_header = tlv::make(0xBF36, body);
    bf36_header.resize(bf36_header.size() - body.size());

    std::vector<Bytes> segs;
    segs.push_back(concat(bf36_header, isc_der));
    segs.push_back(a0);  // A0 header together with its only 87
    Bytes a1_header(a1.begin(), a1.end() - static_cast<std::ptrdiff_t>(md88.size()));
    segs.push_back(a1_header);
    segs.push_back(md88);
    if (!a2.empty()) segs.push_back(a2);
    Bytes a3_header(a3.begin(), a3.end() - static_cast<std::ptrdiff_t>(all86.size()));
    segs.push_back(a3_header);
    for (auto& s : seg86) segs.push_back(s);
    return segs;
  }
};

}  // namespace rsp::sim::test
