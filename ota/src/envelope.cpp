#include "rsp/ota/envelope.hpp"

#include <string>
#include <vector>

namespace rsp::ota {

namespace {

std::string hex1(std::uint8_t v) { return to_hex(Bytes{v}, true); }

// TS 102 223 annex C: one-byte length up to 127, '81 xx' up to 255.
Bytes ctlv(std::uint8_t tag, ByteView v) {
  if (v.size() > 255) throw std::invalid_argument("COMPREHENSION-TLV value over 255 bytes");
  Bytes out{tag};
  if (v.size() > 127) out.push_back(0x81);
  out.push_back(static_cast<std::uint8_t>(v.size()));
  append(out, v);
  return out;
}

struct Ctlv {
  std::uint8_t tag;  // without the CR bit
  ByteView value;
};

ByteView read_bertlv_body(ByteView in, std::uint8_t tag, const char* what) {
  if (in.size() < 2 || in[0] != tag) throw DecodeError(std::string(what) + ": expected tag " + hex1(tag));
  std::size_t pos = 1, len = in[pos++];
  if (len == 0x81) {
    if (in.size() < 3) throw DecodeError(std::string(what) + ": length cut");
    len = in[pos++];
    if (len < 0x80) throw DecodeError(std::string(what) + ": '81' length below 128");
  } else if (len > 0x7F) {
    throw DecodeError(std::string(what) + ": length byte " + hex1(static_cast<std::uint8_t>(len)));
  }
  if (in.size() - pos != len)
    throw DecodeError(std::string(what) + ": length " + std::to_string(len) + ", " + std::to_string(in.size() - pos) + " bytes");
  return in.subspan(pos);
}

std::vector<Ctlv> read_ctlvs(ByteView in, const char* what) {
  std::vector<Ctlv> out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (in.size() - pos < 2) throw DecodeError(std::string(what) + ": a TLV cut after its tag");
    std::uint8_t tag = in[pos++] & 0x7F;
    std::size_t len = in[pos++];
    if (len == 0x81) {
      if (pos >= in.size()) throw DecodeError(std::string(what) + ": length cut");
      len = in[pos++];
    } else if (len > 0x7F) {
      throw DecodeError(std::string(what) + ": length byte " + hex1(static_cast<std::uint8_t>(len)));
    }
    if (in.size() - pos < len) throw DecodeError(std::string(what) + ": TLV " + hex1(tag) + " runs past the end");
    out.push_back({tag, in.subspan(pos, len)});
    pos += len;
  }
  return out;
}

}  // namespace

Bytes encode_address_value(const Address& a) {
  Bytes v{a.type};
  for (std::size_t i = 0; i < a.digits.size(); i += 2) {
    auto d = [](char c) -> std::uint8_t {
      if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
      throw std::invalid_argument(std::string("address digit '") + c + "'");
    };
    std::uint8_t lo = d(a.digits[i]), hi = i + 1 < a.digits.size() ? d(a.digits[i + 1]) : 0x0F;
    v.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return v;
}

Address decode_address_value(ByteView v) {
  if (v.empty()) throw DecodeError("address without its TON/NPI");
  Address a;
  a.type = v[0];
  for (std::size_t i = 1; i < v.size(); ++i) {
    for (std::uint8_t nib : {static_cast<std::uint8_t>(v[i] & 0x0F), static_cast<std::uint8_t>(v[i] >> 4)}) {
      if (nib == 0x0F) break;
      a.digits.push_back("0123456789*#abc?"[nib]);
    }
  }
  return a;
}

Bytes encode_sms_pp_download(const SmsPpDownload& d) {
  Bytes body = ctlv(0x82, Bytes{kDeviceNetwork, kDeviceUicc});
  if (d.service_centre) append(body, ctlv(0x86, encode_address_value(*d.service_centre)));
  append(body, ctlv(0x8B, d.tpdu));
  return ctlv(kTagSmsPpDownload, body);
}

Bytes sms_pp_download_apdu(const SmsPpDownload& d) {
  Bytes data = encode_sms_pp_download(d);
  return concat(Bytes{0x80, kInsEnvelope, 0x00, 0x00, static_cast<std::uint8_t>(data.size())}, data);
}

SmsPpDownload decode_sms_pp_download(ByteView env) {
  ByteView body = read_bertlv_body(env, kTagSmsPpDownload, "ENVELOPE SMS-PP download");
  SmsPpDownload d;
  bool ids = false, tpdu = false;
  for (const auto& t : read_ctlvs(body, "ENVELOPE SMS-PP download")) {
    if (t.tag == 0x02) {
      if (t.value.size() != 2 || t.value[0] != kDeviceNetwork || t.value[1] != kDeviceUicc)
        throw DecodeError("SMS-PP download: device identities are not network -> UICC");
      ids = true;
    } else if (t.tag == 0x06) {
      d.service_centre = decode_address_value(t.value);
    } else if (t.tag == 0x0B) {
      d.tpdu.assign(t.value.begin(), t.value.end());
      tpdu = true;
    }
  }
  if (!ids) throw DecodeError("SMS-PP download without device identities");
  if (!tpdu) throw DecodeError("SMS-PP download without an SMS-TPDU");
  return d;
}

Bytes encode_send_short_message(const SendShortMessage& s) {
  Bytes body = ctlv(0x81, Bytes{s.command_number, kTypeSendShortMessage, s.qualifier});
  append(body, ctlv(0x82, Bytes{kDeviceUicc, kDeviceNetwork}));
  if (s.address) append(body, ctlv(0x86, encode_address_value(*s.address)));
  append(body, ctlv(0x8B, s.tpdu));
  return ctlv(kTagProactiveCommand, body);
}

SendShortMessage decode_send_short_message(ByteView p) {
  ByteView body = read_bertlv_body(p, kTagProactiveCommand, "proactive command");
  SendShortMessage s;
  bool details = false, tpdu = false;
  for (const auto& t : read_ctlvs(body, "proactive command")) {
    if (t.tag == 0x01) {
      if (t.value.size() != 3) throw DecodeError("command details of " + std::to_string(t.value.size()) + " bytes");
      if (t.value[1] != kTypeSendShortMessage) throw DecodeError("proactive command " + hex1(t.value[1]) + " is not SEND SHORT MESSAGE");
      s.command_number = t.value[0];
      s.qualifier = t.value[2];
      details = true;
    } else if (t.tag == 0x06) {
      s.address = decode_address_value(t.value);
    } else if (t.tag == 0x0B) {
      s.tpdu.assign(t.value.begin(), t.value.end());
      tpdu = true;
    }
  }
  if (!details || !tpdu) throw DecodeError("SEND SHORT MESSAGE without command details or SMS-TPDU");
  return s;
}

Bytes terminal_response(const SendShortMessage& s, std::uint8_t general_result) {
  return concat(ctlv(0x81, Bytes{s.command_number, kTypeSendShortMessage, s.qualifier}),
                ctlv(0x82, Bytes{kDeviceTerminal, kDeviceUicc}), ctlv(0x83, Bytes{general_result}));
}

}  // namespace rsp::ota
