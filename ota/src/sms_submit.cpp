#include "rsp/ota/sms_submit.hpp"

#include <string>

namespace rsp::ota {

namespace {

std::string hex1(std::uint8_t v) { return to_hex(Bytes{v}, true); }

std::size_t vp_length(std::uint8_t vpf) { return vpf == 0 ? 0 : vpf == 2 ? 1 : 7; }

}  // namespace

Bytes encode_sms_submit(const SmsSubmit& s) {
  if (s.tp_ud.size() > kMaxUserData) throw SmsError("TP-UD of " + std::to_string(s.tp_ud.size()) + " octets exceeds 140");
  if (s.tp_vpf > 3 || s.tp_vp.size() != vp_length(s.tp_vpf)) throw SmsError("TP-VP does not match TP-VPF");
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(0x01 /* SMS-SUBMIT */ | (s.tp_rd ? 0x04 : 0) | s.tp_vpf << 3 |
                                          (s.tp_srr ? 0x20 : 0) | (s.tp_udhi ? 0x40 : 0) | (s.tp_rp ? 0x80 : 0)));
  out.push_back(s.tp_mr);
  append_address_field(out, s.tp_da, "TP-DA");
  out.push_back(s.tp_pid);
  out.push_back(s.tp_dcs);
  append(out, s.tp_vp);
  out.push_back(static_cast<std::uint8_t>(s.tp_ud.size()));
  append(out, s.tp_ud);
  return out;
}

SmsSubmit decode_sms_submit(ByteView t) {
  SmsSubmit s;
  std::size_t i = 0;
  auto need = [&](std::size_t n, const char* what) {
    if (t.size() < i + n) throw SmsError(std::string("SMS-SUBMIT truncated in ") + what);
  };
  need(2, "TP-MTI..TP-MR");
  std::uint8_t first = t[i++];
  if ((first & 0x03) != 0x01) throw SmsError("TP-MTI " + std::to_string(first & 0x03) + " is not SMS-SUBMIT");
  s.tp_rd = first & 0x04;
  s.tp_vpf = static_cast<std::uint8_t>(first >> 3 & 0x03);
  s.tp_srr = first & 0x20;
  s.tp_udhi = first & 0x40;
  s.tp_rp = first & 0x80;
  s.tp_mr = t[i++];
  s.tp_da = read_address_field(t, i, "SMS-SUBMIT", "TP-DA");
  std::size_t vpl = vp_length(s.tp_vpf);
  need(2 + vpl + 1, "TP-PID..TP-UDL");
  s.tp_pid = t[i++];
  s.tp_dcs = t[i++];
  s.tp_vp.assign(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(i + vpl));
  i += vpl;
  std::size_t udl = t[i++];
  if ((s.tp_dcs & 0xF4) != 0xF4 && (s.tp_dcs & 0xCC) != 0x04)
    throw SmsError("TP-DCS " + hex1(s.tp_dcs) + " is not 8-bit data");
  if (udl > kMaxUserData) throw SmsError("TP-UDL " + std::to_string(udl) + " exceeds 140 octets");
  if (t.size() - i != udl)
    throw SmsError("SMS-SUBMIT: TP-UDL says " + std::to_string(udl) + " octets, " + std::to_string(t.size() - i) + " present");
  s.tp_ud.assign(t.begin() + static_cast<std::ptrdiff_t>(i), t.end());
  return s;
}

std::vector<Bytes> response_packet_to_user_data(ByteView por, std::uint8_t reference) {
  const Bytes rpi{kIeiResponsePacket, 0x00};
  if (por.size() + 3 <= kMaxUserData) return {concat(Bytes{0x02}, rpi, por)};
  std::size_t first_room = kMaxUserData - 1 - 5 - 2, room = kMaxUserData - 1 - 5;
  std::size_t total = 1 + (por.size() - first_room + room - 1) / room;
  if (total > 255) throw SmsError("response packet of " + std::to_string(por.size()) + " bytes needs more than 255 SMS");
  std::vector<Bytes> out;
  std::size_t off = 0;
  for (std::size_t seq = 1; seq <= total; ++seq) {
    std::size_t n = std::min(seq == 1 ? first_room : room, por.size() - off);
    Bytes ie{kIeiConcatenated8, 3, reference, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(seq)};
    if (seq == 1) append(ie, rpi);
    out.push_back(concat(Bytes{static_cast<std::uint8_t>(ie.size())}, ie, por.subspan(off, n)));
    off += n;
  }
  return out;
}

std::optional<Bytes> ResponsePacketReassembler::add(const std::string& originator, ByteView ud) {
  ByteView rest;
  auto ies = split_user_data_header(ud, rest);
  bool rpi = false, concatenated = false;
  std::uint16_t ref = 0;
  std::uint8_t total = 0, seq = 0;
  for (const auto& ie : ies) {
    if (ie.iei == kIeiResponsePacket) {
      rpi = true;
    } else if (ie.iei == kIeiConcatenated8 || ie.iei == kIeiConcatenated16) {
      std::size_t want = ie.iei == kIeiConcatenated8 ? 3 : 4;
      if (ie.data.size() != want) throw SmsError("concatenation IE " + hex1(ie.iei) + " has length " + std::to_string(ie.data.size()));
      concatenated = true;
      ref = want == 3 ? ie.data[0] : static_cast<std::uint16_t>(ie.data[0] << 8 | ie.data[1]);
      total = ie.data[want - 2];
      seq = ie.data[want - 1];
    }
  }
  if (!concatenated) {
    if (!rpi) throw SmsError("no Response Packet Identifier (IEI 71) in the user data header");
    return Bytes(rest.begin(), rest.end());
  }
  if (total == 0 || seq == 0 || seq > total)
    throw SmsError("concatenation: sequence number " + std::to_string(seq) + " of " + std::to_string(total));
  if (seq == 1 && !rpi) throw SmsError("concatenation: the first segment has no RPI (IEI 71)");
  auto& p = partial_[{originator, ref}];
  if (p.total != 0 && p.total != total) throw SmsError("concatenation reference " + std::to_string(ref) + ": segment count changed");
  p.total = total;
  p.segments[seq] = Bytes(rest.begin(), rest.end());
  if (p.segments.size() < p.total) return std::nullopt;
  Bytes out;
  for (auto& [k, v] : p.segments) append(out, v);
  partial_.erase({originator, ref});
  return out;
}

}  // namespace rsp::ota
