#include "rsp/lpa/es9p.hpp"

#include <nlohmann/json.hpp>

#include "rsp/asn1.hpp"
#include "rsp/json.hpp"
#include "rsp/log.hpp"

#include <ServerSigned1.h>
#include <SmdpSigned2.h>
#include <StoreMetadataRequest.h>

namespace rsp::lpa {
namespace {

using json = nlohmann::json;

constexpr int kCurlTimeout = 28;  // CURLE_OPERATION_TIMEDOUT

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

[[noreturn]] void fail(const std::string& fn, const std::string& why) { throw Es9Error("ES9+ " + fn + ": " + why, fn); }

const json& member(const std::string& fn, const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) fail(fn, std::string("response has no string '") + name + "'");
  return *it;
}

Bytes b64_member(const std::string& fn, const json& obj, const char* name) {
  try {
    return from_base64(member(fn, obj, name).get<std::string>());
  } catch (const DecodeError& e) {
    fail(fn, std::string("'") + name + "' is not base64: " + e.what());
  }
}

Bytes tid_member(const std::string& fn, const json& obj) {
  try {
    return transaction_id_from_json(member(fn, obj, "transactionId").get<std::string>());
  } catch (const DecodeError& e) {
    fail(fn, std::string("bad transactionId: ") + e.what());
  }
}

void check_tid(const std::string& fn, ByteView expected, ByteView got, const char* where) {
  if (!std::equal(expected.begin(), expected.end(), got.begin(), got.end()))
    fail(fn, std::string("transactionId mismatch (") + where + "): expected " + to_hex(expected, true) + ", got " +
                 to_hex(got, true));
}

}  // namespace

std::string transaction_id_to_json(ByteView id) { return to_hex(id, true); }

Bytes transaction_id_from_json(const std::string& hex) {
  Bytes b = from_hex(hex);
  if (b.empty() || b.size() > 16) throw DecodeError("transactionId must be 1..16 bytes");
  return b;
}

Es9Client::Es9Client(std::string smdp_address, Es9Options options)
    : address_(std::move(smdp_address)), options_(std::move(options)) {
  if (!options_.post) {
    http::ClientConfig cfg = options_.http;
    cfg.user_agent = options_.user_agent;
    if (options_.insecure) {
      cfg.verify_peer = false;
      cfg.verify_host = false;
      log::warn("lpa.es9", "TLS certificate verification is OFF (--insecure)");
    }
    client_ = std::make_unique<http::Client>(std::move(cfg));
  }
}

Es9Client::~Es9Client() = default;
Es9Client::Es9Client(Es9Client&&) noexcept = default;
Es9Client& Es9Client::operator=(Es9Client&&) noexcept = default;

std::string Es9Client::url(const std::string& function) const {
  return options_.scheme + "://" + address_ + "/gsma/rsp2/es9plus/" + function;
}

std::string Es9Client::call(const std::string& fn, const std::string& body, bool expect_body) {
  http::Headers headers;
  headers.set("X-Admin-Protocol", options_.admin_protocol);
  headers.set("Content-Type", "application/json");
  headers.set("User-Agent", options_.user_agent);
  const std::string target = url(fn);
  log::debug("lpa.es9", "POST " + target + " " + std::to_string(body.size()) + " bytes");

  http::Response rsp;
  try {
    rsp = options_.post ? options_.post(target, headers, body) : client_->post(target, body, headers);
  } catch (const http::HttpError& e) {
    Es9Error err("ES9+ " + fn + ": " + e.what(), fn);
    err.transport = true;
    err.timeout = e.curl_code == kCurlTimeout;
    throw err;
  }
  log::debug("lpa.es9", fn + " -> HTTP " + std::to_string(rsp.status) + " " + std::to_string(rsp.body.size()) + " bytes");

  if (rsp.status == 204) {
    if (expect_body) fail(fn, "HTTP 204 without the expected response body");
    return "{}";
  }
  if (rsp.status != 200) {
    Es9Error err("ES9+ " + fn + ": HTTP status " + std::to_string(rsp.status), fn);
    err.http_status = rsp.status;
    throw err;
  }
  if (rsp.body.empty()) {
    if (expect_body) fail(fn, "empty response body");
    return "{}";
  }
  json j;
  try {
    // The largest ES9+ response carries a BoundProfilePackage (SGP.22 6.5.2.3),
    // some hundreds of KiB in base64; the deepest nesting is the header's
    // statusCodeData (3 levels).
    j = parse_json(rsp.body, JsonLimits{4 * 1024 * 1024, 8, 1000, 4 * 1024 * 1024});
  } catch (const JsonError& e) {
    fail(fn, std::string("response is not JSON: ") + e.what());
  }
  if (!j.is_object()) fail(fn, "response is not a JSON object");
  auto hdr = j.find("header");
  if (hdr == j.end() || !hdr->is_object()) fail(fn, "response has no header");
  auto fes = hdr->find("functionExecutionStatus");
  if (fes == hdr->end() || !fes->is_object()) fail(fn, "response header has no functionExecutionStatus");
  std::string status = fes->value("status", "");
  if (status == "Executed-Success" || status == "Executed-WithWarning") return j.dump();

  std::string subject_code, reason_code, subject_identifier, message;
  if (auto scd = fes->find("statusCodeData"); scd != fes->end() && scd->is_object()) {
    subject_code = scd->value("subjectCode", "");
    reason_code = scd->value("reasonCode", "");
    subject_identifier = scd->value("subjectIdentifier", "");
    message = scd->value("message", "");
  }
  if (status.empty()) status = "(none)";
  std::string what = "ES9+ " + fn + ": " + status;
  if (!subject_code.empty() || !reason_code.empty())
    what += " (subjectCode " + subject_code + ", reasonCode " + reason_code + ")";
  if (!message.empty()) what += ": " + message;
  // The eligibility refusals of SGP.22 5.6.3, named when the SM-DP+ sends
  // no message of its own.
  else if (subject_code == "8.2.5" && reason_code == "4.3") what += ": no eligible profile for this eUICC/device";
  else if (subject_code == "8.1" && reason_code == "4.8") what += ": the eUICC does not have sufficient space for this profile";
  Es9Error err(what, fn);
  err.status = status;
  err.subject_code = subject_code;
  err.reason_code = reason_code;
  err.subject_identifier = subject_identifier;
  err.message = message;
  throw err;
}

