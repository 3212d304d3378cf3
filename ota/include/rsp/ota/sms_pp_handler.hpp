// The card side of SMS-PP data download, as a library piece a card core
// plugs into (3GPP TS 31.111 7.1.1, TS 31.115, ETSI TS 102 225 / 102 226):
//
//   ENVELOPE data (D1 ...) -> SMS-DELIVER -> reassembly (IEI 00/08) ->
//   the command packet's checks with the card's key sets (ReceivingEntity) ->
//   the application at the TAR (an RFM/RAM RemoteApplication, whose C-APDUs
//   run through the card core's executor) -> the PoR.
//
// The PoR goes back as the SPI asks (TS 31.115 4.4): by SMS-DELIVER-REPORT
// it is the ENVELOPE's response data ('02 71 00' || response packet, the
// TP-UD of the RP-ACK); by SMS-SUBMIT it is one or more SMS-SUBMIT TPDUs to
// the command's originating address, which the card core sends with the
// proactive command SEND SHORT MESSAGE. Turning response data into 61xx /
// 9Fxx and GET RESPONSE (T=0) is the card core's business: this returns the
// data and '90 00'.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace rsp::ota {

struct SmsPpOutcome {
  std::uint16_t sw = 0x9000;
  Bytes response_data;             // PoR by SMS-DELIVER-REPORT, else empty
  std::vector<Bytes> sms_submits;  // PoR by SMS-SUBMIT: the TPDUs to send, else empty
  bool complete = false;           // false: a segment of a concatenated packet was stored, nothing else happened
  std::optional<Verdict> verdict;  // once a whole packet was checked (its secured data moved to the application)
  std::string error;               // why the ENVELOPE was refused (sw '6A 80'), in words
};

class SmsPpHandler {
 public:
  // The card's key sets and counters live in `entity`.
  explicit SmsPpHandler(ReceivingEntity& entity) : entity_(entity) {}

  // An application at a TAR with its minimum security level (TS 102 226
  // 8.2.1.3.2.4, SPI first-byte coding).
  void add_application(const Tar& tar, std::uint8_t msl, std::shared_ptr<RemoteApplication> app);
  // An application installed or deleted while the card runs (RAM, TS 102
  // 226 8): a script at one TAR may add or remove another TAR's.
  void remove_application(const Tar& tar);

  // The ENVELOPE's data field. Never throws for what comes off the air: an
  // ENVELOPE or SMS that does not parse (wrong concatenation references,
  // TP-PID other than 7F...) answers '6A 80' with the reason.
  SmsPpOutcome envelope(ByteView envelope_data);

 private:
  ReceivingEntity& entity_;
  CommandPacketReassembler reassembler_;
  std::map<Tar, std::shared_ptr<RemoteApplication>> apps_;
  std::uint8_t submit_reference_ = 0;
};

}  // namespace rsp::ota
