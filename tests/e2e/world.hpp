// A whole SGP.22 download world on loopback for end-to-end tests: a freshly
// generated test PKI, the SM-DP+ (real HTTPS) and an in-process eUICC.
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "rsp/crypto.hpp"
#include "rsp/http_server.hpp"
#include "rsp/pki.hpp"
#include "rsp/sim/euicc.hpp"
#include "rsp/smdp/profile_package.hpp"
#include "rsp/smdp/server.hpp"
#include "../common/pg_cluster.hpp"

namespace rsp::e2e {

namespace fs = std::filesystem;

using http::free_loopback_port;

inline fs::path testdata(const std::string& rel) { return fs::path(RSP_SHARED_TESTDATA) / rel; }

inline Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// Operators' ES2+ client certificates (certs::issue_operator_*), valid for a day.
inline certs::Issued make_operator_ca(const std::string& cn) { return certs::issue_operator_ca(cn); }
inline certs::Issued issue_operator_cert(const certs::Issued& ca, const std::string& cn) {
  return certs::issue_operator_certificate(ca, cn);
}

struct World {
  fs::path dir;
  certs::Pki pki;
  std::string address;  // "localhost:<port>"
  smdp::Config config;
  std::unique_ptr<smdp::Server> smdp;
  std::unique_ptr<sim::Euicc> euicc;
  std::string tls_ca_pem;  // trust anchor for the SM-DP+ TLS certificate

  explicit World(crypto::Curve curve, const std::string& name,
                 const std::function<void(World&, smdp::Config&)>& configure = {}) {
    dir = fs::temp_directory_path() / ("rsp-e2e-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    certs::PkiOptions po;
    po.curve = curve;
    po.dp_host = "localhost";
    pki = certs::generate_pki(po);
    certs::write_pki(pki, dir);

    address = "localhost:" + std::to_string(free_loopback_port());
    config = smdp::config_from_pki(pki, address, rsp::test::test_store((dir / "smdp.db").string()));
    smdp::Config& c = config;
    tls_ca_pem = (dir / "tls-ca.pem").string();
    if (configure) configure(*this, c);
    smdp = std::make_unique<smdp::Server>(c);
    smdp->start();
    tls_ca_pem = (dir / "tls-ca.pem").string();
    std::ofstream(tls_ca_pem) << certs::to_pem(pki.tls_ci ? pki.tls_ci->der : pki.ci.der);

    replace_euicc(pki.euicc.der, pki.euicc.key, pki.eum.der);
  }

  // Stops the SM-DP+ and starts a new one on the same store and port, as
  // after a crash or a deployment.
  void restart_smdp() {
    smdp->stop();
    smdp.reset();
    smdp = std::make_unique<smdp::Server>(config);
    smdp->start();
  }

  // A new eUICC (empty state) with the given identity; it trusts this
  // world's CI for verifying the SM-DP+.
  void replace_euicc(const Bytes& cert_der, const crypto::EcKey& key, const Bytes& eum_der) {
    euicc.reset();
    euicc = std::make_unique<sim::Euicc>(euicc_config(cert_der, key, eum_der));
  }
  sim::EuiccConfig euicc_config(const Bytes& cert_der, const crypto::EcKey& key, const Bytes& eum_der) const {
    sim::EuiccConfig ec;
    ec.euicc_cert_der = cert_der;
    ec.euicc_key = to_bytes(key.private_pem());
    ec.eum_cert_der = eum_der;
    ec.ci_certs_der = {pki.ci.der};
    return ec;
  }
  // A second eUICC from this world's EUM with its own EID (inside the EUM's
  // prefix): another device presenting the same activation code.
  std::unique_ptr<sim::Euicc> another_euicc(const std::string& eid) const {
    certs::CertSpec spec;
    spec.role = certs::Role::Euicc;
    spec.subject = "O=RSP Test EUM,serialNumber=" + eid + ",CN=RSP Test eUICC";
    spec.not_before = std::time(nullptr) - 3600;
    spec.not_after = std::time(nullptr) + 86400;
    auto key = crypto::EcKey::generate(pki.curve);
    auto eum = pki.eum.cert();
    Bytes der = certs::issue_certificate(spec, key, pki.eum.key, &eum);
    return std::make_unique<sim::Euicc>(euicc_config(der, key, pki.eum.der));
  }
  ~World() {
    euicc.reset();
    if (smdp) smdp->stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // Stages a profile package; returns its ICCID.
  std::string stage(ByteView upp, const std::string& matching_id, const std::string& cc = {},
                    const std::string& eid = {}, bool protect = false) {
    auto summary = smdp::inspect_upp(upp);
    smdp::Profile p;
    p.iccid = summary.iccid;
    p.matching_id = matching_id;
    p.eid = eid;
    p.state = smdp::ProfileState::Released;
    if (!cc.empty()) p.cc_hash = crypto::sha256(to_bytes(cc));
    p.service_provider_name = "Visited Operator";
    p.profile_name = "Roaming profile";
    smdp->profiles().stage(p, upp, protect);
    return p.iccid;
  }

  std::string activation_code(const std::string& matching_id) const { return "LPA:1$" + address + "$" + matching_id; }
};

}  // namespace rsp::e2e
