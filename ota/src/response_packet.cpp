#include "rsp/ota/response_packet.hpp"

#include <stdexcept>
#include <string>

#include "rsp/ota/algorithms.hpp"

namespace rsp::ota {

namespace {

constexpr auto kHeaderError = ResponseStatus::UnidentifiedSecurityError;
constexpr std::size_t kFixed = 6;  // RPL RHL TAR

struct PorProtection {
  bool cipher = false;
  RcCcDs mode = RcCcDs::None;
  Algorithm cipher_algo = Algorithm::Implicit, checksum_algo = Algorithm::Implicit;
  std::size_t checksum_len = 0;
};

PorProtection protection_of(const CommandHeader& c, const KeySet& keys, std::uint8_t status, std::size_t requested) {
  PorProtection p;
  if (status == static_cast<std::uint8_t>(ResponseStatus::UnidentifiedSecurityError)) return p;
  p.cipher = c.spi.por_ciphered;
  p.mode = c.spi.por_rc_cc_ds;
  if (p.cipher) {
    p.cipher_algo = resolve_algorithm(decode_kic(c.kic).algorithm, keys.cipher, "KIc");
    require_cipher_key(p.cipher_algo, keys.kic);
  }
  if (p.mode != RcCcDs::None) {
    if (p.mode == RcCcDs::Ds) throw PacketError(kHeaderError, "digital signatures (DS) are not supported");
    p.checksum_algo = resolve_algorithm(decode_kid(c.kid, p.mode).algorithm, keys.checksum, "KID");
    p.checksum_len = checksum_length(p.mode, p.checksum_algo, requested);
    if (p.mode == RcCcDs::Cc) require_cipher_key(p.checksum_algo, keys.kid);
  }
  return p;
}

Bytes checksum_of(const PorProtection& p, const KeySet& keys, ByteView data) {
  return p.mode == RcCcDs::Rc ? redundancy_check(p.checksum_algo, data)
                              : cryptographic_checksum(p.checksum_algo, keys.kid, data, p.checksum_len);
}

}  // namespace

Bytes build_response_packet(const ResponsePacket& r, const CommandHeader& command, const KeySet& keys,
                            std::size_t checksum_length) {
  if (r.cntr > kMaxCounter) throw std::invalid_argument("CNTR does not fit 5 bytes");
  PorProtection p = protection_of(command, keys, r.status, checksum_length);
  std::size_t pad = 0;
  if (p.cipher) {
    std::size_t bs = cipher_block_size(p.cipher_algo);
    pad = (bs - (7 + p.checksum_len + r.additional_data.size()) % bs) % bs;
  }
  std::size_t rhl = 10 + p.checksum_len;
  std::size_t rpl = 1 + rhl + r.additional_data.size() + pad;
  if (rpl > 0xFFFF) throw PacketError(kHeaderError, "response packet too long for RPL");
  Bytes head{static_cast<std::uint8_t>(rpl >> 8), static_cast<std::uint8_t>(rpl), static_cast<std::uint8_t>(rhl),
             r.tar[0], r.tar[1], r.tar[2]};
  Bytes counters;
  for (int s = 32; s >= 0; s -= 8) counters.push_back(static_cast<std::uint8_t>(r.cntr >> s));
  counters.push_back(static_cast<std::uint8_t>(pad));
  counters.push_back(r.status);
  Bytes data = r.additional_data;
  data.resize(data.size() + pad, 0);
  Bytes sum;
  if (p.mode != RcCcDs::None) sum = checksum_of(p, keys, concat(ByteView(kResponsePacketUdh), head, counters, data));
  Bytes rest = concat(counters, sum, data);
  if (p.cipher) rest = encipher(p.cipher_algo, keys.kic, rest);
  return concat(head, rest);
}

OpenedResponsePacket open_response_packet(ByteView packet, const CommandHeader& command, const KeySet& keys) {
  // With the UDH: '02 71 00' and an RPL that fits exactly what follows it.
  if (packet.size() >= 5 && packet[0] == 0x02 && packet[1] == 0x71 && packet[2] == 0x00 &&
      static_cast<std::size_t>(packet[3] << 8 | packet[4]) == packet.size() - 5)
    packet = packet.subspan(3);
  if (packet.size() < kFixed + 7)
    throw PacketError(kHeaderError, "response packet truncated: " + std::to_string(packet.size()) +
                                        " bytes, RPL..status alone is 13");
  OpenedResponsePacket o;
  o.rpl = static_cast<std::uint16_t>(packet[0] << 8 | packet[1]);
  o.rhl = packet[2];
  if (o.rpl > packet.size() - 2)
    throw PacketError(kHeaderError, "response packet truncated: RPL says " + std::to_string(o.rpl) + " bytes after it, " +
                                        std::to_string(packet.size() - 2) + " present");
  if (o.rpl < packet.size() - 2)
    throw PacketError(kHeaderError, "response packet oversized: " + std::to_string(packet.size() - 2 - o.rpl) +
                                        " bytes after the RPL's end");
  if (o.rhl < 10) throw PacketError(kHeaderError, "RHL " + std::to_string(o.rhl) + " is below 10 (TAR..status)");
  if (1u + o.rhl > o.rpl) throw PacketError(kHeaderError, "RHL " + std::to_string(o.rhl) + " runs past RPL");
  o.packet.tar = {packet[3], packet[4], packet[5]};
  std::size_t sum_len = o.rhl - 10u;

  PorProtection p = protection_of(command, keys, 0, sum_len);
  // TS 102 225 5.2: a 06 comes unciphered and without RC/CC/DS whatever the
  // SPI asked for; recognise it by its shape: RHL 10, PCNTR 0 and status 06
  // in clear, and, where the SPI asks for ciphering, exactly 13 bytes (a
  // ciphered PoR is 6 + whole blocks, never 13).
  if ((p.cipher || p.mode != RcCcDs::None) && sum_len == 0 && (!p.cipher || packet.size() == kFixed + 7) &&
      packet[kFixed + 6] == static_cast<std::uint8_t>(ResponseStatus::UnidentifiedSecurityError) && packet[kFixed + 5] == 0) {
    p = PorProtection{};
    o.secured = false;
  }
  if (p.checksum_len != sum_len)
    throw PacketError(kHeaderError, "RHL " + std::to_string(o.rhl) + " does not fit the " +
                                        std::to_string(p.checksum_len) + "-byte RC/CC/DS the SPI asks for");
  ByteView rest = packet.subspan(kFixed);
  Bytes clear = p.cipher ? decipher(p.cipher_algo, keys.kic, rest) : Bytes(rest.begin(), rest.end());
  if (clear.size() < 7 + sum_len)
    throw PacketError(p.cipher ? ResponseStatus::CipheringError : kHeaderError, "response packet truncated after RHL");
  for (std::size_t i = 0; i < 5; ++i) o.packet.cntr = (o.packet.cntr << 8) | clear[i];
  o.pcntr = clear[5];
  o.packet.status = clear[6];
  o.rc_cc_ds.assign(clear.begin() + 7, clear.begin() + 7 + static_cast<std::ptrdiff_t>(sum_len));
  Bytes data(clear.begin() + 7 + static_cast<std::ptrdiff_t>(sum_len), clear.end());
  if (p.mode != RcCcDs::None) {
    Bytes covered = concat(ByteView(kResponsePacketUdh), packet.first(kFixed), ByteView(clear).first(7), data);
    if (!equal_ct(checksum_of(p, keys, covered), o.rc_cc_ds))
      throw PacketError(ResponseStatus::RcCcDsFailed,
                        std::string("PoR ") + (p.mode == RcCcDs::Rc ? "RC" : "CC") + " does not verify");
  }
  if (!p.cipher && o.pcntr != 0)
    throw PacketError(ResponseStatus::CipheringError, "PCNTR " + std::to_string(o.pcntr) + " on a PoR that is not ciphered");
  if (o.pcntr > data.size())
    throw PacketError(ResponseStatus::CipheringError, "PCNTR " + std::to_string(o.pcntr) +
                                                          " is larger than the additional data (" +
                                                          std::to_string(data.size()) + " bytes)");
  o.padding.assign(data.end() - o.pcntr, data.end());
  data.resize(data.size() - o.pcntr);
  o.packet.additional_data = std::move(data);
  return o;
}

}  // namespace rsp::ota
