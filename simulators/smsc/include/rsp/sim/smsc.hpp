// A simulated SMSC: an SMPP 3.4 server (SMPP v3.4 Issue 1.2) for ESMEs on
// loopback, and the mobile side for simulated handsets, in one process.
//
// - bind_transmitter / receiver / transceiver with system_id and password
//   (ESME_RINVSYSID / ESME_RINVPASWD otherwise), enquire_link, unbind;
// - submit_sm: answered with submit_sm_resp and a message id, then the MT
//   SMS goes to the handset registered at destination_addr as an
//   SMS-DELIVER TPDU (3GPP TS 23.040 9.2.2.1: TP-OA = source_addr, TP-PID =
//   protocol_id, TP-DCS = data_coding, TP-UDHI from esm_class, TP-SCTS now);
// - the handset's answer (RP-ACK with or without TP-UD, or RP-ERROR) gives
//   a delivery receipt to the ESME when registered_delivery asks (deliver_sm
//   with esm_class 04, the receipt text of SMPP 3.4 appendix B and the TLVs
//   receipted_message_id and message_state); the TP-UD of an RP-ACK (a PoR
//   by SMS-DELIVER-REPORT) rides in the receipt's message_payload TLV, our
//   convention (docs/ota.md);
// - MO SMS from a handset (SMS-SUBMIT TPDUs) go to a bound receiver or
//   transceiver as deliver_sm (source_addr = the handset's MSISDN).
//
// Faults for tests: refuse binds, answer ESME_RTHROTTLED above a rate, drop
// the connection when the n-th submit_sm arrives (that submit unprocessed).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rsp/bytes.hpp"

namespace rsp::sim {

// What a handset answers an MT SMS with (TS 24.011 RP-ACK / RP-ERROR; the
// TP-UD of the SMS-DELIVER-REPORT).
struct DeliveryOutcome {
  bool delivered = true;
  Bytes report_user_data;
};

class MobileStation {
 public:
  virtual ~MobileStation() = default;
  virtual DeliveryOutcome deliver_mt(ByteView sms_deliver_tpdu) = 0;
};

struct SmscConfig {
  std::string system_id = "ota";
  std::string password = "secret";
  std::uint16_t port = 0;  // 0: any free port on 127.0.0.1
  double max_submits_per_second = 0;  // above it: ESME_RTHROTTLED (0: never)
};

struct SmscStats {
  std::uint64_t binds = 0, bind_refusals = 0, submits = 0, throttled = 0, mt_delivered = 0, mt_failed = 0,
                mo_forwarded = 0, receipts = 0, dropped_connections = 0, enquire_links = 0;
};

class Smsc {
 public:
  explicit Smsc(SmscConfig config);
  ~Smsc();
  Smsc(const Smsc&) = delete;
  Smsc& operator=(const Smsc&) = delete;

  std::uint16_t start();  // listens on 127.0.0.1; returns the port
  void stop();

  void register_handset(const std::string& msisdn, MobileStation* ms);
  // An MO SMS from a handset: forwarded to a bound ESME as deliver_sm.
  void submit_mo(const std::string& from_msisdn, ByteView sms_submit_tpdu);

  // Faults.
  void refuse_binds(bool refuse);
  void drop_connection_at_submit(std::uint64_t nth);  // the n-th submit_sm from now on; 0: never
  void set_max_submits_per_second(double rate);

  SmscStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace rsp::sim
