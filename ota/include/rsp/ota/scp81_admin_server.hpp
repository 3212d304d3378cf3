// The OTA server's side of SCP81 (GlobalPlatform Card Specification
// Amendment B, ETSI TS 102 226 annex B): an HTTPS server in PSK-TLS 1.2 mode
// (rsp::http::Server's PSK mode, OpenSSL) and the per-session handler that
// answers the card's admin agent with command scripts (TS 102 226 5.2
// expanded format) and reads its response scripts back.
//
// A session: the card's first POST to `admin_path` opens it (its
// X-Admin-From must name the card the PSK identity belongs to); each answer
// carries a script and X-Admin-Next-URI `<admin_path>/<session id>/<round>`;
// the card posts the response script there; the server ends the session
// with 204 when the script source has nothing more. The session is bound to
// the PSK identity that opened it. A session with no POST for
// `session_timeout` is dropped and reported as timed out (the card went
// away mid-session); so is one the card ends with an error status or a
// response that does not parse.
//
// Keys: the PSK comes from a PskKeySource by the identity the card presents
// in the handshake; an unknown identity or a wrong key fails the handshake,
// so no request of such a client reaches the handler.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/http_server.hpp"
#include "rsp/ota/command_script.hpp"

namespace rsp::ota::scp81 {

// The card a PSK identity belongs to, and its SCP81 key.
struct CardPsk {
  std::string card_id;  // ICCID or EID, as X-Admin-From names it
  SecretBytes psk;
};

// Where the server finds PSKs. The card store holds the real ones (otad
// wires it); StaticPskKeySource is the in-memory one for tests and tools.
class PskKeySource {
 public:
  virtual ~PskKeySource() = default;
  // nullopt: unknown identity (the handshake fails). Called on the server's
  // I/O threads: implementations are thread-safe.
  virtual std::optional<CardPsk> lookup(std::string_view psk_identity) const = 0;
};

class StaticPskKeySource : public PskKeySource {
 public:
  void add(std::string psk_identity, CardPsk key) { keys_[std::move(psk_identity)] = std::move(key); }
  std::optional<CardPsk> lookup(std::string_view psk_identity) const override;

 private:
  std::map<std::string, CardPsk, std::less<>> keys_;  // filled before start(), read-only after
};

// One script the server sends: the command script and, when it is meant for
// another application than the security domain's default (RFM at a file
// system, an applet), X-Admin-Targeted-Application ("//aid/<RID>/<PIX>").
struct AdminScript {
  CommandScript script;
  std::optional<std::string> targeted_application;
};

// What the script source sees when asked for the next script.
struct SessionView {
  std::string session_id;
  std::string card_id;
  std::string psk_identity;
  std::string admin_from;                   // X-Admin-From as the card sent it
  std::size_t round = 0;                    // scripts sent so far
  std::vector<ResponseScript> responses;    // the card's response scripts so far
};

// The next script for the session, or nullopt to end it (204). Called on
// the server's I/O threads, one call at a time per session.
using ScriptSource = std::function<std::optional<AdminScript>(const SessionView&)>;

enum class SessionOutcome {
  Completed,          // every script answered with "ok", ended by 204
  ScriptStatusError,  // the card answered a script with another X-Admin-Script-Status
  MalformedResponse,  // a response script that does not parse, or the wrong media type
  TimedOut,           // no POST for session_timeout: the card went away
  Stopped,            // the server stopped with the session open
};
const char* outcome_name(SessionOutcome o);

struct SessionReport {
  std::string session_id;
  std::string card_id;
  SessionOutcome outcome = SessionOutcome::Completed;
  std::string detail;                      // words, for a log; never keys
  std::string script_status;               // the last X-Admin-Script-Status received
  std::size_t rounds = 0;                  // scripts sent
  std::vector<ResponseScript> responses;   // response scripts received
};
using ReportSink = std::function<void(const SessionReport&)>;

struct AdminServerConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral, see AdminServer::port()
  std::string admin_path = "/gp/admin";
  std::chrono::milliseconds session_timeout{30'000};
  std::size_t max_sessions = 10'000;   // open sessions; past it a new card gets 503
  std::size_t threads = 2;
  std::size_t max_body_bytes = 64 * 1024;
  // IANA names; empty = rsp::http's PSK defaults (TLS_PSK_WITH_AES_128_GCM_SHA256,
  // TLS_PSK_WITH_AES_128_CBC_SHA256, TLS_PSK_WITH_AES_128_CCM).
  std::vector<std::string> cipher_suites;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};
  http::LogSink log;  // empty = stderr
};

class AdminServer {
 public:
  AdminServer(AdminServerConfig config, std::shared_ptr<const PskKeySource> keys, ScriptSource scripts,
              ReportSink report = {});
  ~AdminServer();  // stop()s
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  void start();  // throws like rsp::http::Server::start
  void stop();   // open sessions are reported as Stopped
  std::uint16_t port() const;

  std::size_t open_sessions() const;
  // Drops the sessions idle for longer than session_timeout (a background
  // thread also does this every session_timeout / 4).
  void expire_sessions();

  // The HTTP handler (public for tests that drive it without TLS).
  http::Response handle(const http::Request& req);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rsp::ota::scp81
