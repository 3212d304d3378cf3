// Proactive session and the REFRESH builder (see proactive.hpp).
#include "rsp/uicc/proactive.hpp"

#include "rsp/tlv.hpp"

namespace rsp::uicc {
namespace {

apdu::Response sw_only(std::uint16_t s) { return apdu::Response{{}, s}; }

// COMPREHENSION-TLV tags (TS 102 223 9.3) are read with or without the
// comprehension-required bit (b8).
std::uint8_t simple_tag(std::uint32_t tag) { return static_cast<std::uint8_t>(tag & 0x7F); }

}  // namespace

Bytes encode_refresh(const Refresh& r) {
  Bytes body;
  // 8.6 command details (comprehension required), 8.7 device identities UICC -> terminal.
  append(body, tlv::make(0x81, Bytes{r.command_number, kTypeRefresh, static_cast<std::uint8_t>(r.mode)}));
  append(body, tlv::make(0x82, Bytes{kDeviceUicc, kDeviceTerminal}));
  if (!r.files.empty()) {
    // 8.18 file list: number of files, then each full path (2 bytes per id).
    Bytes list{static_cast<std::uint8_t>(r.files.size())};
    for (const auto& path : r.files)
      for (auto id : path) {
        list.push_back(static_cast<std::uint8_t>(id >> 8));
        list.push_back(static_cast<std::uint8_t>(id));
      }
    append(body, tlv::make(0x92, list));
  }
  if (!r.aid.empty()) append(body, tlv::make(0x2F, r.aid));  // 8.60 AID
  return tlv::make(0xD0, body);
}

TerminalResponse decode_terminal_response(ByteView data) {
  TerminalResponse t;
  t.raw.assign(data.begin(), data.end());
  bool details = false, result = false;
  for (const auto& d : tlv::parse_all(data)) {
    switch (simple_tag(d.tag)) {
      case 0x01:
        if (d.value.size() != 3) throw DecodeError("TERMINAL RESPONSE: command details of length != 3");
        t.command_number = d.value[0];
        t.type = d.value[1];
        t.qualifier = d.value[2];
        details = true;
        break;
      case 0x03:
        if (d.value.empty()) throw DecodeError("TERMINAL RESPONSE: empty result");
        t.general_result = d.value[0];
        t.additional_info.assign(d.value.begin() + 1, d.value.end());
        result = true;
        break;
      default:
        break;
    }
  }
  if (!details || !result) throw DecodeError("TERMINAL RESPONSE without command details or result");
  return t;
}

void ProactiveSession::queue(Bytes command, ResponseHandler on_response) {
  queue_.push_back(Entry{std::move(command), std::move(on_response)});
}

std::optional<std::size_t> ProactiveSession::announce() const {
  if (in_progress_ || queue_.empty()) return std::nullopt;
  return queue_.front().command.size();
}

apdu::Response ProactiveSession::fetch(const apdu::Command& c) {
  if (c.p1 != 0 || c.p2 != 0) return sw_only(apdu::sw::kIncorrectP1P2);
  // A FETCH again before the TERMINAL RESPONSE gets the same command (a
  // terminal that lost the answer may ask again).
  if (in_progress_) return apdu::Response{in_progress_->command, apdu::sw::kOk};
  if (queue_.empty()) return sw_only(apdu::sw::kNoInfo);
  const Bytes& cmd = queue_.front().command;
  // T=0 terminals give the length '91 xx' announced; a different one is
  // answered '6C xx' without fetching (ISO 7816-3 10.3.3, TS 102 221 7.3.1.1.5).
  if (c.le && *c.le != cmd.size() && *c.le != 256 && *c.le != 65536)
    return sw_only(static_cast<std::uint16_t>(0x6C00 | (cmd.size() & 0xFF)));
  in_progress_ = std::move(queue_.front());
  queue_.pop_front();
  return apdu::Response{in_progress_->command, apdu::sw::kOk};
}

apdu::Response ProactiveSession::terminal_response(const apdu::Command& c) {
  if (c.p1 != 0 || c.p2 != 0) return sw_only(apdu::sw::kIncorrectP1P2);
  if (!in_progress_) return sw_only(apdu::sw::kConditionsNotSatisfied);
  TerminalResponse t;
  try {
    t = decode_terminal_response(c.data);
  } catch (const DecodeError&) {
    return sw_only(apdu::sw::kWrongData);
  }
  Entry done = std::move(*in_progress_);
  in_progress_.reset();
  if (done.on_response) done.on_response(t);
  return sw_only(apdu::sw::kOk);
}

void ProactiveSession::reset() {
  queue_.clear();
  in_progress_.reset();
}

}  // namespace rsp::uicc
