// ES10b.LoadBoundProfilePackage (SGP.22 5.7.6, ES8+ 5.5): the BPP arrives in
// the segments of SGP.22 2.5.5, each as its own STORE DATA sequence:
//   BF36 tag+length with the whole BF23 InitialiseSecureChannel,
//   A0 tag+length (optionally with its first 87), each 87 (ConfigureISDP),
//   A1 tag+length, each 88 (StoreMetadata),
//   [A2 tag+length (optionally with its 87), 87 (ReplaceSessionKeys)],
//   A3 tag+length, each 86 (profile elements).
// Every protected TLV is unwrapped with the one SCP03t implementation; the
// profile is installed only after the last 86 verified and decrypted.
#include "asn1_util.hpp"
#include "rsp/log.hpp"
#include "rsp/tlv.hpp"

#include <ConfigureISDPRequest.h>
#include <EUICCResponse.h>
#include <PEStatus.h>
#include <InitialiseSecureChannelRequest.h>
#include <ProfileInstallationResult.h>
#include <ReplaceSessionKeysRequest.h>
#include <StoreMetadataRequest.h>

namespace rsp::sim {
namespace {

constexpr const char* kLog = "euicc.bpp";

// BppCommandId and ErrorReason (SGP.22 5.7.6)
enum Cmd { kInitialiseSecureChannel = 0, kConfigureIsdp = 1, kStoreMetadata = 2, kReplaceSessionKeys = 4,
           kLoadProfileElements = 5 };
enum Reason { kIncorrectInputValues = 1, kInvalidSignature = 2, kInvalidTransactionId = 3, kUnsupportedCrtValues = 4,
              kUnsupportedRemoteOperationType = 5, kUnsupportedProfileClass = 6, kScp03tStructureError = 7,
              kScp03tSecurityError = 8, kIccidAlreadyExists = 9, kPeProcessingError = 12, kDataMismatch = 13,
              kPprNotAllowed = 15, kUnknownError = 127 };

// A BPP step failed: which command, and why.
struct BppError {
  int cmd, reason;
  std::string what;
};

// Tag and length of a TLV whose value may not be here yet (segment headers).
struct Header {
  std::uint32_t tag = 0;
  std::size_t header_len = 0, value_len = 0;
};

Header parse_header(ByteView in) {
  Header h;
  std::size_t i = 0;
  if (in.empty()) throw DecodeError("empty TLV header");
  h.tag = in[i++];
  if ((h.tag & 0x1F) == 0x1F) {
    do {
      if (i >= in.size() || i > 3) throw DecodeError("bad TLV tag");
      h.tag = h.tag << 8 | in[i];
    } while (in[i++] & 0x80);
  }
  if (i >= in.size()) throw DecodeError("TLV header truncated");
  std::uint8_t l = in[i++];
  if (l < 0x80) {
    h.value_len = l;
  } else {
    std::size_t n = l & 0x7F;
    if (n == 0 || n > 3 || i + n > in.size()) throw DecodeError("bad TLV length");
    for (std::size_t k = 0; k < n; ++k) h.value_len = h.value_len << 8 | in[i++];
  }
  h.header_len = i;
  return h;
}

Bytes isdp_aid(unsigned n) {
  Bytes aid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00};
  aid.push_back(static_cast<std::uint8_t>(n));
  aid.push_back(0x00);
  return aid;
}

}  // namespace

Bytes Euicc::Impl::make_pir(const Bytes& aid, bool ok, int cmd_id, int reason, long seq, const std::string& iccid) {
  auto pir = RSP_ASN1_MAKE(ProfileInstallationResult);
  auto& d = pir->profileInstallationResultData;
  asn1::set(d.transactionId, session.transaction_id);
  fill_metadata(d.notificationMetadata, seq, NotificationSummary::Op::Install, session.server_address, iccid);
  std::string oid = !session.smdp_oid_pb.empty() ? session.smdp_oid_pb : session.smdp_oid_auth;
  // Mandatory in SGP.22 v2.2.2 (5.5.3). Without a session (no CERT.DPauth or
  // CERT.DPpb seen) there is no SM-DP+ OID to give: 0.0 names none.
  asn1::set_oid(d.smdpOid, oid.empty() ? std::string("0.0") : oid);
  if (ok) {
    d.finalResult.present = ProfileInstallationResultData__finalResult_PR_successResult;
    asn1::set(d.finalResult.choice.successResult.aid, aid);
    // simaResponse: the profile package's EUICCResponse, one PEStatus ok(0).
    auto resp = RSP_ASN1_MAKE(EUICCResponse);
    asn1::set_int64(asn1::add(resp->peStatus.list).status, 0);
    asn1::set(d.finalResult.choice.successResult.simaResponse, resp.encode_der());
  } else {
    d.finalResult.present = ProfileInstallationResultData__finalResult_PR_errorResult;
    asn1::set_int64(d.finalResult.choice.errorResult.bppCommandId, cmd_id);
    asn1::set_int64(d.finalResult.choice.errorResult.errorReason, reason);
  }
  Bytes signed_part = RSP_ASN1_ENCODE(ProfileInstallationResultData, &d);
  asn1::set(pir->euiccSignPIR, sign(signed_part));
  return pir.encode_der();
}

