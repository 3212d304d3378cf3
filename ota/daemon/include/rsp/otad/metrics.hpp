// otad's metrics (docs/ota.md, "Health and metrics"): the operator API's
// calls and latency, commands and SMS handed to the SMSC, PoRs as they land
// by TS 102 225 status name, SCP81 admin sessions by outcome, and the job
// cards by state (computed from the store at each scrape). Same registry
// and naming as smdpd's (rsp/metrics.hpp: `<server>_<what>_total`).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "rsp/metrics.hpp"
#include "rsp/store.hpp"

namespace rsp::otad {

struct OtadMetrics {
  metrics::Registry registry;
  metrics::Family<metrics::Counter>& api_requests;     // {endpoint, status}
  metrics::Family<metrics::Histogram>& api_latency;    // {endpoint}, seconds
  metrics::Family<metrics::Counter>& commands_sent;    // {transport, attempt}: first, retry
  metrics::Family<metrics::Counter>& sms_sent;         // {attempt}: SMS (segments) of those commands
  metrics::Family<metrics::Counter>& pors;             // {status}: TS 102 225 5.2 name
  metrics::Family<metrics::Counter>& scp81_sessions;   // {result}: SessionOutcome name
  metrics::Family<metrics::Counter>& tls_handshakes;   // {listener, result}
  metrics::Family<metrics::Gauge>& job_cards;          // {kind, state}, at scrape

  OtadMetrics();
  // One answered API call.
  void api_request(const std::string& method, std::string_view path, int status, double seconds);
  // A card's command handed to the SMS sender: attempt 1 or a retry; `sms`
  // is how many SMS its packet (or SCP81 push) takes.
  void command_sent(bool scp81, int attempt, std::size_t sms);
  // A PoR that landed (the sender matched it to a command).
  void por(std::uint8_t status);
  void scp81_session(std::string_view result);
  std::function<void(bool)> handshake_counter(const std::string& listener);
  // The job cards gauge from the store (Registry::on_scrape).
  void collect_from(store::Db& db);
};

// The API route a request names, as a label: "POST /cards/{iccid}/commands",
// or "unknown" (a client cannot create series with made-up paths).
std::string api_endpoint_label(const std::string& method, std::string_view path);

}  // namespace rsp::otad
