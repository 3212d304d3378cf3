// An SMPP 3.4 ESME (the OTA server's side of an SMSC link) over Boost.Asio:
// bind_transceiver (SMPP 3.4 4.1.5), submit_sm with a send window and a
// throttle, deliver_sm in (MO SMS, delivery receipts; 4.6) answered with
// deliver_sm_resp, enquire_link both ways (4.11), and reconnection with
// backoff when the link drops or the bind is refused.
//
// Nothing is lost and nothing is given a new identity on a reconnect: a
// submit whose submit_sm_resp has not arrived when the link drops goes
// again, byte for byte, after the next bind (its command packet already has
// its counter; a copy that did reach the SMSC the first time is answered 02,
// CNTR low, by the card and runs once). ESME_RTHROTTLED and ESME_RMSGQFUL
// put the submit back at the head of the queue and pause sending.
//
// One thread runs the I/O; the callbacks run on it and must not block.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rsp/ota/smpp_pdu.hpp"

namespace rsp::ota::smpp {

struct EsmeConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  Bind bind;                         // system_id, password, system_type (sent as bind_transceiver)
  std::size_t window = 10;           // submit_sm awaiting their response, at most
  double max_submits_per_second = 0; // 0: no throttle of ours
  std::chrono::milliseconds enquire_link_interval{30000};
  std::chrono::milliseconds response_timeout{10000};  // for bind, submit_sm and enquire_link responses
  std::chrono::milliseconds reconnect_delay{100};     // doubled per failed attempt, up to max
  std::chrono::milliseconds max_reconnect_delay{5000};
  std::chrono::milliseconds throttled_pause{500};     // after ESME_RTHROTTLED / ESME_RMSGQFUL
};

struct SubmitResult {
  std::uint64_t id = 0;              // as returned by submit()
  std::uint32_t command_status = 0;  // of the submit_sm_resp (never ESME_RTHROTTLED: those are retried)
  std::string message_id;
};

struct EsmeHandlers {
  std::function<void(const SubmitResult&)> on_submit_result;
  std::function<void(const ShortMessage&)> on_deliver;  // MO SMS and delivery receipts
  std::function<void(const std::string&)> on_event;     // bind, unbind, link lost, refusals: for logs
};

struct EsmeStats {
  std::uint64_t binds = 0, bind_refusals = 0, link_losses = 0, submits_written = 0, resubmits = 0, throttled = 0;
};

class Esme {
 public:
  Esme(EsmeConfig config, EsmeHandlers handlers);
  ~Esme();  // stop()
  Esme(const Esme&) = delete;
  Esme& operator=(const Esme&) = delete;

  void start();  // connects and binds in the background; reconnects until stop()
  void stop();   // unbinds if bound, closes, joins the I/O thread

  // Queues a submit_sm; returns its id for on_submit_result. Thread-safe.
  std::uint64_t submit(ShortMessage m);

  bool bound() const;
  std::size_t outstanding() const;  // queued + awaiting their response
  // Waits until nothing is outstanding; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout) const;
  // Waits until bound; false on timeout.
  bool wait_bound(std::chrono::milliseconds timeout) const;
  EsmeStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rsp::ota::smpp
