// The Response Packet (PoR) over SMS in the card-to-server direction: an
// SMS-SUBMIT (3GPP TS 23.040 9.2.2.2) with TP-PID '7F', TP-DCS 'F6' and a
// user data header with the Response Packet Identifier (IEI '71', empty),
// when the command's SPI asks for the PoR by SMS-SUBMIT (TS 31.115 4.4); and
// the OTA server's reading of it from the user data an SMSC hands over
// (SMPP deliver_sm short_message), with concatenation IEI '00'/'08'.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace rsp::ota {

// TS 23.040 9.2.2.2.
struct SmsSubmit {
  bool tp_rd = false;    // b3: reject duplicates
  bool tp_srr = false;   // b6: status report request
  bool tp_rp = false;    // b8: reply path
  std::uint8_t tp_mr = 0;
  Address tp_da;
  std::uint8_t tp_pid = kTpPidSimDataDownload;
  std::uint8_t tp_dcs = kTpDcsClass2Data;
  std::uint8_t tp_vpf = 0;  // b5b4: 0 none, 2 relative (1 octet), 1 enhanced / 3 absolute (7 octets)
  Bytes tp_vp;
  bool tp_udhi = false;
  Bytes tp_ud;  // 8-bit data, with its header when tp_udhi
};
Bytes encode_sms_submit(const SmsSubmit& s);
SmsSubmit decode_sms_submit(ByteView tpdu);  // throws SmsError

// The TP-UD of the PoR: '02 71 00' || response packet, or (longer than one
// SMS, 137 bytes) concatenated with an 8-bit reference, the RPI in the first
// segment only.
std::vector<Bytes> response_packet_to_user_data(ByteView response_packet, std::uint8_t reference);

// The OTA server side: TP-UD in (from SMS-SUBMIT or SMS-DELIVER-REPORT),
// the response packet out once complete (a single SMS at once). Segments
// are kept per originating address and reference; malformed headers and a
// first segment without the RPI give SmsError.
class ResponsePacketReassembler {
 public:
  std::optional<Bytes> add(const std::string& originator, ByteView user_data);

 private:
  struct Partial {
    std::uint8_t total = 0;
    std::map<std::uint8_t, Bytes> segments;
  };
  std::map<std::pair<std::string, std::uint16_t>, Partial> partial_;
};

}  // namespace rsp::ota
