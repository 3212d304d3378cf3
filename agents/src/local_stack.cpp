#include "rsp/agents/local_stack.hpp"

#include <fstream>

#include "rsp/sim/usim_authenticate.hpp"
#include "rsp/smdp/batch_import.hpp"
#include "rsp/smdp/profile_generator.hpp"

namespace rsp::agents {

namespace fs = std::filesystem;


LocalStack::LocalStack(LocalStackOptions o) : o_(std::move(o)) {
  fs::create_directories(o_.dir);
  certs::PkiOptions po;
  po.dp_host = "localhost";
  pki_ = certs::generate_pki(po);
  tls_ca_pem_ = (o_.dir / "tls-ca.pem").string();
  std::ofstream(tls_ca_pem_) << certs::to_pem(pki_.ci.der);

  // The visited operator's HandleDownloadProgressInfo endpoint (HTTPS; on one
  // machine it can present the host's "localhost" certificate).
  http::ServerTlsConfig etls;
  etls.certificate_chain = pki_.dp_tls.der;
  etls.private_key = SecretBytes(to_bytes(pki_.dp_tls.key.private_pem()));
  progress_endpoint_ = std::make_unique<ProgressEndpoint>(etls, progress_inbox_);
  progress_endpoint_->start();

  auto ca = certs::issue_operator_ca("Operators CA");
  auto op = certs::issue_operator_certificate(ca, o_.visited_operator);
  smdp::Config c = smdp::config_from_pki(pki_, "localhost:" + std::to_string(http::free_loopback_port()),
                                         (o_.dir / "smdp.db").string());
  c.es2plus_port = http::free_loopback_port();
  c.operator_ca = ca.der;
  c.operators = {{o_.visited_operator, op.der, progress_endpoint_->url()}};
  c.operator_endpoint_ca_file = tls_ca_pem_;
  smdp_ = std::make_unique<smdp::Server>(c);
  smdp_->start();

  sim::EuiccConfig ec;
  ec.euicc_cert_der = pki_.euicc.der;
  ec.euicc_key = to_bytes(pki_.euicc.key.private_pem());
  ec.eum_cert_der = pki_.eum.der;
  ec.ci_certs_der = {pki_.ci.der};
  euicc_ = std::make_unique<sim::Euicc>(ec);
  euicc_->set_uicc_command_hook(sim::make_usim_authenticate_hook());

  http::ClientConfig tls;
  tls.ca_file = tls_ca_pem_;
  tls.client_cert_pem = to_bytes(certs::to_pem(op.der));
  tls.client_key_pem = SecretBytes(to_bytes(op.key.private_pem()));
  es2_ = std::make_unique<Es2PlusClient>("https://localhost:" + std::to_string(smdp_->es2plus_port()), tls,
                                         o_.visited_operator);

  hss_db_ = std::make_unique<store::Db>((o_.dir / "hss.db").string());
  visited_agent_db_ = std::make_unique<store::Db>((o_.dir / "visited-agent.db").string());
  home_agent_db_ = std::make_unique<store::Db>((o_.dir / "home-agent.db").string());
  hss_ = std::make_unique<sim::Hss>(*hss_db_, crypto::random_bytes(32));

  // The visited operator's SIM vendor batch: fresh Ki/OPc per subscriber,
  // local IMSIs; the same values go into its HSS.
  std::vector<smdp::BatchRow> rows;
  for (int i = 0; i < o_.profiles; ++i) {
    smdp::BatchRow r;
    r.line = static_cast<std::size_t>(i) + 2;
    char iccid[24], imsi[24];
    std::snprintf(iccid, sizeof iccid, "893301%012d", i);
    std::snprintf(imsi, sizeof imsi, "%s%010d", o_.plmn.c_str(), 1000 + i);
    r.values.iccid = smdp::luhn_complete(iccid);
    r.values.imsi = imsi;
    r.values.ki = crypto::random_bytes(16);
    r.values.opc = crypto::random_bytes(16);
    hss_->provision(r.values.imsi, r.values.iccid, r.values.ki, r.values.opc);
    rows.push_back(r);
  }
  smdp::ImportOptions io{o_.visited_operator, o_.profile_type, "Visited Operator", "Roaming", true, {}};
  smdp::import_batch(smdp_->profiles(), o_.profile_template, rows, io);
}

LocalStack::~LocalStack() {
  if (smdp_) smdp_->stop();
  progress_endpoint_.reset();
}

ProtectedPackageSource LocalStack::packages() {
  return [this](const std::string& iccid) {
    auto p = smdp_->profiles().protected_package(iccid);
    if (!p) throw std::runtime_error("no protected package for ICCID " + iccid);
    return p->segments;
  };
}

lpa::DownloadOptions LocalStack::lpa_options() const {
  lpa::DownloadOptions opt;
  opt.es9.http.ca_file = tls_ca_pem_;
  return opt;
}

StoryParties LocalStack::parties(ledger::Market& issuer, ledger::Market& visited, ledger::Market& home) {
  return StoryParties{issuer,         visited,         home,   *es2_, packages(), o_.profile_type, *hss_, o_.plmn,
                      *euicc_,        eid(),           "310150123456789", lpa_options(), *visited_agent_db_,
                      *home_agent_db_, &progress_inbox_};
}

}  // namespace rsp::agents
