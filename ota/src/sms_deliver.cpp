#include "rsp/ota/sms_deliver.hpp"

#include <string>

namespace rsp::ota {

namespace {

std::string hex1(std::uint8_t v) { return to_hex(Bytes{v}, true); }

std::uint8_t digit_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  switch (c) {
    case '*': return 0xA;
    case '#': return 0xB;
    case 'a': case 'A': return 0xC;
    case 'b': case 'B': return 0xD;
    case 'c': case 'C': return 0xE;
  }
  throw SmsError(std::string("address digit '") + c + "' is not a semi-octet digit");
}

char digit_char(std::uint8_t v) { return "0123456789*#abc?"[v & 0x0F]; }

}  // namespace

void append_address_field(Bytes& out, const Address& a, const char* field) {
  if (a.digits.size() > 20) throw SmsError(std::string(field) + " has more than 20 digits");
  out.push_back(static_cast<std::uint8_t>(a.digits.size()));
  out.push_back(a.type);
  for (std::size_t i = 0; i < a.digits.size(); i += 2) {
    std::uint8_t lo = digit_value(a.digits[i]);
    std::uint8_t hi = i + 1 < a.digits.size() ? digit_value(a.digits[i + 1]) : 0x0F;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
}

Address read_address_field(ByteView t, std::size_t& i, const char* tpdu, const char* field) {
  auto need = [&](std::size_t n) {
    if (t.size() < i + n) throw SmsError(std::string(tpdu) + " truncated in " + field);
  };
  need(2);
  Address a;
  std::size_t ndigits = t[i++];
  a.type = t[i++];
  if (ndigits > 20) throw SmsError(std::string(field) + " says " + std::to_string(ndigits) + " digits, at most 20");
  need((ndigits + 1) / 2);
  for (std::size_t k = 0; k < ndigits; ++k) {
    std::uint8_t b = t[i + k / 2];
    a.digits.push_back(digit_char(k % 2 ? b >> 4 : b & 0x0F));
  }
  i += (ndigits + 1) / 2;
  return a;
}

Bytes encode_sms_deliver(const SmsDeliver& d) {
  if (d.tp_ud.size() > kMaxUserData)
    throw SmsError("TP-UD of " + std::to_string(d.tp_ud.size()) + " octets exceeds 140");
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(0x00 /* SMS-DELIVER */ | (d.tp_mms ? 0x04 : 0) | (d.tp_sri ? 0x20 : 0) |
                                          (d.tp_udhi ? 0x40 : 0) | (d.tp_rp ? 0x80 : 0)));
  append_address_field(out, d.tp_oa, "TP-OA");
  out.push_back(d.tp_pid);
  out.push_back(d.tp_dcs);
  out.insert(out.end(), d.tp_scts.begin(), d.tp_scts.end());
  out.push_back(static_cast<std::uint8_t>(d.tp_ud.size()));  // 8-bit data: UDL counts octets
  append(out, d.tp_ud);
  return out;
}

SmsDeliver decode_sms_deliver(ByteView t) {
  SmsDeliver d;
  std::size_t i = 0;
  auto need = [&](std::size_t n, const char* what) {
    if (t.size() < i + n) throw SmsError(std::string("SMS-DELIVER truncated in ") + what);
  };
  need(1, "the first octet");
  std::uint8_t first = t[i++];
  if ((first & 0x03) != 0x00) throw SmsError("TP-MTI " + std::to_string(first & 0x03) + " is not SMS-DELIVER");
  d.tp_mms = first & 0x04;
  d.tp_sri = first & 0x20;
  d.tp_udhi = first & 0x40;
  d.tp_rp = first & 0x80;
  d.tp_oa = read_address_field(t, i, "SMS-DELIVER", "TP-OA");
  need(2 + 7 + 1, "TP-PID..TP-UDL");
  d.tp_pid = t[i++];
  d.tp_dcs = t[i++];
  for (auto& b : d.tp_scts) b = t[i++];
  std::size_t udl = t[i++];
  // TS 23.038 4: 'F6' and every 8-bit coding count octets; we carry only those.
  if ((d.tp_dcs & 0xF4) != 0xF4 && (d.tp_dcs & 0xCC) != 0x04)
    throw SmsError("TP-DCS " + hex1(d.tp_dcs) + " is not 8-bit data");
  if (udl > kMaxUserData) throw SmsError("TP-UDL " + std::to_string(udl) + " exceeds 140 octets");
  if (t.size() - i < udl)
    throw SmsError("SMS-DELIVER truncated: TP-UDL says " + std::to_string(udl) + " octets, " +
                   std::to_string(t.size() - i) + " present");
  if (t.size() - i > udl)
    throw SmsError("SMS-DELIVER oversized: " + std::to_string(t.size() - i - udl) + " octets after TP-UD");
  d.tp_ud.assign(t.begin() + static_cast<std::ptrdiff_t>(i), t.end());
  return d;
}

std::vector<InformationElement> split_user_data_header(ByteView ud, ByteView& rest) {
  if (ud.empty()) throw SmsError("TP-UD is empty where a user data header is announced");
  std::size_t udhl = ud[0];
  if (udhl + 1 > ud.size())
    throw SmsError("UDHL " + std::to_string(udhl) + " runs past TP-UD (" + std::to_string(ud.size()) + " octets)");
  std::vector<InformationElement> ies;
  std::size_t i = 1;
  while (i < udhl + 1) {
    if (i + 2 > udhl + 1) throw SmsError("user data header: an IE is cut after its IEI");
    std::uint8_t iei = ud[i], len = ud[i + 1];
    if (i + 2 + len > udhl + 1) throw SmsError("user data header: IE " + hex1(iei) + " runs past UDHL");
    ies.push_back({iei, Bytes(ud.begin() + static_cast<std::ptrdiff_t>(i + 2),
                              ud.begin() + static_cast<std::ptrdiff_t>(i + 2 + len))});
    i += 2u + len;
  }
  rest = ud.subspan(udhl + 1);
  return ies;
}

