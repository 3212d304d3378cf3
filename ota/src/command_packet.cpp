#include "rsp/ota/command_packet.hpp"

#include <stdexcept>
#include <string>

#include "rsp/ota/algorithms.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::ota {

namespace {

constexpr auto kHeaderError = ResponseStatus::UnidentifiedSecurityError;

void put_counter(Bytes& out, std::uint64_t cntr) {
  for (int s = 32; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(cntr >> s));
}

std::uint64_t get_counter(ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 5; ++i) v = (v << 8) | b[i];
  return v;
}

// The algorithm and RC/CC/DS length a header asks for, with this key set.
struct Protection {
  Algorithm cipher = Algorithm::Implicit, checksum = Algorithm::Implicit;
  std::size_t checksum_len = 0;
};

Protection protection_of(const CommandHeader& h, const KeySet& keys, std::size_t requested_len) {
  Protection p;
  if (h.spi.ciphering) {
    p.cipher = resolve_algorithm(decode_kic(h.kic).algorithm, keys.cipher, "KIc");
    require_cipher_key(p.cipher, keys.kic);
  }
  if (h.spi.rc_cc_ds != RcCcDs::None) {
    if (h.spi.rc_cc_ds == RcCcDs::Ds)
      throw PacketError(kHeaderError, "digital signatures (DS) are not supported");
    p.checksum = resolve_algorithm(decode_kid(h.kid, h.spi.rc_cc_ds).algorithm, keys.checksum, "KID");
    p.checksum_len = checksum_length(h.spi.rc_cc_ds, p.checksum, requested_len);
    if (h.spi.rc_cc_ds == RcCcDs::Cc) require_cipher_key(p.checksum, keys.kid);
  }
  return p;
}

Bytes checksum_of(RcCcDs mode, const Protection& p, const KeySet& keys, ByteView data) {
  return mode == RcCcDs::Rc ? redundancy_check(p.checksum, data)
                            : cryptographic_checksum(p.checksum, keys.kid, data, p.checksum_len);
}

}  // namespace

Bytes build_command_packet(const CommandPacket& p, const KeySet& keys) {
  const CommandHeader& h = p.header;
  if (p.cntr > kMaxCounter) throw std::invalid_argument("CNTR does not fit 5 bytes");
  Protection prot = protection_of(h, keys, p.checksum_length);

  // Padding (TS 102 225 5.1.1): zeros so that CNTR .. end fills whole blocks.
  std::size_t pad = 0;
  if (h.spi.ciphering) {
    std::size_t bs = cipher_block_size(prot.cipher);
    std::size_t clear = 6 + prot.checksum_len + p.secured_data.size();
    pad = (bs - clear % bs) % bs;
  }
  std::size_t chl = 13 + prot.checksum_len;
  std::size_t cpl = 1 + chl + p.secured_data.size() + pad;
  if (cpl > 0xFFFF) throw PacketError(kHeaderError, "command packet too long for CPL (" + std::to_string(cpl) + " bytes)");

  auto spi = h.spi.encode();
  Bytes head{static_cast<std::uint8_t>(cpl >> 8), static_cast<std::uint8_t>(cpl), static_cast<std::uint8_t>(chl),
             spi[0], spi[1], h.kic, h.kid, h.tar[0], h.tar[1], h.tar[2]};
  Bytes counters;
  put_counter(counters, p.cntr);
  counters.push_back(static_cast<std::uint8_t>(pad));
  Bytes data = p.secured_data;
  data.resize(data.size() + pad, 0);

  Bytes sum;
  if (h.spi.rc_cc_ds != RcCcDs::None) sum = checksum_of(h.spi.rc_cc_ds, prot, keys, concat(head, counters, data));

  Bytes protected_part = concat(counters, sum, data);
  if (h.spi.ciphering) protected_part = encipher(prot.cipher, keys.kic, protected_part);
  return concat(head, protected_part);
}

bool peek_tar(ByteView packet, Tar& tar) {
  if (packet.size() < kCommandHeaderFixed) return false;
  tar = {packet[7], packet[8], packet[9]};
  return true;
}

