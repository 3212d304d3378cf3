// The Response Packet (PoR) of ETSI TS 102 225 5.2 in its SMS form (3GPP TS
// 31.115 4.4: the user data header '02 71 00', RPI = IEI '71', then):
//
//   RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) status(1) RC/CC/DS | additional data [padding]
//
// RPL counts from RHL to the end; RHL from TAR to the end of RC/CC/DS (10 +
// its length). The command's SPI second byte says whether the PoR is
// ciphered (from CNTR on) and which RC/CC/DS it carries, with the command's
// KIc/KID. The RC/CC/DS covers the UDH '02 71 00', RPL .. status and the
// additional data with its padding (TS 31.115 4.4). Status 06 goes
// unciphered and without RC/CC/DS whatever the SPI asked (TS 102 225 5.2).
#pragma once
#include <cstdint>

#include "rsp/bytes.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/key_set.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::ota {

inline constexpr std::uint8_t kResponsePacketUdh[3] = {0x02, 0x71, 0x00};  // UDHL, IEI RPI, IEDL 0

struct ResponsePacket {
  Tar tar{};
  std::uint64_t cntr = 0;
  std::uint8_t status = 0;  // a ResponseStatus, or what a card sent
  Bytes additional_data;    // e.g. a TS 102 226 response script
};

// The PoR for `command` (its SPI second byte, KIc and KID). `checksum_length`
// 0: the algorithm's own. Throws PacketError / std::invalid_argument.
Bytes build_response_packet(const ResponsePacket& r, const CommandHeader& command, const KeySet& keys,
                            std::size_t checksum_length = 0);

struct OpenedResponsePacket {
  std::uint16_t rpl = 0;
  std::uint8_t rhl = 0;
  ResponsePacket packet;
  std::uint8_t pcntr = 0;
  Bytes rc_cc_ds;
  Bytes padding;
  bool secured = true;  // false: an unsecured 06 where the SPI asked for a secured PoR
};
// Reads, deciphers and verifies a PoR to `command`. Accepts the packet with
// or without the leading '02 71 00'. Throws PacketError: 06 for lengths that
// do not add up (truncated, oversized, RHL wrong), 05 for ciphering and
// padding, 01 for an RC/CC that does not verify.
OpenedResponsePacket open_response_packet(ByteView packet, const CommandHeader& command, const KeySet& keys);

}  // namespace rsp::ota
