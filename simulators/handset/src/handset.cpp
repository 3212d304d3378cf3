#include "rsp/sim/handset.hpp"

#include <optional>

#include "rsp/ota/envelope.hpp"
#include "rsp/ota/sms_deliver.hpp"
#include "rsp/tlv.hpp"

namespace rsp::sim {

namespace {

std::uint16_t sw_of(ByteView r) {
  if (r.size() < 2) return 0x6F00;
  return static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back());
}

// TS 23.038 4: data coding group 1111 with class 2, or general data coding
// with a message class whose b1b0 is 10: SIM-specific message.
bool class2(std::uint8_t dcs) {
  if ((dcs & 0xF0) == 0xF0) return (dcs & 0x03) == 0x02;
  if ((dcs & 0xC0) == 0x00) return (dcs & 0x10) && (dcs & 0x03) == 0x02;
  return false;
}

// The command details (number, type, qualifier) of a REFRESH, else nullopt.
std::optional<Bytes> refresh_details(ByteView proactive) {
  try {
    tlv::Tlv cmd = tlv::parse_one(proactive);
    if (cmd.tag != ota::kTagProactiveCommand) return std::nullopt;
    for (const auto& d : tlv::parse_all(cmd.value))
      if ((d.tag & 0x7F) == 0x01 && d.value.size() == 3 && d.value[1] == 0x01) return Bytes(d.value.begin(), d.value.end());
  } catch (const DecodeError&) {
  }
  return std::nullopt;
}

}  // namespace

Handset::Handset(std::string msisdn, CardLink card, std::function<void(const std::string&, ByteView)> send_mo)
    : msisdn_(std::move(msisdn)), card_(std::move(card)), send_mo_(std::move(send_mo)) {}

HandsetStats Handset::stats() const {
  std::lock_guard l(mu_);
  return stats_;
}

DeliveryOutcome Handset::deliver_mt(ByteView tpdu) {
  ota::SmsDeliver d = ota::decode_sms_deliver(tpdu);
  if (d.tp_pid != ota::kTpPidSimDataDownload || !class2(d.tp_dcs)) {
    std::lock_guard l(mu_);
    ++stats_.other_sms;
    return {};
  }
  ota::SmsPpDownload env;
  env.tpdu.assign(tpdu.begin(), tpdu.end());
  {
    std::lock_guard l(mu_);
    ++stats_.envelopes;
  }
  Bytes r = card_(ota::sms_pp_download_apdu(env));
  std::uint16_t sw = sw_of(r);
  DeliveryOutcome out;
  std::uint8_t sw1 = static_cast<std::uint8_t>(sw >> 8);
  if (sw1 == 0x61 || sw1 == 0x9F) {
    // T=0: the response data waits for GET RESPONSE (TS 102 221 7.3.1.1.4).
    Bytes gr{0x00, 0xC0, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)};
    Bytes data = card_(gr);
    {
      std::lock_guard l(mu_);
      ++stats_.get_responses;
    }
    std::uint16_t gr_sw = sw_of(data);
    if (gr_sw != 0x9000 && (gr_sw >> 8) != 0x91) {
      out.delivered = false;
    } else {
      out.report_user_data.assign(data.begin(), data.end() - 2);
      // '91 xx' after the data: a proactive command waits too (e.g. the
      // REFRESH after a switch whose PoR goes by SMS-DELIVER-REPORT).
      if ((gr_sw >> 8) == 0x91) proactive_session(gr_sw);
    }
  } else if (sw1 == 0x91) {
    proactive_session(sw);
  } else if (sw != 0x9000) {
    out.delivered = false;  // '93 00' busy, '6x xx' errors: RP-ERROR
  }
  if (!out.delivered) {
    std::lock_guard l(mu_);
    ++stats_.rp_errors;
  }
  return out;
}

bool Handset::poll() {
  // STATUS, P1 00 (no indication), P2 0C (no data returned): TS 102 221 11.1.2.
  std::uint16_t sw = sw_of(card_(Bytes{0x80, 0xF2, 0x00, 0x0C}));
  {
    std::lock_guard l(mu_);
    ++stats_.polls;
  }
  if ((sw >> 8) != 0x91) return false;
  proactive_session(sw);
  return true;
}

void Handset::proactive_session(std::uint16_t sw) {
  // Bounded: a card that keeps asking is cut off after 16 commands.
  for (int n = 0; n < 16 && (sw >> 8) == 0x91; ++n) {
    Bytes fetch{0x80, ota::kInsFetch, 0x00, 0x00, static_cast<std::uint8_t>(sw & 0xFF)};
    Bytes cmd = card_(fetch);
    {
      std::lock_guard l(mu_);
      ++stats_.fetches;
    }
    if (sw_of(cmd) != 0x9000) return;
    ByteView body(cmd.data(), cmd.size() - 2);
    Bytes tr;
    // TS 102 223 6.6.13 REFRESH (command details: number, type 01,
    // qualifier): performed as far as a handset without a radio can: the
    // terminal response says so, and the refresh is counted.
    if (auto details = refresh_details(body)) {
      tr = concat(Bytes{0x81, 0x03}, *details, Bytes{0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00});
      {
        std::lock_guard l(mu_);
        ++stats_.refreshes;
      }
      Bytes apdu = concat(Bytes{0x80, ota::kInsTerminalResponse, 0x00, 0x00, static_cast<std::uint8_t>(tr.size())}, tr);
      sw = sw_of(card_(apdu));
      continue;
    }
    try {
      ota::SendShortMessage ssm = ota::decode_send_short_message(body);
      send_mo_(msisdn_, ssm.tpdu);
      {
        std::lock_guard l(mu_);
        ++stats_.mo_sent;
      }
      tr = ota::terminal_response(ssm, 0x00);
    } catch (const DecodeError&) {
      // Not SEND SHORT MESSAGE: "command beyond terminal's capabilities"
      // (TS 102 223 8.12 '30') with the command details as received.
      tr = Bytes{0x81, 0x03, body.size() > 6 ? body[4] : std::uint8_t{1}, body.size() > 6 ? body[5] : std::uint8_t{0},
                 body.size() > 6 ? body[6] : std::uint8_t{0}, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x30};
    }
    Bytes apdu = concat(Bytes{0x80, ota::kInsTerminalResponse, 0x00, 0x00, static_cast<std::uint8_t>(tr.size())}, tr);
    sw = sw_of(card_(apdu));
  }
}

}  // namespace rsp::sim