// Ends the download with an error result; the PIR is also kept as a pending
// notification when a session existed.
Bytes Euicc::Impl::bpp_fail(int cmd_id, int reason) {
  log::info(kLog, "BPP failed: bppCommandId " + std::to_string(cmd_id) + ", errorReason " + std::to_string(reason));
  std::string iccid;
  if (!session.store_metadata.empty()) {
    try {
      auto md = RSP_ASN1_DECODE(StoreMetadataRequest, session.store_metadata);
      iccid = iccid_digits(asn1::view(md->iccid));
    } catch (const std::exception&) {
    }
  }
  long seq = state.next_seq++;
  Bytes pir = make_pir({}, false, cmd_id, reason, seq, iccid);
  if (session.prepared) {
    state.notifications.push_back({seq, NotificationSummary::Op::Install, session.server_address, iccid, pir});
    save();
  }
  session = RspSession{};
  session.bpp = RspSession::Bpp::Done;
  return pir;
}

Bytes Euicc::Impl::bpp_segment(ByteView seg) {
  using B = RspSession::Bpp;
  int stage_cmd = kInitialiseSecureChannel;
  try {
    ByteView rest = seg;
    while (!rest.empty()) {
      switch (session.bpp) {
        case B::Idle:
        case B::Done: {
          Header h = parse_header(rest);
          if (h.tag != 0xBF36) throw BppError{kInitialiseSecureChannel, kScp03tStructureError, "expected BF36"};
          session.bpp_outer_remaining = h.value_len;
          rest = rest.subspan(h.header_len);
          auto isc = tlv::parse_one(rest);
          if (isc.tag != 0xBF23) throw DecodeError("BoundProfilePackage does not start with BF23");
          rest = rest.subspan(isc.raw.size());
          session.bpp_outer_remaining -= std::min(session.bpp_outer_remaining, isc.raw.size());

          auto req = RSP_ASN1_DECODE(InitialiseSecureChannelRequest, isc.raw);
          if (!session.prepared) {
            // No PrepareDownload before: answer with the BPP's own transactionId.
            session = RspSession{};
            session.transaction_id = asn1::to_bytes(req->transactionId);
            throw BppError{kInitialiseSecureChannel, kInvalidTransactionId, "no PrepareDownload in this session"};
          }
          if (asn1::to_int64(req->remoteOpId) != 1)
            throw BppError{kInitialiseSecureChannel, kUnsupportedRemoteOperationType, "remoteOpId"};
          if (asn1::to_bytes(req->transactionId) != session.transaction_id)
            throw BppError{kInitialiseSecureChannel, kInvalidTransactionId, "transactionId"};
          const auto& crt = req->controlRefTemplate;
          if (asn1::to_bytes(crt.keyType) != Bytes{0x88} || asn1::to_bytes(crt.keyLen) != Bytes{0x10})
            throw BppError{kInitialiseSecureChannel, kUnsupportedCrtValues, "controlRefTemplate"};
          // smdpSign covers the data objects before it (remoteOpId ..
          // smdpOtpk, as received) followed by 5F49 || L || otPK.EUICC.ECKA.
          auto objs = tlv::parse_all(isc.value);
          Bytes signed_part;
          for (const auto& o : objs)
            if (o.tag != 0x5F37) append(signed_part, o.raw);
          append(signed_part, tlv::make(0x5F49, session.euicc_otpk));
          ByteView smdp_sign = asn1::view(req->smdpSign);
          if (smdp_sign.size() != 64 || !session.dppb_key->verify(signed_part, smdp_sign))
            throw BppError{kInitialiseSecureChannel, kInvalidSignature, "smdpSign"};
          SecretBytes shs = session.otsk->ecdh(asn1::view(req->smdpOtpk));
          auto keys = scp03t::derive_session_keys(shs, asn1::view(crt.hostId), eid);
          session.channel = std::make_unique<scp03t::Channel>(keys.s_enc, keys.s_mac, keys.initial_mcv);
          session.otsk.reset();  // one-time key: gone after use
          session.bpp = B::SecureChannel;
          log::debug(kLog, "InitialiseSecureChannel verified");
          break;
        }
        case B::SecureChannel: {
          stage_cmd = kConfigureIsdp;
          Header h = parse_header(rest);
          if (h.tag != 0xA0) throw BppError{kConfigureIsdp, kScp03tStructureError, "expected A0"};
          session.remaining_in_sequence = h.value_len;
          rest = rest.subspan(h.header_len);
          session.bpp = B::Configure;
          break;
        }
        case B::Configure:
        case B::Metadata:
        case B::Replace:
        case B::Profile: {
          B st = session.bpp;
          stage_cmd = st == B::Configure ? kConfigureIsdp : st == B::Metadata ? kStoreMetadata
                      : st == B::Replace ? kReplaceSessionKeys : kLoadProfileElements;
          if (session.remaining_in_sequence == 0) {
            // The sequence is complete: the next container header follows.
            Header h = parse_header(rest);
            if (st == B::Configure && h.tag == 0xA1) {
              RSP_ASN1_DECODE(ConfigureISDPRequest, session.configure_isdp);  // must decode
              session.bpp = B::Metadata;
            } else if (st == B::Metadata && (h.tag == 0xA2 || h.tag == 0xA3)) {
              auto md = RSP_ASN1_DECODE(StoreMetadataRequest, session.store_metadata);
              if (find_profile(asn1::view(md->iccid), {}))
                throw BppError{kStoreMetadata, kIccidAlreadyExists, "ICCID already installed"};
              if (md->profileClass) {
                auto pc = asn1::to_int64(*md->profileClass);
                if (pc < 0 || pc > 2) throw BppError{kStoreMetadata, kUnsupportedProfileClass, "profileClass"};
              }
              // SGP.22 2.9.2: PPRs the Rules Authorisation Table does not
              // allow for the profile owner refuse the installation.
              if (auto why = ppr_refusal(session.store_metadata)) throw BppError{kStoreMetadata, kPprNotAllowed, *why};
              session.bpp = h.tag == 0xA2 ? B::Replace : B::Profile;
            } else if (st == B::Replace && h.tag == 0xA3) {
              if (session.replace_keys.empty()) throw BppError{kReplaceSessionKeys, kScp03tStructureError, "empty A2"};
              session.bpp = B::Profile;
            } else {
              throw BppError{stage_cmd, kScp03tStructureError, "unexpected tag " + to_hex(tlv::encode_tag(h.tag))};
            }
            session.remaining_in_sequence = h.value_len;
            rest = rest.subspan(h.header_len);
            break;
          }
          auto t = tlv::parse_one(rest);
          if (t.raw.size() > session.remaining_in_sequence)
            throw BppError{stage_cmd, kScp03tStructureError, "TLV overruns its sequence"};
          std::uint32_t want = st == B::Metadata ? 0x88 : st == B::Profile ? 0x86 : 0x87;
          if (t.tag != want) throw BppError{stage_cmd, kScp03tStructureError, "unexpected tag " + to_hex(tlv::encode_tag(t.tag))};
          // SGP.22 2.5.5: a segment is at most 1,020 bytes with tag, length and MAC.
          if (t.raw.size() > scp03t::kMaxSegmentSize)
            throw BppError{stage_cmd, kScp03tStructureError,
                           "segment of " + std::to_string(t.raw.size()) + " bytes (at most 1,020)"};
          Bytes plain;
          try {
            plain = session.channel->unwrap(t.raw, want != 0x88);
          } catch (const scp03t::MacError& e) {
            throw BppError{stage_cmd, kScp03tSecurityError, e.what()};
          }
          rest = rest.subspan(t.raw.size());
          session.remaining_in_sequence -= t.raw.size();
          if (st == B::Configure) append(session.configure_isdp, plain);
          else if (st == B::Metadata) append(session.store_metadata, plain);
          else if (st == B::Replace) {
            append(session.replace_keys, plain);
            auto rsk = RSP_ASN1_DECODE(ReplaceSessionKeysRequest, session.replace_keys);
            ByteView enc = asn1::view(rsk->ppkEnc), mac = asn1::view(rsk->ppkCmac), mcv = asn1::view(rsk->initialMacChainingValue);
            if (enc.size() != 16 || mac.size() != 16 || mcv.size() != 16)
              throw BppError{kReplaceSessionKeys, kIncorrectInputValues, "key lengths"};
            session.channel = std::make_unique<scp03t::Channel>(enc, mac, mcv);
            session.bpp = B::ReplaceDone;
          } else {
            append(session.profile_plain, plain);
            if (session.remaining_in_sequence == 0) return bpp_finish();
          }
          break;
        }
        case B::ReplaceDone: {
          stage_cmd = kReplaceSessionKeys;
          if (session.remaining_in_sequence != 0) throw BppError{kReplaceSessionKeys, kScp03tStructureError, "more than one 87 in A2"};
          Header h = parse_header(rest);
          if (h.tag != 0xA3) throw BppError{kReplaceSessionKeys, kScp03tStructureError, "expected A3"};
          session.remaining_in_sequence = h.value_len;
          rest = rest.subspan(h.header_len);
          session.bpp = B::Profile;
          break;
        }
      }
    }
    return {};
  } catch (const BppError& e) {
    log::warn(kLog, "BPP rejected: " + e.what);
    return bpp_fail(e.cmd, e.reason);
  } catch (const DecodeError& e) {
    log::warn(kLog, std::string("BPP does not decode: ") + e.what());
    if (session.bpp == RspSession::Bpp::Idle || session.bpp == RspSession::Bpp::Done) throw;  // not a BPP at all: 6A80
    return bpp_fail(stage_cmd, session.bpp == RspSession::Bpp::Profile ? kPeProcessingError : kScp03tStructureError);
  }
}