InitiateAuthenticationResponse Es9Client::initiate_authentication(ByteView euicc_challenge, ByteView euicc_info1) {
  const std::string fn = "initiateAuthentication";
  json req = {{"euiccChallenge", to_base64(euicc_challenge)},
              {"euiccInfo1", to_base64(euicc_info1)},
              {"smdpAddress", address_}};
  json j = json::parse(call(fn, req.dump()));
  InitiateAuthenticationResponse out;
  out.transaction_id = tid_member(fn, j);
  out.server_signed1 = b64_member(fn, j, "serverSigned1");
  out.server_signature1 = b64_member(fn, j, "serverSignature1");
  out.euicc_ci_pkid_to_be_used = b64_member(fn, j, "euiccCiPKIdToBeUsed");
  out.server_certificate = b64_member(fn, j, "serverCertificate");
  try {
    auto s1 = RSP_ASN1_DECODE(ServerSigned1, out.server_signed1);
    out.server_address = asn1::to_string(s1->serverAddress);
    out.euicc_challenge = asn1::to_bytes(s1->euiccChallenge);
    out.server_challenge = asn1::to_bytes(s1->serverChallenge);
    check_tid(fn, out.transaction_id, asn1::view(s1->transactionId), "serverSigned1");
  } catch (const DecodeError& e) {
    fail(fn, std::string("serverSigned1 does not decode: ") + e.what());
  }
  if (lower(out.server_address) != lower(address_))
    fail(fn, "serverAddress '" + out.server_address + "' differs from the SM-DP+ address used '" + address_ + "'");
  if (!std::equal(euicc_challenge.begin(), euicc_challenge.end(), out.euicc_challenge.begin(), out.euicc_challenge.end()))
    fail(fn, "euiccChallenge in serverSigned1 differs from the one sent");
  return out;
}

AuthenticateClientResponse Es9Client::authenticate_client(ByteView transaction_id, ByteView authenticate_server_response) {
  const std::string fn = "authenticateClient";
  json req = {{"transactionId", transaction_id_to_json(transaction_id)},
              {"authenticateServerResponse", to_base64(authenticate_server_response)}};
  json j = json::parse(call(fn, req.dump()));
  AuthenticateClientResponse out;
  out.transaction_id = tid_member(fn, j);
  check_tid(fn, transaction_id, out.transaction_id, "response");
  out.profile_metadata = b64_member(fn, j, "profileMetadata");
  out.smdp_signed2 = b64_member(fn, j, "smdpSigned2");
  out.smdp_signature2 = b64_member(fn, j, "smdpSignature2");
  out.smdp_certificate = b64_member(fn, j, "smdpCertificate");
  try {
    auto s2 = RSP_ASN1_DECODE(SmdpSigned2, out.smdp_signed2);
    check_tid(fn, transaction_id, asn1::view(s2->transactionId), "smdpSigned2");
    out.cc_required = s2->ccRequiredFlag != 0;
  } catch (const DecodeError& e) {
    fail(fn, std::string("smdpSigned2 does not decode: ") + e.what());
  }
  try {
    auto md = RSP_ASN1_DECODE(StoreMetadataRequest, out.profile_metadata);
    out.iccid = iccid_from_bcd(asn1::view(md->iccid));
    out.service_provider_name = asn1::to_string(md->serviceProviderName);
    out.profile_name = asn1::to_string(md->profileName);
    if (md->profileClass) out.profile_class = static_cast<int>(asn1::to_int64(*md->profileClass));
    if (md->profilePolicyRules)
      for (int bit = 0; bit <= 2; ++bit)
        if (asn1::test_bit(*md->profilePolicyRules, static_cast<std::size_t>(bit))) out.policy_rules.push_back(bit);
  } catch (const DecodeError& e) {
    fail(fn, std::string("profileMetadata does not decode: ") + e.what());
  }
  return out;
}

Bytes Es9Client::get_bound_profile_package(ByteView transaction_id, ByteView prepare_download_response) {
  const std::string fn = "getBoundProfilePackage";
  json req = {{"transactionId", transaction_id_to_json(transaction_id)},
              {"prepareDownloadResponse", to_base64(prepare_download_response)}};
  json j = json::parse(call(fn, req.dump()));
  check_tid(fn, transaction_id, tid_member(fn, j), "response");
  return b64_member(fn, j, "boundProfilePackage");
}

void Es9Client::handle_notification(ByteView pending_notification) {
  json req = {{"pendingNotification", to_base64(pending_notification)}};
  call("handleNotification", req.dump(), false);
}

void Es9Client::cancel_session(ByteView transaction_id, ByteView cancel_session_response) {
  json req = {{"transactionId", transaction_id_to_json(transaction_id)},
              {"cancelSessionResponse", to_base64(cancel_session_response)}};
  call("cancelSession", req.dump(), false);
}

}  // namespace rsp::lpa
