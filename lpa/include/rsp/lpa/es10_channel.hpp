// The APDU side of ES10a/b/c (SGP.22 v2.2.2 section 5.7 and 2.5.5): a logical
// channel to the ISD-R over any rsp::apdu::Transport, and ES10 command chains
// carried in GlobalPlatform STORE DATA.
//
//   - open(): MANAGE CHANNEL (open) `00 70 00 00 01`, then SELECT by AID on the
//     new channel `0n A4 04 00 10 <ISD-R AID> 00`. If the card does not support
//     logical channels (6881 / 6D00 / 6E00 / 6A81), the basic channel 0 is used.
//   - store_data(): one ES10 command (a DER value) split into blocks of
//     block_size bytes: `8n E2 11 <block#>` for every block but the last, and
//     `8n E2 91 <block#>` for the last one (case 3, no Le). 61xx is followed by
//     GET RESPONSE `0n C0 00 00 xx` until the last part; the data of all parts
//     is concatenated. 6Cxx repeats the command with Le = xx.
//   - Success is SW1 90, 91 or 92 (91xx: proactive command pending, ETSI TS
//     102 221 10.2.1.1); anything else throws ApduError.
#pragma once
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "rsp/apdu.hpp"
#include "rsp/bytes.hpp"

namespace rsp::lpa {

// ISD-R AID (SGP.22 2.2.3).
inline constexpr std::array<std::uint8_t, 16> kIsdRAid = {0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
                                                          0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00};

// The card answered with an unexpected status word.
struct ApduError : std::runtime_error {
  ApduError(const std::string& what, std::uint16_t status, std::string cmd)
      : std::runtime_error(what), sw(status), command(std::move(cmd)) {}
  std::uint16_t sw;
  std::string command;  // "MANAGE CHANNEL", "SELECT", "STORE DATA", "GET RESPONSE"
};

struct ChannelOptions {
  std::size_t block_size = 120;  // STORE DATA block size, 1..255
  bool logical_channel = true;   // false: SELECT the ISD-R on the basic channel 0
  Bytes aid = Bytes(kIsdRAid.begin(), kIsdRAid.end());
};

class Es10Channel {
 public:
  // Throws std::invalid_argument for a block size outside 1..255.
  explicit Es10Channel(apdu::Transport& transport, ChannelOptions options = {});
  ~Es10Channel();  // closes a logical channel it opened (errors ignored)
  Es10Channel(const Es10Channel&) = delete;
  Es10Channel& operator=(const Es10Channel&) = delete;

  // Opens the logical channel and selects the ISD-R. Called by store_data()
  // when needed; calling it again while open does nothing.
  void open();
  // Closes the logical channel (MANAGE CHANNEL close); errors are ignored.
  void close() noexcept;
  bool is_open() const { return open_; }
  std::uint8_t channel() const { return channel_; }
  const ChannelOptions& options() const { return options_; }
  apdu::Transport& transport() { return transport_; }

  // Sends one ES10 command (full DER request, e.g. BF2E00) and returns the
  // complete response data (possibly empty). Throws ApduError.
  Bytes store_data(ByteView der_request);

  // One command/response with 61xx and 6Cxx handled; the channel bits of CLA
  // are set from channel(). Returns the last response with all data joined.
  apdu::Response exchange(apdu::Command command);

  // CLA byte for `base` (0x00 interindustry or 0x80 proprietary) on `channel`
  // (ISO/IEC 7816-4 5.4.1: channels 0-3 in b2b1, 4-19 in b4..b1 with b7 set).
  static std::uint8_t cla_for(std::uint8_t base, std::uint8_t channel);

 private:
  apdu::Response send_raw(const apdu::Command& command);
  apdu::Transport& transport_;
  ChannelOptions options_;
  std::uint8_t channel_ = 0;
  bool open_ = false;
  bool logical_ = false;  // channel_ was opened with MANAGE CHANNEL
};

// "9000", "6A88"... as four upper-case hex digits.
std::string sw_to_string(std::uint16_t sw);

}  // namespace rsp::lpa