std::vector<Bytes> command_packet_to_sms(ByteView packet, const SmsDeliver& templ, std::uint16_t reference,
                                         bool reference16) {
  std::vector<Bytes> out;
  SmsDeliver d = templ;
  d.tp_udhi = true;
  d.tp_pid = kTpPidSimDataDownload;
  d.tp_dcs = kTpDcsClass2Data;
  const Bytes cpi{kIeiCommandPacket, 0x00};
  if (packet.size() + 3 <= kMaxUserData) {
    d.tp_ud = concat(Bytes{0x02}, cpi, packet);
    out.push_back(encode_sms_deliver(d));
    return out;
  }
  std::size_t concat_ie = reference16 ? 6 : 5;
  std::size_t first_room = kMaxUserData - 1 - concat_ie - 2, room = kMaxUserData - 1 - concat_ie;
  std::size_t total = 1 + (packet.size() - first_room + room - 1) / room;
  if (total > 255) throw SmsError("command packet of " + std::to_string(packet.size()) + " bytes needs more than 255 SMS");
  std::size_t off = 0;
  for (std::size_t seq = 1; seq <= total; ++seq) {
    std::size_t n = std::min(seq == 1 ? first_room : room, packet.size() - off);
    Bytes ie = reference16 ? Bytes{kIeiConcatenated16, 4, static_cast<std::uint8_t>(reference >> 8),
                                   static_cast<std::uint8_t>(reference), static_cast<std::uint8_t>(total),
                                   static_cast<std::uint8_t>(seq)}
                           : Bytes{kIeiConcatenated8, 3, static_cast<std::uint8_t>(reference),
                                   static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(seq)};
    if (seq == 1) append(ie, cpi);
    d.tp_ud = concat(Bytes{static_cast<std::uint8_t>(ie.size())}, ie, packet.subspan(off, n));
    out.push_back(encode_sms_deliver(d));
    off += n;
  }
  return out;
}

void CommandPacketReassembler::reset() {
  reference_ = 0;
  total_ = 0;
  segments_.clear();
}

std::optional<Bytes> CommandPacketReassembler::add(ByteView tpdu) {
  SmsDeliver d = decode_sms_deliver(tpdu);
  if (d.tp_pid != kTpPidSimDataDownload)
    throw SmsError("TP-PID " + hex1(d.tp_pid) + " is not SIM data download (7F)");
  if (!d.tp_udhi) throw SmsError("SMS-PP data download without a user data header (TP-UDHI 0)");
  ByteView rest;
  auto ies = split_user_data_header(d.tp_ud, rest);
  bool cpi = false, concatenated = false;
  std::uint16_t ref = 0;
  std::uint8_t total = 0, seq = 0;
  for (const auto& ie : ies) {
    if (ie.iei == kIeiCommandPacket) {
      if (!ie.data.empty()) throw SmsError("the CPI (IEI 70) must be empty");
      cpi = true;
    } else if (ie.iei == kIeiConcatenated8 || ie.iei == kIeiConcatenated16) {
      std::size_t want = ie.iei == kIeiConcatenated8 ? 3 : 4;
      if (ie.data.size() != want) throw SmsError("concatenation IE " + hex1(ie.iei) + " has length " + std::to_string(ie.data.size()));
      if (concatenated) throw SmsError("two concatenation IEs in one SMS");
      concatenated = true;
      ref = want == 3 ? ie.data[0] : static_cast<std::uint16_t>(ie.data[0] << 8 | ie.data[1]);
      total = ie.data[want - 2];
      seq = ie.data[want - 1];
    }
  }
  if (!concatenated) {
    if (!cpi) throw SmsError("no Command Packet Identifier (IEI 70) in the user data header");
    if (pending()) throw SmsError("a single-SMS packet while concatenated packet " + std::to_string(reference_) + " is incomplete");
    return Bytes(rest.begin(), rest.end());
  }
  if (total == 0) throw SmsError("concatenation: 0 segments");
  if (seq == 0 || seq > total)
    throw SmsError("concatenation: sequence number " + std::to_string(seq) + " of " + std::to_string(total));
  if (seq == 1 && !cpi) throw SmsError("concatenation: the first segment has no CPI (IEI 70)");
  if (pending()) {
    if (ref != reference_)
      throw SmsError("concatenation reference " + std::to_string(ref) + ", expected " + std::to_string(reference_));
    if (total != total_)
      throw SmsError("concatenation reference " + std::to_string(ref) + ": " + std::to_string(total) +
                     " segments, earlier ones said " + std::to_string(total_));
    if (segments_.count(seq)) throw SmsError("concatenation reference " + std::to_string(ref) + ": segment " +
                                             std::to_string(seq) + " twice");
  } else {
    reference_ = ref;
    total_ = total;
  }
  segments_[seq] = Bytes(rest.begin(), rest.end());
  if (segments_.size() < total_) return std::nullopt;
  Bytes packet;
  for (auto& [k, v] : segments_) append(packet, v);
  reset();
  return packet;
}

}  // namespace rsp::ota
