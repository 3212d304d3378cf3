// The configuration of the operators' agents as daemons (`visited-agent`,
// `home-agent`; docs/agents.md), read from one JSON file each, and the
// spool files they exchange with the programs around them:
//   - the visited network's events (first attach, usage records) that the
//     visited operator's agent turns into the Activation and usage reports;
//   - the home operator's purchase orders (what `buy` is in the library) and
//     the activation codes its agent delivers.
// Relative paths in a file are relative to the file's folder.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/sim/visited_network.hpp"

namespace rsp::agents {

// A configuration that cannot be used: names the key ("es2plus.url is required").
struct DaemonConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where the participant's ledger is: an embedded ledger file (docs/ledger.md)
// or a chain deployment (`ledger-chain deploy --out`), and its signing key.
struct LedgerConfig {
  std::string backend;       // "embedded" or "chain"
  std::string path;          // embedded: the ledger file (created by ledger-tool init)
  std::string genesis_hex;   // embedded, optional: pins the ledger joined
  std::string deployment;    // chain: the deployment description
  std::string key_file;      // the participant's signing key (embedded: PEM, mode 0600; chain: ledger-chain keygen file)
  std::string participant;   // embedded: the registered id (on the chain it comes from the key)
};

// A mutual-TLS HTTPS client: the server's CA, our certificate and key (PEM).
struct TlsClientConfig {
  std::string url, ca_file, certificate_file, key_file;
};

struct AgentDaemonCommon {
  LedgerConfig ledger;
  std::string state_db;                          // AgentState's SQLite file (cursor, orders)
  std::chrono::milliseconds poll_interval{1000};  // between ledger polls
  std::string log_format, log_level;             // as smdpd's "log" (empty: RSP_LOG_FORMAT / RSP_LOG)
};

struct VisitedAgentConfig : AgentDaemonCommon {
  std::string seal_key_file;   // the private key whose public point its Offers carry (PEM, mode 0600)
  std::string profile_type;    // what DownloadOrder asks for
  TlsClientConfig es2plus;     // the SM-DP+'s ES2+ listener
  std::string requester_id;    // the operator id the SM-DP+ knows (default: the participant)
  // The SM-DP+'s configuration (smdpd.json): the protected package the
  // Accept carries is read from its store (as `smdpd export-package` does).
  std::string smdp_config;
  std::string hss_db, hss_key_file;  // the HSS (sim::Hss): SQLite file, 32-byte storage key (hex, mode 0600)
  std::string network_spool;         // the visited network's events (NetworkEvent files)
};

struct HomeAgentConfig : AgentDaemonCommon {
  std::string reply_key_file;   // the key Accepts are sealed to (PEM, mode 0600)
  std::string orders_spool;     // purchase orders (PurchaseOrder files) to place as Requests
  std::string delivery_dir;     // where activation codes are written, one file per Request
  std::optional<TlsClientConfig> otad;  // multi-account SIMs: the OTA server's operator API
  std::string otad_transport = "sms";
};

// Throw DaemonConfigError naming the key.
VisitedAgentConfig load_visited_agent_config(const std::filesystem::path& file);
HomeAgentConfig load_home_agent_config(const std::filesystem::path& file);

// One event of the visited network, a JSON file in the network spool:
//   {"event": "attach", "imsi", "iccid", "plmn"}   the first authenticated attach
//   {"event": "usage", "imsi", "record_id", "period_start", "period_end", "data_mb", "voice_minutes", "sms"}
struct NetworkEvent {
  std::string kind;  // attach | usage
  sim::AttachResult attach;
  std::string plmn;
  sim::UsageRecord usage;
  static NetworkEvent from_json(const std::string& text);  // throws std::runtime_error
  std::string to_json() const;
};

// A purchase order, a JSON file in the orders spool:
//   {"offer_id", "subscriber" (the pseudonym), "eid" | "iccid", "request_id" (optional)}
struct PurchaseOrder {
  std::string offer_id, subscriber, eid, iccid, request_id;
  static PurchaseOrder from_json(const std::string& text);  // throws std::runtime_error
  std::string to_json() const;
};

// The spool's files ready to handle, oldest name first: "*.json" regular
// files (a writer writes "NAME.tmp" and renames it to "NAME.json").
std::vector<std::filesystem::path> spool_files(const std::filesystem::path& dir);
// Moves a handled file into dir/`sub`/ (created), replacing a file of the same name.
void spool_move(const std::filesystem::path& file, const std::string& sub);
// Writes `text` as dir/name atomically (NAME.tmp, then rename), mode 0600.
void spool_write(const std::filesystem::path& dir, const std::string& name, const std::string& text);

}  // namespace rsp::agents
