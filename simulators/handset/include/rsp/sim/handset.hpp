// A simulated handset (mobile equipment) for SMS-PP data download: takes an
// MT SMS from the simulated SMSC, and when it is SIM data download (TP-PID
// '7F' with a class 2 TP-DCS, 3GPP TS 23.038 / TS 31.111 7.1.1) hands it to
// the card as ENVELOPE (SMS-PP download) over an APDU link, then:
//
// - '90 00': RP-ACK without data; '61 xx' / '9F xx': GET RESPONSE and RP-ACK
//   with the data (the PoR by SMS-DELIVER-REPORT, TS 31.111 7.1.1.2);
// - '91 xx' (also after GET RESPONSE): the card has a proactive command:
//   FETCH, and for SEND SHORT MESSAGE (TS 31.111 6.4.10) the SMS-SUBMIT goes
//   out as MO SMS through the SMSC, REFRESH (TS 102 223 6.6.13) is answered
//   "performed" and counted, then TERMINAL RESPONSE; repeated while the
//   card says '91 xx';
// - '93 00' (toolkit busy) and errors: RP-ERROR.
//
// Other MT SMS are just acknowledged (kept for tests to read).
#pragma once
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/sim/smsc.hpp"

namespace rsp::sim {

// The APDU link to the card: a C-APDU in, the R-APDU (data || SW) out. In
// process for now; PC/SC through vpcd can stand behind it later.
using CardLink = std::function<Bytes(ByteView capdu)>;

struct HandsetStats {
  std::uint64_t envelopes = 0, get_responses = 0, fetches = 0, mo_sent = 0, rp_errors = 0, other_sms = 0, refreshes = 0,
                polls = 0;
};

class Handset : public MobileStation {
 public:
  // `send_mo(msisdn, sms_submit_tpdu)`: where MO SMS go (the SMSC's submit_mo).
  Handset(std::string msisdn, CardLink card, std::function<void(const std::string&, ByteView)> send_mo);

  DeliveryOutcome deliver_mt(ByteView sms_deliver_tpdu) override;

  // Proactive polling (TS 102 221 14.6.1: an idle terminal sends STATUS):
  // a '91 xx' answer runs the proactive session, e.g. the REFRESH a card
  // queued outside any terminal command (an SCP81 admin session's switch).
  // True when there was a proactive command.
  bool poll();

  const std::string& msisdn() const { return msisdn_; }
  HandsetStats stats() const;

 private:
  void proactive_session(std::uint16_t sw);
  std::string msisdn_;
  CardLink card_;
  std::function<void(const std::string&, ByteView)> send_mo_;
  mutable std::mutex mu_;
  HandsetStats stats_;
};

}  // namespace rsp::sim