Bytes Euicc::Impl::bpp_finish() {
  Profile p;
  try {
    auto md = RSP_ASN1_DECODE(StoreMetadataRequest, session.store_metadata);
    p.iccid = iccid_digits(asn1::view(md->iccid));
    p.service_provider_name = asn1::to_string(md->serviceProviderName);
    p.profile_name = asn1::to_string(md->profileName);
    p.profile_class = md->profileClass ? static_cast<int>(asn1::to_int64(*md->profileClass)) : 2;
    p.store_metadata_der = session.store_metadata;
    auto cfg_isdp = tlv::parse_one(session.configure_isdp);
    if (auto b8 = tlv::find(cfg_isdp.value, 0xB8)) p.dp_proprietary_der.assign(b8->raw.begin(), b8->raw.end());
  } catch (const DecodeError& e) {
    log::warn(kLog, std::string("StoreMetadata does not decode: ") + e.what());
    return bpp_fail(kStoreMetadata, kIncorrectInputValues);
  }
  try {
    Bytes metadata_iccid = iccid_bcd(p.iccid);
    Bytes header_iccid = install_profile_package(session.profile_plain, p);
    // The header's iccid is meant to be coded as EF.ICCID; the TS.48 test
    // profiles carry it unswapped, so either coding is accepted.
    Bytes swapped = header_iccid;
    for (auto& b : swapped) b = static_cast<std::uint8_t>(b << 4 | b >> 4);
    if (header_iccid != metadata_iccid && swapped != metadata_iccid) {
      log::warn(kLog, "ProfileHeader ICCID " + to_hex(header_iccid) + " differs from StoreMetadata ICCID " + to_hex(metadata_iccid));
      return bpp_fail(kLoadProfileElements, kDataMismatch);
    }
  } catch (const std::exception& e) {
    log::warn(kLog, std::string("profile package rejected: ") + e.what());
    return bpp_fail(kLoadProfileElements, kPeProcessingError);
  }
  p.isdp_aid = isdp_aid(state.next_isdp++);
  p.enabled = false;
  p.smdp_address = session.server_address;
  long seq = state.next_seq++;
  Bytes pir = make_pir(p.isdp_aid, true, 0, 0, seq, p.iccid);
  state.notifications.push_back({seq, NotificationSummary::Op::Install, session.server_address, p.iccid, pir});
  log::info(kLog, "installed profile " + p.iccid + " (" + std::to_string(p.image ? p.image->fs.adfs.size() : 0) + " applications)");
  state.profiles.push_back(std::move(p));
  save();
  session = RspSession{};
  session.bpp = RspSession::Bpp::Done;
  return pir;
}

}  // namespace rsp::sim
