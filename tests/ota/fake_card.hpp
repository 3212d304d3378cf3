// Test doubles for the card side of SMS-PP download, clearly not a card:
// - FakeFiles: an APDU executor over a few transparent EFs by FID (SELECT by
//   FID, READ BINARY, UPDATE BINARY), counting what it executed;
// - FakeOtaCard: the APDU face the handset talks to: ENVELOPE goes to the
//   library's SmsPpHandler, response data waits for GET RESPONSE ('61 xx'),
//   SMS-SUBMITs become proactive SEND SHORT MESSAGE ('91 xx', FETCH,
//   TERMINAL RESPONSE), as a card core would do it.
#pragma once
#include <deque>
#include <map>
#include <mutex>

#include "rsp/bytes.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/sms_pp_handler.hpp"

namespace ota_test {

struct FakeFiles {
  std::map<std::uint16_t, rsp::Bytes> efs;
  std::uint16_t current = 0x3F00;
  std::size_t executed = 0;
  std::vector<rsp::Bytes> log;

  rsp::Bytes operator()(rsp::ByteView c) {
    ++executed;
    log.emplace_back(c.begin(), c.end());
    if (c.size() < 4) return {0x67, 0x00};
    std::uint8_t ins = c[1];
    if (ins == 0xA4) {
      if (c.size() < 7 || c[4] != 2) return {0x67, 0x00};
      std::uint16_t fid = static_cast<std::uint16_t>(c[5] << 8 | c[6]);
      if (fid != 0x3F00 && !efs.count(fid)) return {0x6A, 0x82};
      current = fid;
      return {0x90, 0x00};
    }
    auto ef = efs.find(current);
    if (ins == 0xB0) {
      if (ef == efs.end()) return {0x69, 0x86};
      std::size_t off = static_cast<std::size_t>(c[2] << 8 | c[3]), le = c.size() > 4 ? c[4] : 0;
      if (le == 0) le = ef->second.size() - std::min(off, ef->second.size());
      if (off + le > ef->second.size()) return {0x6B, 0x00};
      rsp::Bytes out(ef->second.begin() + static_cast<std::ptrdiff_t>(off),
                     ef->second.begin() + static_cast<std::ptrdiff_t>(off + le));
      out.push_back(0x90);
      out.push_back(0x00);
      return out;
    }
    if (ins == 0xD6) {
      if (ef == efs.end()) return {0x69, 0x86};
      std::size_t off = static_cast<std::size_t>(c[2] << 8 | c[3]), lc = c[4];
      if (c.size() != 5 + lc || off + lc > ef->second.size()) return {0x67, 0x00};
      std::copy(c.begin() + 5, c.end(), ef->second.begin() + static_cast<std::ptrdiff_t>(off));
      return {0x90, 0x00};
    }
    return {0x6D, 0x00};
  }
};

class FakeOtaCard {
 public:
  explicit FakeOtaCard(rsp::ota::SmsPpHandler& h) : handler_(h) {}

  rsp::Bytes operator()(rsp::ByteView c) {
    std::lock_guard l(mu_);
    if (c.size() < 5) return {0x67, 0x00};
    switch (c[1]) {
      case rsp::ota::kInsEnvelope: {
        last_ = handler_.envelope(c.subspan(5));
        ++envelopes_;
        if (last_.sw != 0x9000) return {static_cast<std::uint8_t>(last_.sw >> 8), static_cast<std::uint8_t>(last_.sw)};
        for (auto& t : last_.sms_submits) {
          rsp::ota::SendShortMessage s;
          s.tpdu = t;
          proactive_.push_back(rsp::ota::encode_send_short_message(s));
        }
        if (!last_.response_data.empty()) {
          response_ = last_.response_data;
          return {0x61, static_cast<std::uint8_t>(response_.size())};
        }
        return pending_sw();
      }
      case 0xC0: {  // GET RESPONSE
        rsp::Bytes out = response_;
        response_.clear();
        out.push_back(0x90);
        out.push_back(0x00);
        return out;
      }
      case rsp::ota::kInsFetch: {
        if (proactive_.empty()) return {0x6F, 0x00};
        rsp::Bytes out = proactive_.front();
        proactive_.pop_front();
        out.push_back(0x90);
        out.push_back(0x00);
        return out;
      }
      case rsp::ota::kInsTerminalResponse:
        return pending_sw();
    }
    return {0x6D, 0x00};
  }

  rsp::ota::SmsPpOutcome last() {
    std::lock_guard l(mu_);
    return last_;
  }
  std::size_t envelopes() {
    std::lock_guard l(mu_);
    return envelopes_;
  }

 private:
  rsp::Bytes pending_sw() const {
    if (proactive_.empty()) return {0x90, 0x00};
    return {0x91, static_cast<std::uint8_t>(proactive_.front().size())};
  }
  std::mutex mu_;
  rsp::ota::SmsPpHandler& handler_;
  rsp::ota::SmsPpOutcome last_;
  rsp::Bytes response_;
  std::deque<rsp::Bytes> proactive_;
  std::size_t envelopes_ = 0;
};

}  // namespace ota_test
