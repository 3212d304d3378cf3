#include "rsp/otad/metrics.hpp"

#include <array>
#include <tuple>
#include <vector>

#include "rsp/ota/status.hpp"
#include "rsp/otad/api.hpp"

namespace rsp::otad {

OtadMetrics::OtadMetrics()
    : api_requests(registry.counter("otad_api_requests_total",
                                    "Operator API calls by endpoint (method and route) and HTTP status",
                                    {"endpoint", "status"})),
      api_latency(registry.histogram("otad_api_request_duration_seconds",
                                     "Operator API time from request read to response ready, by endpoint",
                                     {"endpoint"}, metrics::default_latency_buckets())),
      commands_sent(registry.counter("otad_commands_sent_total",
                                     "Cards' commands handed to the SMSC by transport (sms, scp81: its push SMS) "
                                     "and attempt (first, retry)",
                                     {"transport", "attempt"})),
      sms_sent(registry.counter("otad_sms_sent_total",
                                "SMS of those commands (a packet may take several concatenated SMS), by attempt",
                                {"attempt"})),
      pors(registry.counter("otad_por_total",
                            "PoRs received and matched to a command, by TS 102 225 response status name",
                            {"status"})),
      scp81_sessions(registry.counter("otad_scp81_sessions_total",
                                      "SCP81 admin sessions with a script to run, by outcome", {"result"})),
      tls_handshakes(registry.counter("otad_tls_handshakes_total", "TLS handshakes by listener and result (ok, failed)",
                                      {"listener", "result"})),
      job_cards(registry.gauge("otad_job_cards",
                               "Cards of jobs in the store by job kind (command, campaign) and card state (at scrape)",
                               {"kind", "state"})) {}

void OtadMetrics::api_request(const std::string& method, std::string_view path, int status, double seconds) {
  std::string endpoint = api_endpoint_label(method, path);
  api_requests.with({endpoint, std::to_string(status)}).inc();
  api_latency.with({endpoint}).observe(seconds);
}

void OtadMetrics::command_sent(bool scp81, int attempt, std::size_t sms) {
  const char* a = attempt > 1 ? "retry" : "first";
  commands_sent.with({scp81 ? "scp81" : "sms", a}).inc();
  sms_sent.with({a}).inc(static_cast<double>(sms));
}

// The status byte's name from the TS 102 225 table (256 values at most:
// unknown codes read "reserved (XX)" / "proprietary (XX)").
void OtadMetrics::por(std::uint8_t status) { pors.with({ota::status_name(status)}).inc(); }

void OtadMetrics::scp81_session(std::string_view result) { scp81_sessions.with({std::string(result)}).inc(); }

std::function<void(bool)> OtadMetrics::handshake_counter(const std::string& listener) {
  metrics::Counter* ok = &tls_handshakes.with({listener, "ok"});
  metrics::Counter* failed = &tls_handshakes.with({listener, "failed"});
  return [ok, failed](bool good) { (good ? ok : failed)->inc(); };
}

void OtadMetrics::collect_from(store::Db& db) {
  std::vector<std::tuple<std::string, std::string, double>> rows;
  db.query(
      "SELECT j.kind, c.state, COUNT(*) FROM otad_job_cards c JOIN otad_jobs j ON j.id = c.job_id "
      "GROUP BY j.kind, c.state",
      {}, [&](const store::Row& r) { rows.emplace_back(r.text(0), r.text(1), static_cast<double>(r.i64(2))); });
  // Recomputed whole: a state with no card left disappears.
  job_cards.clear();
  for (const auto& row : rows) job_cards.with({std::get<0>(row), std::get<1>(row)}).set(std::get<2>(row));
}

std::string api_endpoint_label(const std::string& method, std::string_view path) {
  constexpr std::string_view prefix = "/ota/v1/";
  if (path.substr(0, prefix.size()) != prefix) return "unknown";
  std::vector<std::string_view> parts;
  std::string_view rest = path.substr(prefix.size());
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (!seg.empty()) parts.push_back(seg);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  for (const auto& r : Api::routes()) {
    if (method != r.method || parts.size() != r.segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < parts.size() && match; ++i) match = r.segments[i] == "{}" || r.segments[i] == parts[i];
    if (match) return r.label;
  }
  return "unknown";
}

}  // namespace rsp::otad
