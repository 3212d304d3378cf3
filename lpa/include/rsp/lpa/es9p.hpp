// ES9+ client, LPA side (SGP.22 v2.2.2 sections 5.6 and 6.5/6.6): JSON over
// HTTPS POST to https://<SM-DP+ address>/gsma/rsp2/es9plus/<function> with
//   X-Admin-Protocol: gsma/rsp/v2.2.2
//   Content-Type: application/json
//   User-Agent: gsma-rsp-lpad
// Binary values are standard base64 (with padding) of DER; transactionId is
// the TransactionId as upper-case hex. A response whose
// header.functionExecutionStatus.status is "Failed" raises Es9Error with its
// statusCodeData. The server certificate is verified (against ca_file, or the
// system store) unless `insecure` is set explicitly.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/http_client.hpp"

namespace rsp::lpa {

// An ES9+ call failed: the SM-DP+ answered "Failed", or the exchange itself
// went wrong (HTTP status, malformed JSON, a check of the LPA failed).
struct Es9Error : std::runtime_error {
  Es9Error(const std::string& what, std::string fn) : std::runtime_error(what), function(std::move(fn)) {}
  std::string function;  // "initiateAuthentication", ...
  // From header.functionExecutionStatus.statusCodeData (when status is "Failed").
  std::string status;  // "Failed", "Executed-WithWarning", ...
  std::string subject_code, reason_code, subject_identifier, message;
  int http_status = 0;     // when the HTTP status was not the expected one
  bool transport = false;  // no HTTP response at all (connect, TLS, timeout)
  bool timeout = false;    // ... and it was a timeout
};

// POSTs `body` to `url`; returns the HTTP response. Replaceable for tests.
using HttpPost = std::function<http::Response(const std::string& url, const http::Headers& headers,
                                              const std::string& body)>;

struct Es9Options {
  http::ClientConfig http;  // ca_file, timeouts...; verify_peer/verify_host stay on
  bool insecure = false;    // turn off certificate verification (explicit opt-in only)
  std::string scheme = "https";
  std::string admin_protocol = "gsma/rsp/v2.2.2";
  std::string user_agent = "gsma-rsp-lpad";
  HttpPost post;  // when set, used instead of an rsp::http::Client
};

struct InitiateAuthenticationResponse {
  Bytes transaction_id;
  Bytes server_signed1;            // DER, as received
  Bytes server_signature1;         // 5F37 TLV, as received
  Bytes euicc_ci_pkid_to_be_used;  // as received (04 14 <SKI>)
  Bytes server_certificate;        // DER
  // Decoded from serverSigned1:
  std::string server_address;
  Bytes euicc_challenge;
  Bytes server_challenge;
};

struct AuthenticateClientResponse {
  Bytes transaction_id;
  Bytes profile_metadata;  // StoreMetadataRequest DER (BF25)
  Bytes smdp_signed2;      // DER
  Bytes smdp_signature2;   // 5F37 TLV
  Bytes smdp_certificate;  // DER
  // Decoded from smdpSigned2 / profileMetadata:
  bool cc_required = false;
  std::string iccid, service_provider_name, profile_name;
  std::optional<int> profile_class;
  std::vector<int> policy_rules;  // profilePolicyRules bits set (1 = PPR1, 2 = PPR2)
};

class Es9Client {
 public:
  // `smdp_address` as in the activation code (FQDN[:port]).
  Es9Client(std::string smdp_address, Es9Options options = {});
  ~Es9Client();
  Es9Client(Es9Client&&) noexcept;
  Es9Client& operator=(Es9Client&&) noexcept;

  const std::string& address() const { return address_; }
  std::string url(const std::string& function) const;

  // Checks (LPA side): serverAddress in serverSigned1 equals the address used
  // (case-insensitive), the JSON transactionId equals the one in serverSigned1,
  // euiccChallenge equals the one sent.
  InitiateAuthenticationResponse initiate_authentication(ByteView euicc_challenge, ByteView euicc_info1);
  // Checks that the transactionId (JSON and smdpSigned2) matches.
  AuthenticateClientResponse authenticate_client(ByteView transaction_id, ByteView authenticate_server_response);
  // Returns the BoundProfilePackage DER (BF36); checks the transactionId.
  Bytes get_bound_profile_package(ByteView transaction_id, ByteView prepare_download_response);
  void handle_notification(ByteView pending_notification);
  void cancel_session(ByteView transaction_id, ByteView cancel_session_response);

  // Raw call: POSTs a JSON object and returns the response JSON text ("{}"
  // for 204 / an empty body when !expect_body), after the
  // functionExecutionStatus check. Throws Es9Error.
  std::string call(const std::string& function, const std::string& json_body, bool expect_body = true);

 private:
  std::string address_;
  Es9Options options_;
  std::unique_ptr<http::Client> client_;
};

// Upper-case hex, as ES9+ carries transactionId.
std::string transaction_id_to_json(ByteView id);
Bytes transaction_id_from_json(const std::string& hex);  // throws DecodeError

}  // namespace rsp::lpa
