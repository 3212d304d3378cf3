// The terminal-card side of SMS-PP data download (3GPP TS 31.111 7.1.1,
// COMPREHENSION-TLVs of ETSI TS 102 223 8 / 9.3):
//
//   ENVELOPE (SMS-PP download) 80 C2 00 00 Lc:
//     D1 len { 82 02 83 81 (device identities: network -> UICC),
//              [06 len TON/NPI + BCD (address of the service centre)],
//              8B len SMS-TPDU (SMS-DELIVER) }
//
// and the proactive command the card uses to send its PoR by SMS-SUBMIT
// (TS 31.111 6.6.9 SEND SHORT MESSAGE; TERMINAL RESPONSE 6.8):
//
//   D0 len { 81 03 nn 13 00 (command details), 82 02 81 83 (UICC -> network),
//            [06 address], 8B len SMS-TPDU (SMS-SUBMIT) }
//
// Tags are read with or without the comprehension-required bit (b8).
#pragma once
#include <cstdint>
#include <optional>

#include "rsp/bytes.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace rsp::ota {

inline constexpr std::uint8_t kTagSmsPpDownload = 0xD1;
inline constexpr std::uint8_t kTagProactiveCommand = 0xD0;
inline constexpr std::uint8_t kInsEnvelope = 0xC2;
inline constexpr std::uint8_t kInsFetch = 0x12;
inline constexpr std::uint8_t kInsTerminalResponse = 0x14;
inline constexpr std::uint8_t kTypeSendShortMessage = 0x13;
// TS 102 223 8.7 device identities.
inline constexpr std::uint8_t kDeviceUicc = 0x81, kDeviceTerminal = 0x82, kDeviceNetwork = 0x83;

struct SmsPpDownload {
  std::optional<Address> service_centre;  // TS 102 223 8.1
  Bytes tpdu;                             // the SMS-DELIVER
};
// The ENVELOPE's data field (D1 ...) and the whole C-APDU.
Bytes encode_sms_pp_download(const SmsPpDownload& d);
Bytes sms_pp_download_apdu(const SmsPpDownload& d);
// Throws DecodeError: not D1, device identities other than network -> UICC,
// no SMS-TPDU, lengths that do not add up.
SmsPpDownload decode_sms_pp_download(ByteView envelope_data);

struct SendShortMessage {
  std::uint8_t command_number = 1;
  std::uint8_t qualifier = 0;  // b1 0: packing not required (8-bit data as given)
  std::optional<Address> address;
  Bytes tpdu;  // the SMS-SUBMIT
};
Bytes encode_send_short_message(const SendShortMessage& s);        // D0 ...
SendShortMessage decode_send_short_message(ByteView proactive);    // throws DecodeError
// TERMINAL RESPONSE data for it with a general result (00: performed successfully).
Bytes terminal_response(const SendShortMessage& s, std::uint8_t general_result = 0x00);

// TS 102 223 8.1 address: TON/NPI byte then BCD digits (F-padded).
Bytes encode_address_value(const Address& a);
Address decode_address_value(ByteView v);

}  // namespace rsp::ota
