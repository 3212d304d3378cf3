// A scripted card for LPA tests: records every C-APDU and answers from a
// queue, or through a handler.
#pragma once
#include <deque>
#include <functional>
#include <stdexcept>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::lpa::test {

class FakeTransport : public apdu::Transport {
 public:
  std::vector<Bytes> sent;
  std::deque<Bytes> replies;                   // used when handler is empty
  std::function<Bytes(const Bytes&)> handler;  // C-APDU -> R-APDU

  Bytes transmit(ByteView capdu) override {
    sent.emplace_back(capdu.begin(), capdu.end());
    if (handler) return handler(sent.back());
    if (replies.empty()) throw std::runtime_error("FakeTransport: no reply scripted for " + to_hex(capdu, true));
    Bytes r = replies.front();
    replies.pop_front();
    return r;
  }
  Bytes reset() override { return from_hex("3B00"); }

  std::vector<std::string> sent_hex() const {
    std::vector<std::string> out;
    for (const auto& s : sent) out.push_back(to_hex(s, true));
    return out;
  }
};

}  // namespace rsp::lpa::test
