// ES9+ (SGP.22 5.6, JSON binding 6.5/6.6): the SM-DP+ side of the download,
// between the LPA and us. Each function takes the request JSON and returns the
// response JSON; FunctionError becomes a "Failed" functionExecutionStatus.
#pragma once
#include <ctime>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "rsp/certs.hpp"
#include "rsp/crypto.hpp"
#include "rsp/signer.hpp"
#include "rsp/smdp/config.hpp"
#include "rsp/smdp/es2plus.hpp"
#include "rsp/smdp/status.hpp"
#include "rsp/smdp/profile_store.hpp"

namespace rsp::smdp {

class Es9Plus {
 public:
  // Loads the configured CRLs and checks our own credentials first
  // (credential_check.hpp): throws std::runtime_error naming what is wrong.
  Es9Plus(const Config& config, ProfileStore& store);
  ~Es9Plus();

  nlohmann::json initiate_authentication(const nlohmann::json& req);
  nlohmann::json authenticate_client(const nlohmann::json& req);
  nlohmann::json get_bound_profile_package(const nlohmann::json& req);
  void handle_notification(const nlohmann::json& req);  // 204, no body
  nlohmann::json cancel_session(const nlohmann::json& req);

  // Download progress for the owning operator (ES2+.HandleDownloadProgressInfo).
  std::function<void(const ProgressEvent&)> on_progress;
  // A download ended: the eUICC's signed ProfileInstallationResult moved the
  // profile to Installed (true) or Error (false), once per profile and
  // outcome (metrics: smdp_downloads_total).
  std::function<void(bool installed)> on_install_result;

  // Test hook: the clock used for session expiry and certificate validity.
  void set_clock(std::function<std::time_t()> now) { now_ = std::move(now); }

 private:
  struct Credentials {
    certs::Certificate ci, dpauth, dppb;
    Bytes dpauth_der, dppb_der;
    std::shared_ptr<const crypto::Signer> dpauth_key, dppb_key;  // a file's key or a token's
  };
  // SGP.22 5.6.4 / 5.6.5: the smdpOid the eUICC signs is ours (the
  // subjectAltName registeredID of the session's CERT.DPauth or CERT.DPpb);
  // 8.8/3.10 otherwise.
  void check_smdp_oid(const Session& s, const std::string& smdp_oid) const;
  const Credentials& credentials(int index) const { return *creds_.at(static_cast<std::size_t>(index)); }
  std::vector<certs::Certificate> trusted_cis() const;
  certs::Certificate verify_euicc(const Session& s, ByteView euicc_der, ByteView eum_der);
  Session live_session(const std::string& transaction_id, const char* expected_state);
  void progress(const Profile& p, const std::string& eid, int point, bool ok, const FunctionError* error = nullptr,
                Bytes result = {});
  Bytes build_bpp(const Session& s, const Profile& p, ByteView euicc_otpk, ByteView euicc_signature2);

  // The ChainOptions of every eUICC chain check: the loaded CRLs and the
  // legacy switch for EUMs without nameConstraints.
  certs::ChainOptions chain_options() const;

  Config config_;
  ProfileStore& store_;
  certs::CrlSet crls_;  // SGP.22 4.6, loaded and verified at construction
  std::vector<std::unique_ptr<Credentials>> creds_;
  std::function<std::time_t()> now_;
};

}  // namespace rsp::smdp
