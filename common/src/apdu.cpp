#include "rsp/apdu.hpp"

namespace rsp::apdu {

Command Command::parse(ByteView raw) {
  if (raw.size() < 4) throw DecodeError("C-APDU shorter than its header");
  Command c{raw[0], raw[1], raw[2], raw[3], {}, std::nullopt};
  ByteView body = raw.subspan(4);
  if (body.empty()) return c;                         // case 1
  if (body.size() == 1) {                             // case 2 short
    c.le = body[0] == 0 ? 256 : body[0];
    return c;
  }
  if (body[0] != 0) {                                 // short Lc
    std::size_t lc = body[0];
    if (body.size() == 1 + lc) {
      c.data.assign(body.begin() + 1, body.end());    // case 3 short
    } else if (body.size() == 2 + lc) {
      c.data.assign(body.begin() + 1, body.end() - 1);  // case 4 short
      c.le = body.back() == 0 ? 256 : body.back();
    } else {
      throw DecodeError("C-APDU length does not match Lc");
    }
    return c;
  }
  // Extended length: 00 followed by two bytes.
  if (body.size() == 3) {                             // case 2 extended
    std::size_t le = static_cast<std::size_t>(body[1] << 8 | body[2]);
    c.le = le == 0 ? 65536 : le;
    return c;
  }
  if (body.size() < 3) throw DecodeError("C-APDU extended length truncated");
  std::size_t lc = static_cast<std::size_t>(body[1] << 8 | body[2]);
  if (lc == 0) throw DecodeError("C-APDU extended Lc is zero");
  if (body.size() == 3 + lc) {
    c.data.assign(body.begin() + 3, body.end());
  } else if (body.size() == 5 + lc) {
    c.data.assign(body.begin() + 3, body.end() - 2);
    std::size_t le = static_cast<std::size_t>(body[3 + lc] << 8 | body[4 + lc]);
    c.le = le == 0 ? 65536 : le;
  } else {
    throw DecodeError("C-APDU length does not match extended Lc");
  }
  return c;
}

Bytes Command::encode() const {
  Bytes out{cla, ins, p1, p2};
  bool extended = data.size() > 255 || (le && *le > 256);
  if (!extended) {
    if (!data.empty()) {
      out.push_back(static_cast<std::uint8_t>(data.size()));
      append(out, data);
    }
    if (le) out.push_back(static_cast<std::uint8_t>(*le == 256 ? 0 : *le));
    return out;
  }
  out.push_back(0);
  if (!data.empty()) {
    out.push_back(static_cast<std::uint8_t>(data.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(data.size()));
    append(out, data);
  }
  if (le) {
    std::size_t l = *le == 65536 ? 0 : *le;
    out.push_back(static_cast<std::uint8_t>(l >> 8));
    out.push_back(static_cast<std::uint8_t>(l));
  }
  return out;
}

std::uint8_t Command::channel() const {
  // First interindustry values (b7 = 0): channels 0-3 in b2-b1; further
  // interindustry (b7 = 1): 4 + b4-b1.
  if (cla & 0x40) return static_cast<std::uint8_t>(4 + (cla & 0x0F));
  return cla & 0x03;
}

Response Response::parse(ByteView raw) {
  if (raw.size() < 2) throw DecodeError("R-APDU shorter than its status word");
  Response r;
  r.data.assign(raw.begin(), raw.end() - 2);
  r.sw = static_cast<std::uint16_t>(raw[raw.size() - 2] << 8 | raw.back());
  return r;
}

Bytes Response::encode() const {
  Bytes out = data;
  out.push_back(sw1());
  out.push_back(sw2());
  return out;
}

}  // namespace rsp::apdu
