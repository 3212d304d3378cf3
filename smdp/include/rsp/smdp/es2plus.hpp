// ES2+ (SGP.22 5.3, JSON binding 6.5.2): the operator side of the SM-DP+.
// Operators are identified by their TLS client certificate (mutual TLS) and
// may only see and act on the profiles they own.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "rsp/smdp/config.hpp"
#include "rsp/smdp/profile_store.hpp"

namespace rsp::smdp {

// notificationPointId (SGP.22 5.3.5): 1-4 as SGP.22's table defines them.
// For the notifications the eUICC sends after installation the SM-DP+
// forwards, 5 = profile deleted, 101 = enabled, 102 = disabled, as public
// operator-side ES2+ APIs number them (not checked against SGP.22's text).
inline constexpr int kPointEligibility = 1, kPointConfirmationFailure = 2, kPointBppDownload = 3,
                     kPointBppInstallation = 4, kPointDeleted = 5, kPointEnabled = 101, kPointDisabled = 102;

// One ES2+.HandleDownloadProgressInfo to send to an operator (SGP.22 5.3.5).
struct ProgressEvent {
  std::string owner, iccid, eid, profile_type;
  // 1 eligibility and retry limit check, 2 confirmation failure, 3 BPP download, 4 BPP installation
  int notification_point_id = 0;
  bool success = true;
  std::string subject_code, reason_code, message;
  Bytes result_data;  // ProfileInstallationResult (point 4)
};

class Es2Plus {
 public:
  Es2Plus(const Config& config, ProfileStore& store);

  // `operator_id` is who the TLS client certificate says the caller is.
  nlohmann::json download_order(const std::string& operator_id, const nlohmann::json& req);
  nlohmann::json confirm_order(const std::string& operator_id, const nlohmann::json& req);
  nlohmann::json cancel_order(const std::string& operator_id, const nlohmann::json& req);
  nlohmann::json release_profile(const std::string& operator_id, const nlohmann::json& req);

  // Called when an order is cancelled (state change to report).
  std::function<void(const ProgressEvent&)> on_progress;

 private:
  Profile owned_profile(const std::string& operator_id, const nlohmann::json& req);
  Config config_;
  ProfileStore& store_;
};

}  // namespace rsp::smdp
