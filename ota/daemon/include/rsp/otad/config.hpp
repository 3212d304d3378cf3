// otad's configuration (docs/ota.md, "otad"): the operator API's HTTPS
// listener with mutual TLS, the card store, the SMPP link to the SMSC, the
// campaign runner's pacing and the API's input limits (issue 9).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "rsp/admin_listener.hpp"
#include "rsp/bytes.hpp"
#include "rsp/ota/smpp_esme.hpp"

namespace rsp::otad {

// What the API accepts and keeps (docs/hardening.md, "otad").
struct Limits {
  // Request bodies per endpoint. The largest real request is a campaign over
  // an ICCID list: 10,000 cards of 20 digits with their quotes is ~230 KB.
  std::size_t campaign_body_bytes = 512 * 1024;
  // A command script: 255 SMS of 140 bytes is the most a packet can take,
  // ~36 KB, ~72 KB of hex.
  std::size_t command_body_bytes = 96 * 1024;
  // Everything else (register a card, account operations, cancel): a few
  // hundred bytes.
  std::size_t small_body_bytes = 8 * 1024;
  std::size_t max_json_depth = 6;
  std::size_t max_campaign_cards = 10'000;
  std::size_t max_connections = 256;
  int handshake_timeout_seconds = 10;
  int header_timeout_seconds = 10;
  int read_timeout_seconds = 20;
};

// How campaigns are paced (docs/ota.md, "Campaigns").
struct CampaignPacing {
  double commands_per_second = 50;    // a campaign's SMS/s throttle (one SMS per command for short scripts)
  std::size_t max_in_flight = 200;    // cards with a command out and no PoR yet, across campaigns
  int max_attempts = 4;               // sends of one card's command before it expires
  int retry_backoff_ms = 2000;        // first retry after this, doubled each time
  int max_retry_backoff_ms = 60'000;
  int tick_ms = 50;                   // how often the runner looks at outcomes and writes them
};

// otad's SCP81 listener (docs/ota.md, "SCP81 jobs"): the PSK-TLS admin
// server the cards' admin agents connect to, and what the push SMS's
// trigger tells them (GlobalPlatform Amendment B 3.8.1: the address the
// card reaches, which behind NAT or a proxy is not the listen address).
struct Scp81Config {
  bool enabled = false;            // the file's port 0 = off
  std::string listen = "127.0.0.1";
  std::uint16_t port = 0;          // with enabled: 0 = ephemeral (tests), see Daemon::scp81_port()
  std::string admin_path = "/gp/admin";
  int session_timeout_ms = 30'000;
  std::string public_address;      // IPv4 the trigger advertises; empty = `listen`
  std::uint16_t public_port = 0;   // 0 = the listening port
};

struct Config {
  std::string db_path = "otad.db";
  SecretBytes storage_key;  // 32 bytes: the card store's AES-256 key at rest
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8444;
  std::size_t threads = 2;
  Bytes tls_certificate;  // PEM or DER chain
  SecretBytes tls_key;
  Bytes client_ca;  // the home operator's client certificates verify against this
  ota::smpp::EsmeConfig smpp;
  std::string originator = "8800";  // source_addr the cards answer to
  int por_timeout_ms = 30'000;
  CampaignPacing campaigns;
  Limits limits;
  Scp81Config scp81;
  // /health/live, /health/ready, /metrics over plain HTTP (docs/ota.md,
  // "Health and metrics"); off unless admin.port is given.
  AdminListenerConfig admin;
};

// Loads the JSON file; relative paths are relative to its folder. Unknown
// keys and out-of-range values are refused naming the field; key files must
// be mode 0600.
Config load_config(const std::string& path);

// Dotted-quad IPv4 ("192.0.2.1"), nothing else.
bool is_ipv4(const std::string& s);

}  // namespace rsp::otad
