// The proactive UICC (ETSI TS 102 221 14.7, TS 102 223 4 and 6): the card
// queues proactive commands; while one is pending, a command that ends
// normally answers '91 xx' instead of '90 00' (xx: the proactive command's
// length, TS 102 221 10.2.1.1); the terminal FETCHes it (11.2.3) and answers
// with TERMINAL RESPONSE (11.2.4), which goes back to whoever queued it.
// One proactive command at a time is in progress (TS 102 223 6.2): the next
// one is announced only after the TERMINAL RESPONSE to the current one.
//
// Builders for the commands the simulated cards send: REFRESH (TS 102 223
// 6.6.13, TS 31.111 6.4.7). SEND SHORT MESSAGE is built by the OTA library
// (rsp/ota/envelope.hpp encode_send_short_message), which owns the SMS TPDUs.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::uicc {

// TS 102 223 9.4 type of command.
inline constexpr std::uint8_t kTypeRefresh = 0x01;
inline constexpr std::uint8_t kTypeMoreTime = 0x02;
inline constexpr std::uint8_t kTypeSendShortMessage = 0x13;
// TS 102 223 8.7 device identities.
inline constexpr std::uint8_t kDeviceUicc = 0x81, kDeviceTerminal = 0x82, kDeviceNetwork = 0x83;

// TS 102 223 8.6 command qualifier of REFRESH.
enum class RefreshMode : std::uint8_t {
  NaaInitialisationAndFullFileChange = 0x00,
  FileChangeNotification = 0x01,
  NaaInitialisationAndFileChange = 0x02,
  NaaInitialisation = 0x03,
  UiccReset = 0x04,
  NaaApplicationReset = 0x05,
  NaaSessionReset = 0x06,
};

struct Refresh {
  std::uint8_t command_number = 1;
  RefreshMode mode = RefreshMode::NaaInitialisationAndFileChange;
  // TS 102 223 8.18 file list: full paths from the MF ({0x3F00, 0x7FFF,
  // 0x6F07}), for the modes with a file change notification.
  std::vector<std::vector<std::uint16_t>> files;
  Bytes aid;  // TS 102 223 8.60: the NAA the refresh is for (empty: the current one)
};
Bytes encode_refresh(const Refresh& r);  // D0 ...

// What a TERMINAL RESPONSE says (TS 102 223 6.8): command details and the
// general result (8.12 first byte; 00 performed successfully, 0x..).
struct TerminalResponse {
  std::uint8_t command_number = 0, type = 0, qualifier = 0;
  std::uint8_t general_result = 0xFF;
  Bytes additional_info;
  Bytes raw;  // the whole data field as received
};
// Throws DecodeError when command details (81) or result (83) are missing.
TerminalResponse decode_terminal_response(ByteView data);

class ProactiveSession {
 public:
  using ResponseHandler = std::function<void(const TerminalResponse&)>;

  // Queues a proactive command (D0 ...); `on_response` gets its TERMINAL
  // RESPONSE (not called if the card is reset first).
  void queue(Bytes command, ResponseHandler on_response = {});
  // The length to announce in '91 xx' (nullopt: nothing to FETCH now).
  std::optional<std::size_t> announce() const;
  // FETCH (80 12 00 00 Le): the pending command; '6F 00' with nothing to fetch
  // (TS 102 221 10.2.1.6 technical problem, no precise diagnosis: nothing
  // more precise is listed for it).
  apdu::Response fetch(const apdu::Command& c);
  // TERMINAL RESPONSE (80 14 00 00 Lc): routed to the fetched command's
  // handler. With no command fetched: '69 85'.
  apdu::Response terminal_response(const apdu::Command& c);
  // Card reset: every queued command and the one in progress are dropped.
  void reset();
  std::size_t queued() const { return queue_.size() + (in_progress_ ? 1 : 0); }

 private:
  struct Entry {
    Bytes command;
    ResponseHandler on_response;
  };
  std::deque<Entry> queue_;
  std::optional<Entry> in_progress_;  // fetched, TERMINAL RESPONSE awaited
};

}  // namespace rsp::uicc
