// `smdpd init`: a working smdpd configuration and a fresh storage key from an
// `rsp-certs generate` folder (issue 13, "Strict configuration and setup").
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace rsp::smdp {

struct InitOperator {
  std::string id;
  std::filesystem::path certificate;  // the operator's ES2+ client certificate (pinned)
  std::string notification_url;       // HandleDownloadProgressInfo endpoint, optional
};

// Parses the command line's `ID=CERT[,URL]`; throws std::invalid_argument.
InitOperator parse_init_operator(const std::string& spec);

struct InitOptions {
  std::filesystem::path certs_dir;  // an `rsp-certs generate` folder
  std::filesystem::path out_dir;    // where smdpd.json and storage.key go (created if missing)
  std::string hostname;             // default: the TLS certificate's first dNSName
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8443;
  std::uint16_t es2plus_port = 8444;  // 0: no ES2+ listener
  std::uint16_t admin_port = 8445;    // 0: no admin listener
  // ES2+ operator CA (PEM or DER); default: operators-ca.pem in certs_dir
  // when there is one. Without any, ES2+ is left off.
  std::filesystem::path operator_ca;
  std::vector<InitOperator> operators;
  bool force = false;
  // The store: "" for smdp.db in out_dir, or a postgresql:// URI (several
  // instances on one database, docs/smdp.md).
  std::string store;
};

struct InitResult {
  std::filesystem::path config;       // the smdpd.json written
  std::vector<std::string> written;   // "PATH (what)" lines, in order
  std::vector<std::string> notes;     // what the operator should know (ES2+ off, key kept, ...)
};

// Checks everything first (rsp-certs files present, hostname in the TLS
// certificate, operator CA and certificates readable, no existing file unless
// `force`), then writes storage.key (0600, 64 hex digits; an existing one is
// kept even with `force`: the store's packages are encrypted under it) and
// smdpd.json, which is loaded with load_config before it replaces anything,
// so a configuration that would not start is never left behind. Throws
// std::runtime_error naming the file and the reason.
InitResult init_config(const InitOptions& options);

}  // namespace rsp::smdp
