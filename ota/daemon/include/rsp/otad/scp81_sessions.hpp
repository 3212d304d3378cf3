// The SCP81 side of otad's jobs (docs/ota.md, "SCP81 jobs"): between the
// campaign runner, which sends a card's push SMS and waits, and the
// AdminServer, whose sessions the cards open.
//
// A job's script waits here (expect) from just before its trigger leaves;
// the first admin session that card opens takes it (next_script: one script
// per session, the session ends with 204 after its response); the session's
// report becomes the attempt's result, which the runner takes. A session of
// a card with nothing waiting ends at once (204). An attempt the runner
// gives up on is forgotten, so a late session gets nothing of it.
//
// The trigger ('81', GlobalPlatform Amendment B 3.8) names the card's PSK
// (identity, key version, key id: '85'), where to connect ('84': TCP client
// mode, the public IPv4 address and port) and the admin URI ('8C').
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/scp81_admin_server.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/scp81_keys.hpp"

namespace rsp::otad {

struct Scp81Attempt {
  std::string job_id;
  int attempt = 0;
  Bytes script;              // the command script (TS 102 226), as the job holds it
  std::string targeted;      // X-Admin-Targeted-Application, "" = the security domain's default (RFM)
};

struct Scp81Result {
  std::string job_id;
  int attempt = 0;
  ota::scp81::SessionOutcome outcome = ota::scp81::SessionOutcome::Completed;
  std::string script_status, detail;
  std::size_t rounds = 0;
  std::optional<ota::ResponseScript> response;
};

class Scp81Sessions {
 public:
  Scp81Sessions(const Scp81Config& config, const Scp81Keys& keys) : config_(config), keys_(keys) {}

  // Once the listener's port is known (public_port 0: advertise it).
  void set_listening_port(std::uint16_t port);
  // The '81' TLV for the card's push SMS. std::invalid_argument when the
  // card has no SCP81 key.
  Bytes trigger(const std::string& iccid) const;

  void expect(const std::string& iccid, Scp81Attempt a);
  void forget(const std::string& iccid, const std::string& job_id);

  // The AdminServer's ScriptSource and ReportSink.
  std::optional<ota::scp81::AdminScript> next_script(const ota::scp81::SessionView& v);
  void on_report(const ota::scp81::SessionReport& r);

  // The result of that attempt, once its session ended (taken once).
  std::optional<Scp81Result> take(const std::string& iccid, const std::string& job_id, int attempt);

 private:
  Scp81Config config_;
  const Scp81Keys& keys_;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Scp81Attempt> waiting_;  // by ICCID
  struct Bound {
    std::string iccid, job_id;
    int attempt = 0;
  };
  std::map<std::string, Bound> sessions_;        // by session id
  std::map<std::string, Scp81Result> results_;   // by ICCID
};

// X-Admin-Targeted-Application ("//aid/<RID>/<PIX>", Amendment B 3.4.2) for
// an application's AID (at least the 5-byte RID).
std::string targeted_application(ByteView aid);

}  // namespace rsp::otad
