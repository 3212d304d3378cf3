// The OTA server's SMS path (SCP80 over SMS, 3GPP TS 31.115 over SMPP 3.4):
// a command for a card is reserved in the card store (its counter durable
// before anything leaves), cut into SMS-DELIVER user data (TP-PID '7F',
// TP-DCS 'F6', CPI and concatenation IEs), submitted over SMPP as submit_sm
// (esm_class UDHI, protocol_id 7F, data_coding F6, a delivery receipt
// asked), marked sent when every segment's submit_sm_resp is OK; the PoR
// that comes back (MO SMS-SUBMIT as deliver_sm, or the SMS-DELIVER-REPORT's
// user data in a receipt's message_payload, docs/ota.md) is matched to its
// command by TAR and, once opened with the command's key set, by CNTR, and
// recorded in the store with its response script.
//
// One command at a time per card: the next goes when the previous one is
// done (its PoR in, or its submit refused, or, when the SPI asks for no PoR
// or a PoR on error only, its submits accepted; or after por_timeout). The
// SMSC keeps no order between messages (a throttled submit retried after a
// later one went through), and a card in counter mode "process if higher"
// would answer the overtaken older command 02 and never run it.
#pragma once
#include <chrono>
#include <functional>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <deque>
#include <thread>
#include <tuple>

#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/smpp_esme.hpp"
#include "rsp/ota/sms_submit.hpp"

namespace rsp::ota {

struct SmsSenderConfig {
  std::string originator = "8800";  // source_addr of the submit_sm: the card answers to it
  std::uint8_t originator_ton = 0, originator_npi = 1;
  bool receipts = true;  // registered_delivery 1
  std::chrono::milliseconds por_timeout{30000};
  // Called (outside the sender's lock) with the status of each PoR matched
  // to a command, once it is recorded: otad's PoR counter.
  std::function<void(std::uint8_t status)> on_por;  // from the last segment's submit_sm_resp; then the card's next command goes; the PoR is still taken if it comes
};

struct CommandOutcome {
  enum class State { Queued, Submitted, Sent, SubmitFailed, PorReceived };  // Queued: waiting for the card's previous command
  State state = State::Queued;
  std::string iccid, msisdn;
  std::uint8_t key_version = 0;
  std::uint64_t cntr = 0;
  std::uint32_t submit_status = 0;         // of a refused submit_sm
  std::optional<std::uint8_t> por_status;  // TS 102 225 5.2
  Bytes additional_data;
  std::optional<ResponseScript> response;  // the response script, when the PoR's data parses as one
  bool delivered_receipt = false;
};

class SmsCommandSender {
 public:
  SmsCommandSender(CardStore& store, smpp::EsmeConfig esme, SmsSenderConfig config = {});
  ~SmsCommandSender();

  void start() { esme_->start(); }
  void stop() { esme_->stop(); }
  smpp::Esme& esme() { return *esme_; }

  // Reserves the command in the store and queues its SMS. Throws what
  // reserve_command_packet throws (nothing is queued then).
  ReservedPacket send(const std::string& msisdn, const CommandRequest& r);
  // After a restart: the card's reservations not marked sent go again,
  // byte for byte (CardStore::unsent), before anything new.
  std::size_t resend_unsent(const std::string& iccid, const std::string& msisdn, const Tar& tar,
                            ScriptFormat format = ScriptFormat::Expanded);

  // After a restart: a command the store has marked sent whose PoR has not
  // been recorded. Nothing is sent; the card's queue waits for that PoR (the
  // SMSC keeps MO SMS until an ESME binds) up to por_timeout, as if it had
  // just been sent, so the card never gets the same counter twice. Call it
  // before any send() to that card (std::logic_error otherwise).
  void await_por(const std::string& msisdn, const std::string& iccid, const ReservedPacket& p,
                 ScriptFormat format = ScriptFormat::Expanded);

  std::optional<CommandOutcome> outcome(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr) const;
  // Waits for the PoR of a command (or a refused submit); false on timeout.
  bool wait(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr, std::chrono::milliseconds timeout) const;
  std::size_t unmatched_pors() const;

 private:
  using Key = std::tuple<std::string, std::uint8_t, std::uint64_t>;
  struct Pending {
    CommandOutcome outcome;
    CommandHeader header;
    ScriptFormat format = ScriptFormat::Expanded;
    Bytes packet;
    std::size_t segments = 0, segments_ok = 0;
    std::chrono::steady_clock::time_point deadline{};
  };
  struct CardQueue {
    std::deque<Key> waiting;
    std::optional<Key> active;
  };
  void enqueue(const Key& k, const std::string& msisdn, Pending p);  // under mu_
  void dispatch(const std::string& msisdn);                          // under mu_
  void done(const Key& k);                                           // under mu_
  void watch();
  void on_submit_result(const smpp::SubmitResult& r);
  void on_deliver(const smpp::ShortMessage& m);
  void on_por(const std::string& msisdn, ByteView por);

  CardStore& store_;
  SmsSenderConfig cfg_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<Key, Pending> pending_;
  std::map<std::uint64_t, Key> by_submit_;
  std::map<std::string, std::string> iccid_of_;  // MSISDN -> ICCID
  std::map<std::string, std::uint8_t> reference_;  // concatenation reference per MSISDN
  std::map<std::string, CardQueue> cards_;         // by MSISDN
  bool stopping_ = false;
  std::thread watcher_;                            // PoR timeouts
  ResponsePacketReassembler reassembler_;
  std::size_t unmatched_ = 0;
  std::unique_ptr<smpp::Esme> esme_;  // last: its thread stops before the rest goes
};

}  // namespace rsp::ota
