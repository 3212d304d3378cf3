// Card-side links for simulated cards (SGP.22 eUICC now, other UICCs later):
// the vsmartcard "vpcd" wire format over TCP, the same framing as a small
// server for test clients, and a client Transport for that server.
//
// Wire format (both directions): 2-byte big-endian length, then payload.
// A 1-byte payload from the reader side is control: 00 power off, 01 power on,
// 02 reset, 04 get ATR (answered with the framed ATR). Anything longer is a
// C-APDU, answered with one framed R-APDU.
#pragma once
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::sim::vpcd {

struct LinkError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr std::uint16_t kDefaultVpcdPort = 35963;
inline constexpr std::uint8_t kPowerOff = 0x00, kPowerOn = 0x01, kReset = 0x02, kGetAtr = 0x04;

// Frame I/O on a connected stream socket. write_frame throws LinkError;
// read_frame returns nullopt on orderly EOF, throws LinkError otherwise.
// `stop` (optional) is polled every 200 ms while waiting for the first byte.
void write_frame(int fd, ByteView payload);
std::optional<Bytes> read_frame(int fd, const std::atomic<bool>* stop = nullptr);

// TCP_NODELAY on; TCP_QUICKACK re-armed by read_frame before every recv.
void tune_socket(int fd);

// One card in a slot: turns each frame from the reader side into the card's
// answer (nullopt: no answer, as for power on/off/reset). Power on, power off
// and reset call card.reset() (volatile state is lost); get ATR answers the
// ATR of the last reset without touching the card (pcscd polls it ~every
// 400 ms). Malformed APDUs are answered by the card itself.
class Slot {
 public:
  explicit Slot(apdu::Transport& card) : card_(card), atr_(card.reset()) {}
  std::optional<Bytes> handle_frame(ByteView payload);
  apdu::Transport& card() { return card_; }

 private:
  apdu::Transport& card_;
  Bytes atr_;
};

// Card side of Debian's vsmartcard-vpcd: connects to the driver's TCP port
// and serves frames until `stop` is set. When the connection drops it
// reconnects, at most `max_attempts` failed attempts in a row (0: forever),
// `retry_ms` apart. Returns 0 when stopped, 1 when it gave up.
struct VpcdClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultVpcdPort;
  int max_attempts = 30;
  int retry_ms = 1000;
};
int run_vpcd_client(Slot& slot, const VpcdClientOptions& opt, const std::atomic<bool>& stop);

// "HOST:PORT" of a link option (--vpcd, --tcp of the simulator tools): the
// last colon splits (so "::1:35963" works); false when there is none, the
// host is empty or the port is not a number up to 65535.
bool split_host_port(const std::string& s, std::string& host, std::uint16_t& port);

// The same framing as a TCP server (for test clients, or for a reader that
// dials the card): one client at a time. listen() binds (port 0 picks one)
// and returns the bound port; serve() loops until `stop`.
class TcpServer {
 public:
  TcpServer() = default;
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  void serve(Slot& slot, const std::atomic<bool>& stop);

 private:
  int listen_fd_ = -1;
};

// Client for TcpServer (or anything speaking the framing): an apdu::Transport.
// reset() sends 02 then 04 and returns the ATR.
class TcpTransport : public apdu::Transport {
 public:
  TcpTransport(const std::string& host, std::uint16_t port);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;
  Bytes transmit(ByteView command_apdu) override;
  Bytes reset() override;

 private:
  int fd_ = -1;
};

}  // namespace rsp::sim::vpcd
