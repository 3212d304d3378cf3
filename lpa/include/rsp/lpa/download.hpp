// The LPA's Profile Download and Installation (SGP.22 v2.2.2 section 3.1.3)
// and notification delivery (3.5), on top of Es10Client and Es9Client.
//
//   rsp::lpa::Es10Client euicc(transport);
//   auto ac = rsp::lpa::ActivationCode::parse("LPA:1$smdp.example.com$MATCHING-ID");
//   rsp::lpa::DownloadOptions opt;
//   opt.es9.http.ca_file = "ci-tls-root.pem";
//   auto result = rsp::lpa::download(euicc, ac, opt);
//   if (result.installation.success) ...
//
// Sequence: GetEuiccChallenge + GetEUICCInfo1 -> ES9+ initiateAuthentication
// -> ES10b AuthenticateServer (ctxParams1: matchingId = AC_Token, deviceInfo)
// -> ES9+ authenticateClient -> [confirmation code: hashCc =
// SHA-256(SHA-256(CC) || transactionId)] -> [user consent] -> ES10b
// PrepareDownload -> ES9+ getBoundProfilePackage -> ES10b
// LoadBoundProfilePackage -> ES9+ handleNotification(ProfileInstallationResult)
// -> ES10b NotificationSent.
//
// When the activation code carries an SM-DP+ OID, it must equal the OID in
// the serverCertificate (CERT.DPauth) of initiateAuthentication.
//
// A confirmation code refused with retries left (8.2.7/3.8) is asked for
// again in the same session (see DownloadOptions); exhausted retries
// (8.2.7/6.4 or 8.8.5/6.4) end it.
//
// Error handling: an error result from AuthenticateServer or PrepareDownload
// is still forwarded to the SM-DP+ (authenticateClient /
// getBoundProfilePackage carry the eUICC's error response), then the download
// fails. Once the eUICC holds a session (after AuthenticateServer) and before
// the BPP is loaded, any failure or refusal makes the LPA call ES10b
// CancelSession (endUserRejection, timeout, loadBppExecutionError or
// undefinedReason) and pass the signed response on with ES9+ cancelSession
// (best effort; failures there are logged).
#pragma once
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/activation_code.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/lpa/es9p.hpp"

namespace rsp::lpa {

// SGP.22 4.1 activation codes are shared with the SM-DP+ (common/).
using rsp::ActivationCode;
using rsp::ActivationCodeError;

// What the user is asked to confirm (from ES9+ authenticateClient).
struct ProfileOffer {
  std::string iccid;
  std::string service_provider_name;
  std::string profile_name;
  std::optional<int> profile_class;
  bool confirmation_code_required = false;
  // Profile Policy Rules (SGP.22 2.9): 1 = PPR1 (cannot be disabled),
  // 2 = PPR2 (cannot be deleted); the user should know before consenting.
  std::vector<int> policy_rules;
};

struct DownloadOptions {
  // Confirmation code, if the SM-DP+ requires one. When required and absent,
  // ask_confirmation_code is called; no code at all cancels the session
  // (endUserRejection). When the SM-DP+ refuses a code with retries left
  // (8.2.7/3.8), ask_confirmation_code (if set) is called again and
  // PrepareDownload + getBoundProfilePackage are repeated on the same
  // transactionId (SGP.22 3.1.3); without it, the download fails there.
  std::optional<std::string> confirmation_code;
  std::function<std::optional<std::string>()> ask_confirmation_code;
  // User consent on the profile offered; false cancels (endUserRejection).
  std::function<bool(const ProfileOffer&)> confirm;
  DeviceInfo device_info = DeviceInfo::plausible_default();
  // Overrides the AC_Token as matchingId (std::nullopt: use the AC's token).
  std::optional<std::string> matching_id;
  Es9Options es9;  // TLS trust (ca_file), timeouts, test hooks
  // After installation: deliver the ProfileInstallationResult (Install), all
  // pending notifications (All), or nothing (None).
  enum class Notifications { None, Install, All } notifications = Notifications::Install;
  std::function<void(std::string_view stage)> progress;  // called before each step
};

struct DownloadResult {
  std::string smdp_address;
  Bytes transaction_id;
  ProfileOffer offer;
  ProfileInstallationResult installation;  // success or the eUICC's error result
  bool notification_sent = false;          // PIR delivered and NotificationSent done
  std::string notification_error;          // why not, if it was attempted
};

// The download failed before the eUICC produced a ProfileInstallationResult.
struct DownloadError : std::runtime_error {
  DownloadError(const std::string& what, std::string at_stage) : std::runtime_error(what), stage(std::move(at_stage)) {}
  std::string stage;                                 // "initiateAuthentication", "PrepareDownload", ...
  std::optional<CancelSessionReason> cancelled;      // session cancelled with this reason
  std::exception_ptr cause;                          // Es9Error / Es10Error / ApduError / ...
};

// Runs the whole download. Returns when the eUICC produced a
// ProfileInstallationResult (check result.installation.success); throws
// DownloadError otherwise.
DownloadResult download(Es10Client& euicc, const ActivationCode& ac, const DownloadOptions& options = {});
DownloadResult download(apdu::Transport& transport, const ActivationCode& ac, const DownloadOptions& options = {},
                        ChannelOptions channel = {});

// hashCc = SHA-256(SHA-256(CC) || transactionId) (SGP.22 3.1.3 / 5.7.3).
Bytes hash_confirmation_code(std::string_view code, ByteView transaction_id);

// --- notifications (SGP.22 3.5) ------------------------------------------------

struct NotificationOptions {
  Es9Options es9;
  bool remove = true;                       // NotificationSent after a delivery
  std::optional<long long> only_seq_number;  // just this one
};

struct NotificationOutcome {
  NotificationMetadata metadata;
  bool delivered = false;
  bool removed = false;
  std::string error;
};

// ListNotification, then for each: RetrieveNotificationsList(seqNumber) ->
// ES9+ handleNotification to the notification's address -> NotificationSent
// (when options.remove). Failures are recorded per notification.
std::vector<NotificationOutcome> process_notifications(Es10Client& euicc, const NotificationOptions& options = {});

}  // namespace rsp::lpa
