// APDUs over TCP to an eUICC simulator's bridge: every message, both ways, is
// a 2-byte big-endian length followed by that many bytes. A C-APDU goes out
// as is and the R-APDU (data || SW1 SW2) comes back. reset() sends the 1-byte
// control payloads 02 (reset, no answer) then 04 (get ATR, answered with the
// framed ATR) and returns the ATR: the convention of vsmartcard's vpcd wire
// format.
#pragma once
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "rsp/apdu.hpp"

namespace rsp::lpa {

struct TransportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class TcpTransport : public apdu::Transport {
 public:
  // Connects at once; throws TransportError.
  TcpTransport(const std::string& host, std::uint16_t port,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));
  // "HOST:PORT" ("[::1]:PORT" for IPv6).
  static TcpTransport connect(const std::string& host_port,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));
  ~TcpTransport() override;
  TcpTransport(TcpTransport&& o) noexcept;
  TcpTransport& operator=(TcpTransport&&) = delete;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;

 private:
  void send_frame(ByteView payload);
  Bytes recv_frame();
  int fd_ = -1;
};

}  // namespace rsp::lpa
