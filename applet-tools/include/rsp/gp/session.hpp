// The host side of a GlobalPlatform session over any apdu::Transport:
// SELECT of the security domain, INITIALIZE UPDATE and EXTERNAL
// AUTHENTICATE (GP 2.3.1 11.8 / 11.9, Amendment D 7.1-7.2, Annex E.5), then
// every command wrapped by the secure channel and 61xx answered with GET
// RESPONSE (ISO 7816-4 5.1.3; T=0 readers).
#pragma once
#include <memory>
#include <optional>

#include "rsp/apdu.hpp"
#include "rsp/gp/diversification.hpp"
#include "rsp/gp/secure_channel.hpp"

namespace rsp::gp {

struct SessionOptions {
  std::optional<std::uint8_t> scp;  // 2 or 3; absent: what the card answers
  std::uint8_t security_level = level::kCMac;
  bool s16 = false;                 // SCP03: 16-byte host challenge (S16 mode)
  Bytes host_challenge;             // empty: random (tests fix it)
  // Master keys are diversified with the card's KDD (INITIALIZE UPDATE response bytes 0..9).
  Diversification diversification = Diversification::None;
};

// A status word and its GlobalPlatform meaning (status_words.hpp).
struct CardError : std::runtime_error {
  CardError(const std::string& what, std::uint16_t sw_) : std::runtime_error(what), sw(sw_) {}
  std::uint16_t sw;
};

class Session {
 public:
  explicit Session(apdu::Transport& link) : link_(link) {}
  // Plain exchange (no secure messaging), with GET RESPONSE for 61xx and Le re-send on 6Cxx.
  apdu::Response transmit_plain(const apdu::Command& c);
  // Through the secure channel when one is open.
  apdu::Response transmit(const apdu::Command& c);
  // transmit() and throw CardError unless the SW is 9000 (or one of `also_ok`).
  apdu::Response check(const apdu::Command& c, std::initializer_list<std::uint16_t> also_ok = {});

  // SELECT by AID (empty: the default application), plain.
  apdu::Response select(ByteView aid);
  // Opens the channel with `keys`; throws CardError / SecurityError.
  void open(const StaticKeys& keys, const SessionOptions& opt = {});
  bool is_open() const { return channel_ != nullptr; }
  SecureChannel* channel() { return channel_.get(); }
  std::uint8_t scp() const { return scp_; }
  std::uint8_t scp_i() const { return i_; }
  void close() { channel_.reset(); }

 private:
  apdu::Transport& link_;
  std::unique_ptr<SecureChannel> channel_;
  std::uint8_t scp_ = 0, i_ = 0;
};

}  // namespace rsp::gp
