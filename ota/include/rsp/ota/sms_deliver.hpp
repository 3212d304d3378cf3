// The command packet over SMS (3GPP TS 31.115 4.2 / 4.3 over TS 23.040):
// SMS-DELIVER TPDUs (TS 23.040 9.2.2.1) with TP-PID '7F' (SIM data
// download), TP-DCS 'F6' (8-bit data, class 2), and a user data header with
// the Command Packet Identifier (IEI '70', empty) and, for a packet longer
// than one SMS, the concatenation IE ('00' with an 8-bit reference or '08'
// with a 16-bit one; TS 23.040 9.2.3.24.1 / .8). The CPI is in the first
// segment only. The card side reassembles; wrong references, counts and
// sequence numbers get a clear SmsError.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"

namespace rsp::ota {

struct SmsError : DecodeError {
  using DecodeError::DecodeError;
};

inline constexpr std::uint8_t kTpPidSimDataDownload = 0x7F;
inline constexpr std::uint8_t kTpDcsClass2Data = 0xF6;
inline constexpr std::uint8_t kIeiConcatenated8 = 0x00;
inline constexpr std::uint8_t kIeiConcatenated16 = 0x08;
inline constexpr std::uint8_t kIeiCommandPacket = 0x70;
inline constexpr std::uint8_t kIeiResponsePacket = 0x71;
inline constexpr std::size_t kMaxUserData = 140;  // octets, 8-bit data

// TS 23.040 9.1.2.5: address as digits (0-9, *, #, a, b, c) and type of address.
struct Address {
  std::string digits;
  std::uint8_t type = 0x81;  // unknown number, ISDN/telephony numbering plan
};

// The address field of a TPDU (TS 23.040 9.1.2.5: number of digits, type of
// address, digits in semi-octets with an 'F' fill), shared by SMS-DELIVER's
// TP-OA and SMS-SUBMIT's TP-DA. Both throw SmsError naming `field`.
void append_address_field(Bytes& out, const Address& a, const char* field);
// Reads the field at t[i] and moves i past it.
Address read_address_field(ByteView t, std::size_t& i, const char* tpdu, const char* field);

// TS 23.040 9.2.2.1.
struct SmsDeliver {
  bool tp_mms = false;  // b2: 1 = no more messages waiting
  bool tp_sri = false;  // b5: status report indication
  bool tp_rp = false;   // b7: reply path
  Address tp_oa;
  std::uint8_t tp_pid = kTpPidSimDataDownload;
  std::uint8_t tp_dcs = kTpDcsClass2Data;
  std::array<std::uint8_t, 7> tp_scts{};
  bool tp_udhi = false;  // b6: user data starts with a header
  Bytes tp_ud;           // 8-bit data, with its header when tp_udhi
};
Bytes encode_sms_deliver(const SmsDeliver& d);
SmsDeliver decode_sms_deliver(ByteView tpdu);  // throws SmsError

struct InformationElement {
  std::uint8_t iei;
  Bytes data;
};
// Splits TP-UD into its header's IEs and the rest (TS 23.040 9.2.3.24).
std::vector<InformationElement> split_user_data_header(ByteView ud, ByteView& rest);

// The command packet (from CPL on) in as many SMS-DELIVER as it needs, the
// template's fields (TP-OA, TP-SCTS...) in each. One SMS carries 137 bytes;
// longer packets are concatenated with `reference` (8-bit unless
// `reference16`); at most 255 segments.
std::vector<Bytes> command_packet_to_sms(ByteView packet, const SmsDeliver& templ, std::uint16_t reference,
                                         bool reference16 = false);

// The card side: SMS-DELIVERs in, the command packet out once complete. One
// packet at a time; a segment of another reference, a changed segment count,
// a sequence number out of range or repeated, a first segment without the
// CPI: SmsError, and the packet in progress is kept.
class CommandPacketReassembler {
 public:
  std::optional<Bytes> add(ByteView tpdu);
  bool pending() const { return total_ != 0; }
  void reset();

 private:
  std::uint16_t reference_ = 0;
  std::uint8_t total_ = 0;
  std::map<std::uint8_t, Bytes> segments_;
};

}  // namespace rsp::ota