CommandPacketView read_command_packet(ByteView packet) {
  if (packet.size() < kCommandHeaderFixed)
    throw PacketError(kHeaderError, "command packet truncated: " + std::to_string(packet.size()) +
                                        " bytes, the header alone (CPL..TAR) is 10");
  CommandPacketView v;
  v.cpl = static_cast<std::uint16_t>(packet[0] << 8 | packet[1]);
  v.chl = packet[2];
  if (v.cpl > packet.size() - 2)
    throw PacketError(kHeaderError, "command packet truncated: CPL says " + std::to_string(v.cpl) + " bytes after it, " +
                                        std::to_string(packet.size() - 2) + " present");
  if (v.cpl < packet.size() - 2)
    throw PacketError(kHeaderError, "command packet oversized: " + std::to_string(packet.size() - 2 - v.cpl) +
                                        " bytes after the CPL's end");
  if (v.chl < 13) throw PacketError(kHeaderError, "CHL " + std::to_string(v.chl) + " is below 13 (SPI..PCNTR)");
  if (1u + v.chl > v.cpl)
    throw PacketError(kHeaderError, "CHL " + std::to_string(v.chl) + " runs past CPL " + std::to_string(v.cpl));
  v.header.spi = Spi::decode(packet[3], packet[4]);
  v.header.kic = packet[5];
  v.header.kid = packet[6];
  v.header.tar = {packet[7], packet[8], packet[9]};
  std::size_t sum_len = v.chl - 13u;
  if (v.header.spi.rc_cc_ds == RcCcDs::None && sum_len != 0)
    throw PacketError(kHeaderError, "CHL " + std::to_string(v.chl) + " announces an RC/CC/DS the SPI does not ask for");
  if (v.header.spi.rc_cc_ds != RcCcDs::None && sum_len == 0)
    throw PacketError(kHeaderError, "CHL 13 leaves no room for the RC/CC/DS the SPI asks for");
  v.protected_part = packet.subspan(kCommandHeaderFixed);
  return v;
}

OpenedCommandPacket open_command_packet(ByteView packet, const KeySet& keys) {
  OpenedCommandPacket o;
  o.view = read_command_packet(packet);
  const CommandHeader& h = o.view.header;
  std::size_t sum_len = o.view.chl - 13u;
  Protection prot;
  try {
    prot = protection_of(h, keys, sum_len);
  } catch (const PacketError& e) {
    throw PacketError(e.status, "CHL " + std::to_string(o.view.chl) + ": " + e.what());
  }
  if (prot.checksum_len != sum_len)
    throw PacketError(kHeaderError, "CHL " + std::to_string(o.view.chl) + " does not fit a " +
                                        std::string(algorithm_name(prot.checksum)) + " RC/CC of " +
                                        std::to_string(prot.checksum_len) + " bytes");
  o.cipher = prot.cipher;
  o.checksum = prot.checksum;

  Bytes clear = h.spi.ciphering ? decipher(prot.cipher, keys.kic, o.view.protected_part)
                                : Bytes(o.view.protected_part.begin(), o.view.protected_part.end());
  if (clear.size() < 6 + sum_len)
    throw PacketError(h.spi.ciphering ? ResponseStatus::CipheringError : kHeaderError,
                      "command packet truncated: " + std::to_string(clear.size()) + " bytes from CNTR on, CHL needs " +
                          std::to_string(6 + sum_len));
  o.cntr = get_counter(clear);
  o.pcntr = clear[5];
  o.rc_cc_ds.assign(clear.begin() + 6, clear.begin() + 6 + static_cast<std::ptrdiff_t>(sum_len));
  Bytes data(clear.begin() + 6 + static_cast<std::ptrdiff_t>(sum_len), clear.end());
  // Integrity first: deciphered garbage has a random PCNTR, and the RC/CC
  // covers PCNTR and the padding.
  if (h.spi.rc_cc_ds != RcCcDs::None) {
    Bytes covered(packet.begin(), packet.begin() + kCommandHeaderFixed);
    append(covered, ByteView(clear).first(6));
    append(covered, data);
    Bytes expect = checksum_of(h.spi.rc_cc_ds, prot, keys, covered);
    if (!equal_ct(expect, o.rc_cc_ds))
      throw PacketError(ResponseStatus::RcCcDsFailed,
                        std::string(h.spi.rc_cc_ds == RcCcDs::Rc ? "RC" : "CC") + " does not verify");
  }
  if (!h.spi.ciphering && o.pcntr != 0)
    throw PacketError(ResponseStatus::CipheringError,
                      "PCNTR " + std::to_string(o.pcntr) + " on a packet that is not ciphered");
  if (o.pcntr > data.size())
    throw PacketError(ResponseStatus::CipheringError, "PCNTR " + std::to_string(o.pcntr) +
                                                          " is larger than the secured data (" +
                                                          std::to_string(data.size()) + " bytes)");
  if (h.spi.ciphering && o.pcntr >= cipher_block_size(prot.cipher))
    throw PacketError(ResponseStatus::CipheringError, "PCNTR " + std::to_string(o.pcntr) +
                                                          " is a whole block or more: not padding to the block size");

  o.padding.assign(data.end() - o.pcntr, data.end());
  data.resize(data.size() - o.pcntr);
  o.secured_data = std::move(data);
  return o;
}

}  // namespace rsp::ota
