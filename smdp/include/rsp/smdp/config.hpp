// SM-DP+ configuration: addresses, credentials per curve, store, timings.
#pragma once
#include "rsp/pki.hpp"
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rsp/admin_listener.hpp"
#include "rsp/bytes.hpp"
#include "rsp/signer.hpp"

namespace rsp::smdp {

// One GSMA CI and the SM-DP+ certificates issued under it (SGP.22 4.5.2):
// the server picks the set whose CI the eUICC lists (euiccCiPKIdList...).
struct CredentialSet {
  Bytes ci_certificate;        // CERT.CI.ECDSA (DER)
  Bytes dpauth_certificate;    // CERT.DPauth.ECDSA (DER)
  std::string dpauth_key_pem;  // SK.DPauth.ECDSA
  Bytes dppb_certificate;      // CERT.DPpb.ECDSA (DER)
  std::string dppb_key_pem;    // SK.DPpb.ECDSA
  // Set instead of the *_key_pem when the key is in a PKCS#11 token
  // (`"dpauth_key": "pkcs11:..."`, smdp/token_keys.hpp).
  std::shared_ptr<const crypto::Signer> dpauth_signer, dppb_signer;
};

// An operator allowed on ES2+ (SGP.22 5.3): identified by its TLS client
// certificate, told about download progress at its notification URL.
struct OperatorConfig {
  std::string id;              // function requester identifier
  Bytes certificate;           // its client certificate (DER), pinned
  std::string notification_url;  // HandleDownloadProgressInfo endpoint ("" = none)
};

// What the HTTPS front accepts and keeps (docs/smdp.md, "Limits").
struct Limits {
  // Request bodies, per interface. The largest real ES9+ request, an
  // authenticateClient carrying CERT.EUICC and CERT.EUM, is about 2.3 KB
  // (measured by tests/smdp/server_limits_test.cpp); ES2+ orders are smaller.
  std::size_t es9plus_max_body_bytes = 16 * 1024;
  // The ES9+ functions that carry no certificate (initiateAuthentication,
  // getBoundProfilePackage, cancelSession: a few hundred bytes each) get
  // this smaller limit, capped by es9plus_max_body_bytes; the two that carry
  // CERT.EUICC and CERT.EUM (authenticateClient, handleNotification) get
  // es9plus_max_body_bytes. See es9plus_body_limit().
  std::size_t es9plus_small_body_bytes = 4 * 1024;
  // ES2+ requests carry identifiers only (EID, ICCID, profile type,
  // matching ID, confirmation code): the largest of pySim's is 267 bytes
  // (tests/interop/data/pysim-es2plus.json, PysimEs2Plus.RequestsFitTheBodyLimit).
  std::size_t es2plus_max_body_bytes = 4 * 1024;
  std::size_t max_connections = 2048;  // per listener
  int handshake_timeout_seconds = 10;
  int header_timeout_seconds = 10;     // request line and headers (and keep-alive idle)
  int read_timeout_seconds = 20;       // the whole request
  // initiateAuthentication (unauthenticated; costs a signature and a stored
  // session) per client address: a token bucket of `burst` refilled at
  // `per_second`; over it, HTTP 429. 0 = no limit.
  double initiate_authentication_per_second = 10;
  int initiate_authentication_burst = 50;
  // Ended or abandoned RSP sessions are deleted this long after they were
  // created (never before session_timeout_seconds), checked every
  // session_purge_interval_seconds.
  int session_retention_seconds = 3600;
  int session_purge_interval_seconds = 60;
};

// The body limit of one ES9+ path (SGP.22 6.5.2 functions, by the last
// segment of /gsma/rsp2/es9plus/<function>): what the HTTP front refuses
// with 413 before reading the body. Unknown paths get the small limit (they
// are answered 404 anyway).
std::size_t es9plus_body_limit(const Limits& limits, std::string_view path);

// The admin listener (docs/operations.md, "Health and metrics"): the
// listener otad has too (rsp/admin_listener.hpp); loopback only unless
// allow_remote says otherwise (check_admin_listen).
using AdminConfig = AdminListenerConfig;
using rsp::check_admin_listen;

// A CRL (SGP.22 4.6) as configured: where it came from (for messages) and its DER or PEM.
struct CrlSource {
  std::string name;
  Bytes der;
};

struct Config {
  // FQDN[:port] the LPA uses (activation codes, serverAddress); compared
  // case-insensitively (SGP.22 4.1).
  std::string address = "localhost";
  std::vector<CredentialSet> credentials;
  std::string db_path = "smdp.db";
  // HTTPS listener: CERT.DP.TLS chain and key (SGP.22 2.6.6).
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8443;
  std::size_t threads = 2;
  Bytes tls_certificate;  // PEM or DER
  SecretBytes tls_key;    // PEM; empty when the key is in a token:
  // SK.DP.TLS in a PKCS#11 token (tls.key an RFC 7512 URI): the server's
  // handshakes are signed there (http::ServerTlsConfig::key_signer).
  std::shared_ptr<const crypto::Signer> tls_signer;
  // The CI the TLS certificate chains to, when it is none of the
  // credential sets' CIs (a brainpool set's TLS certificate is P-256).
  Bytes tls_ci_certificate;
  // CRLs issued by the credential sets' CIs (SGP.22 4.6): verified at start
  // (refused if invalid); EUM certificates they revoke are refused in
  // authenticateClient, and our own credentials must not be among them.
  std::vector<CrlSource> crls;
  // SGP.22 4.5.2.1.0.2: an EUM without nameConstraints vouches for no EID.
  // True only for legacy test PKIs whose EUM certificate has none.
  bool allow_eum_without_name_constraints = false;
  // AES-256 key for profile packages at rest (they carry Ki/OPc).
  SecretBytes storage_key;
  // ES2+ listener (mutual TLS). Disabled when es2plus_port is 0.
  std::uint16_t es2plus_port = 0;
  Bytes operator_ca;                 // CA chain client certificates must verify against
  std::vector<OperatorConfig> operators;
  std::string operator_endpoint_ca_file;  // trust for operators' notification endpoints
  // Our client certificate and key (PEM or DER / PEM) for the ES2+ calls to
  // operators (HandleDownloadProgressInfo), which use mutual TLS like the
  // calls from them (SGP.22 2.6.6, 5.3). Empty: the TLS certificate and key.
  Bytes es2_client_certificate;
  SecretBytes es2_client_key;
  std::string functional_id = "smdp";    // our functionRequesterIdentifier towards operators
  int session_timeout_seconds = 300;   // an RSP session older than this is gone
  int max_cc_attempts = 3;             // SGP.22 3.1.3: confirmation code retries
  int max_download_attempts = 5;
  // An ES2+ order (DownloadOrder) not downloaded within this many seconds
  // lapses and its profile becomes available again; 0 = never.
  std::int64_t order_expiry_seconds = 30LL * 24 * 3600;
  // `smdpd stage` protects profiles once with profile protection keys, to be
  // bound per session with ReplaceSessionKeys (SGP.22 2.5.3, 5.5.4), instead
  // of encrypting them with each session's keys (the default).
  bool use_ppk = false;
  Limits limits;
  AdminConfig admin;
  // log.access: one line per request (method, path, status, latency,
  // client; never bodies) on the ES9+, ES2+ and admin listeners.
  bool access_log = false;
  // log.format ("text"/"json"); empty = RSP_LOG_FORMAT or text. smdpd
  // applies it (rsp::log::set_format), load_config only checks it.
  std::string log_format;
  std::string log_level;  // log.level: debug|info|warn|error; empty = RSP_LOG or info
};

// Loads the JSON configuration file documented in docs/smdp.md; relative
// paths in it are relative to the file's folder.
Config load_config(const std::string& path);
// A configuration serving with `pki` (TLS certificate, one credential set),
// a fresh storage key and the given address ("host:port") and database.
Config config_from_pki(const certs::Pki& pki, const std::string& address, const std::string& db_path);

}  // namespace rsp::smdp
