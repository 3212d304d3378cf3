// The provisioning side of the marketplace on one machine, as the main job and
// the end-to-end tests run it: the visited operator's SM-DP+ (real HTTPS on
// loopback: ES9+ for the LPA, ES2+ over mutual TLS for the operator) loaded
// with a batch of generated, PPK-protected profiles, its HSS holding the same
// Ki/OPc, and the subscriber's device (the eUICC simulator with a Milenage
// USIM). The markets are the caller's: the same stack runs on either ledger.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "rsp/agents/marketplace_story.hpp"
#include "rsp/agents/progress_endpoint.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/server.hpp"

namespace rsp::agents {

struct LocalStackOptions {
  std::filesystem::path dir;          // scratch folder (created)
  Bytes profile_template;             // an unprotected profile package to personalise (e.g. a TS.48 profile)
  std::string visited_operator = "VISITED-A";
  std::string plmn = "20801";
  std::string profile_type = "roaming-eu";
  int profiles = 3;                   // subscribers in the SIM vendor batch
};

class LocalStack {
 public:
  explicit LocalStack(LocalStackOptions o);
  ~LocalStack();

  // The story's parties with the given markets.
  StoryParties parties(ledger::Market& issuer, ledger::Market& visited, ledger::Market& home);

  smdp::Server& smdp() { return *smdp_; }
  sim::Euicc& euicc() { return *euicc_; }
  sim::Hss& hss() { return *hss_; }
  Es2PlusClient& es2() { return *es2_; }
  ProtectedPackageSource packages();
  std::string eid() const { return euicc_->eid_hex(); }
  const LocalStackOptions& options() const { return o_; }
  lpa::DownloadOptions lpa_options() const;
  store::Db& visited_agent_db() { return *visited_agent_db_; }
  store::Db& home_agent_db() { return *home_agent_db_; }
  ProgressInbox& progress() { return progress_inbox_; }

 private:
  LocalStackOptions o_;
  certs::Pki pki_;
  std::string tls_ca_pem_;
  std::unique_ptr<smdp::Server> smdp_;
  std::unique_ptr<sim::Euicc> euicc_;
  std::unique_ptr<Es2PlusClient> es2_;
  std::unique_ptr<store::Db> hss_db_, visited_agent_db_, home_agent_db_;
  std::unique_ptr<sim::Hss> hss_;
  ProgressInbox progress_inbox_;
  std::unique_ptr<ProgressEndpoint> progress_endpoint_;
};

}  // namespace rsp::agents
