// An operator's ES2+ client (SGP.22 5.3, JSON binding 6.5.2) over mutual TLS:
// what the visited operator's agent calls on its SM-DP+.
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "rsp/http_client.hpp"

namespace rsp::agents {

// A function answered with status Failed: the SGP.22 subject/reason codes.
struct Es2PlusError : std::runtime_error {
  Es2PlusError(std::string subject, std::string reason, const std::string& message)
      : std::runtime_error("ES2+ " + subject + "/" + reason + ": " + message),
        subject_code(std::move(subject)), reason_code(std::move(reason)) {}
  std::string subject_code, reason_code;
};

class Es2PlusClient {
 public:
  // `base_url`: "https://host:port" of the SM-DP+'s ES2+ listener; `tls`
  // carries the operator's client certificate and the SM-DP+ TLS CA.
  Es2PlusClient(std::string base_url, http::ClientConfig tls, std::string requester_id);

  // DownloadOrder (5.3.1): one profile of `profile_type`, linked to `eid`. Returns the ICCID.
  std::string download_order(const std::string& eid, const std::string& profile_type);
  struct Confirmed {
    std::string matching_id, smdp_address;
  };
  // ConfirmOrder (5.3.2) with releaseFlag true: the profile can be downloaded at once.
  Confirmed confirm_order(const std::string& iccid, const std::string& eid);
  // CancelOrder (5.3.3) with finalProfileStatusIndicator "Available".
  void cancel_order(const std::string& iccid, const std::string& eid);

 private:
  nlohmann::json call(const std::string& function, nlohmann::json body);
  std::string base_url_;
  http::Client client_;
  std::string requester_id_;
};

}  // namespace rsp::agents
