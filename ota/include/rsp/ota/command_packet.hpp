// The Command Packet of ETSI TS 102 225 5.1 in its SMS form (3GPP TS 31.115
// 4.2: CPI is the UDH IEI '70', so the packet starts at CPL):
//
//   CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC/DS | secured data [padding]
//
// CPL counts from CHL to the end; CHL from SPI to the end of RC/CC/DS (13 +
// its length). When the SPI asks for ciphering, everything from CNTR on is
// ciphered, padded with zeros to the block size, and PCNTR says how many
// padding octets there are. The RC/CC/DS covers CPL .. PCNTR and the secured
// data with its padding (TS 31.115 4.2: CPL and CHL included; the UDH not).
#pragma once
#include <cstdint>

#include "rsp/bytes.hpp"
#include "rsp/ota/key_set.hpp"
#include "rsp/ota/security_parameters.hpp"

namespace rsp::ota {

inline constexpr std::uint64_t kMaxCounter = 0xFFFFFFFFFFull;  // CNTR is 5 bytes
inline constexpr std::size_t kCommandHeaderFixed = 10;       // CPL CHL SPI KIc KID TAR
inline constexpr std::size_t kMaxCommandPacket = 2 + 0xFFFF;

struct CommandHeader {
  Spi spi;
  std::uint8_t kic = 0, kid = 0;
  Tar tar{};
  bool operator==(const CommandHeader&) const = default;
};

struct CommandPacket {
  CommandHeader header;
  std::uint64_t cntr = 0;
  Bytes secured_data;               // the application's data in clear (e.g. a TS 102 226 command script)
  std::size_t checksum_length = 0;  // 0: the algorithm's own (AES-CMAC may be 4 instead of 8)
};

// Throws PacketError (06: keys or algorithms that do not fit the KIc/KID;
// also a packet longer than CPL can say) or std::invalid_argument.
Bytes build_command_packet(const CommandPacket& p, const KeySet& keys);

// The clear part of a received packet. Throws PacketError(06) when the
// lengths do not add up: truncated (fewer bytes than CPL says), oversized
// (more), CHL not 13 + the RC/CC/DS length, reserved SPI bits.
struct CommandPacketView {
  std::uint16_t cpl = 0;
  std::uint8_t chl = 0;
  CommandHeader header;
  ByteView protected_part;  // CNTR to the end, ciphered or not
};
CommandPacketView read_command_packet(ByteView packet);
// Just the TAR, when at least CPL..TAR is there (a card routes on it even
// when the rest is wrong).
bool peek_tar(ByteView packet, Tar& tar);

struct OpenedCommandPacket {
  CommandPacketView view;
  Algorithm cipher = Algorithm::Implicit, checksum = Algorithm::Implicit;  // as resolved
  std::uint64_t cntr = 0;
  std::uint8_t pcntr = 0;
  Bytes rc_cc_ds;
  Bytes secured_data;  // without the padding
  Bytes padding;
};
// Deciphers and verifies the RC/CC. Throws PacketError: 06 (header, keys),
// 05 (ciphering: block length, PCNTR larger than the data, padding without
// ciphering), 01 (RC/CC does not verify).
OpenedCommandPacket open_command_packet(ByteView packet, const KeySet& keys);

}  // namespace rsp::ota
