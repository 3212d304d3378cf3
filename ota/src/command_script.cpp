#include "rsp/ota/command_script.hpp"

#include <stdexcept>
#include <string>

#include "rsp/apdu.hpp"
#include "rsp/tlv.hpp"

namespace rsp::ota {

namespace {

std::string hex1(std::uint8_t v) { return to_hex(Bytes{v}, true); }

bool is_command_tag(std::uint8_t t) {
  return t == kTagCApdu || t == kTagImmediateAction || t == kTagErrorAction || t == kTagScriptChaining;
}
bool is_response_tag(std::uint8_t t) {
  return t == kTagRApdu || t == kTagImmediateAction || t == kTagScriptChaining || t == kTagNumberOfExecuted ||
         t == kTagBadFormat;
}

// One simple-TLV with a one-byte tag and a BER length (TS 102 226 5.2: the
// lengths are BER-TLV lengths, '81 xx' from 128 and '82 xx xx' from 256).
struct Item {
  std::uint8_t tag;
  ByteView value;
};
Item read_item(ByteView in, std::size_t& pos) {
  std::uint8_t tag = in[pos++];
  if (pos >= in.size()) throw ScriptError(BadFormat::LengthMissing, "TLV " + hex1(tag) + " has no length");
  std::size_t len = in[pos++];
  if (len == 0x80 || len > 0x83)
    throw ScriptError(BadFormat::WrongLength, "TLV " + hex1(tag) + ": length byte " + hex1(static_cast<std::uint8_t>(len)));
  if (len > 0x80) {
    std::size_t n = len & 0x7F;
    if (in.size() - pos < n) throw ScriptError(BadFormat::LengthMissing, "TLV " + hex1(tag) + ": length cut");
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = len << 8 | in[pos++];
  }
  if (in.size() - pos < len)
    throw ScriptError(BadFormat::WrongLength, "TLV " + hex1(tag) + " says " + std::to_string(len) + " bytes, " +
                                                  std::to_string(in.size() - pos) + " left");
  Item it{tag, in.subspan(pos, len)};
  pos += len;
  return it;
}

// The body of a template 'definite' / 'indefinite' (TS 102 226 5.2.1, 5.2.2).
ByteView template_body(ByteView in, std::uint8_t definite, std::uint8_t indefinite, const char* what) {
  if (in.empty()) throw ScriptError(BadFormat::UnknownTag, std::string(what) + " is empty");
  if (in[0] == indefinite) {
    if (in.size() < 2 || in[1] != 0x80)
      throw ScriptError(BadFormat::WrongLength, std::string(what) + " '" + hex1(indefinite) + "' without '80'");
    if (in.size() < 4 || in[in.size() - 1] != 0 || in[in.size() - 2] != 0)
      throw ScriptError(BadFormat::WrongLength, std::string(what) + ": no end-of-contents '00 00'");
    return in.subspan(2, in.size() - 4);
  }
  if (in[0] != definite)
    throw ScriptError(BadFormat::UnknownTag, std::string(what) + " starts with " + hex1(in[0]));
  std::size_t pos = 0;
  Item it = read_item(in, pos);
  if (pos != in.size())
    throw ScriptError(BadFormat::WrongLength, std::string(what) + ": " + std::to_string(in.size() - pos) +
                                                  " bytes after the template");
  return it.value;
}

Bytes wrap_template(ByteView body, bool indefinite, std::uint8_t definite, std::uint8_t indef) {
  if (indefinite) return concat(Bytes{indef, 0x80}, body, Bytes{0x00, 0x00});
  return tlv::make(definite, body);
}

// The T=0 form of a C-APDU for the compact format (TS 102 226 5.1.1): P3
// always present; case 4 goes as case 3 (the response is fetched with GET
// RESPONSE, as over T=0).
Bytes t0_form(ByteView capdu, CommandSet set) {
  apdu::Command c;
  try {
    c = apdu::Command::parse(capdu);
  } catch (const DecodeError& e) {
    throw std::invalid_argument(std::string("compact script: ") + e.what());
  }
  if (c.data.size() > 255 || (c.le && *c.le > 256))
    throw std::invalid_argument("compact script: a C-APDU with extended lengths has no T=0 form");
  bool out = compact_p3_is_le(c.ins, set);
  Bytes t{c.cla, c.ins, c.p1, c.p2};
  if (out) {
    if (!c.data.empty())
      throw std::invalid_argument("compact script: INS " + hex1(c.ins) + " takes P3 as Le and cannot carry data");
    t.push_back(c.le ? static_cast<std::uint8_t>(*c.le == 256 ? 0 : *c.le) : 0);
    return t;
  }
  if (c.data.empty() && c.le)
    throw std::invalid_argument("compact script: INS " + hex1(c.ins) + " takes P3 as Lc; a case 2 command is ambiguous");
  t.push_back(static_cast<std::uint8_t>(c.data.size()));
  append(t, c.data);
  return t;
}

}  // namespace

bool compact_p3_is_le(std::uint8_t ins, CommandSet set) {
  switch (ins) {
    case 0xC0: case 0xCA: case 0xCB: return true;
    case 0xB0: case 0xB2: case 0xF2: case 0x84: case 0x12: return set == CommandSet::Uicc;
    default: return false;
  }
}

CommandScript CommandScript::compact(std::vector<Bytes> capdus) {
  CommandScript s;
  s.format = ScriptFormat::Compact;
  for (auto& c : capdus) s.commands.push_back({kTagCApdu, std::move(c)});
  return s;
}

CommandScript CommandScript::expanded(std::vector<Bytes> capdus) {
  CommandScript s = compact(std::move(capdus));
  s.format = ScriptFormat::Expanded;
  return s;
}

ScriptFormat script_format(ByteView d) {
  if (!d.empty() && (d[0] == kTagCommandScriptDefinite || d[0] == kTagCommandScriptIndefinite))
    return ScriptFormat::Expanded;
  return ScriptFormat::Compact;
}

Bytes encode_command_script(const CommandScript& s, CommandSet set) {
  Bytes body;
  for (const auto& c : s.commands) {
    if (s.format == ScriptFormat::Compact) {
      if (c.tag != kTagCApdu) throw std::invalid_argument("compact script: only C-APDUs, no TLV " + hex1(c.tag));
      append(body, t0_form(c.value, set));
      continue;
    }
    if (!is_command_tag(c.tag)) throw std::invalid_argument("expanded script: " + hex1(c.tag) + " is not a command TLV");
    append(body, tlv::make(c.tag, c.value));
  }
  if (s.format == ScriptFormat::Compact) return body;
  return wrap_template(body, s.indefinite_length, kTagCommandScriptDefinite, kTagCommandScriptIndefinite);
}

CommandScript decode_command_script(ByteView d, CommandSet set) {
  CommandScript s;
  s.format = script_format(d);
  if (s.format == ScriptFormat::Compact) {
    std::size_t pos = 0;
    while (pos < d.size()) {
      if (d.size() - pos < 5)
        throw ScriptError(BadFormat::LengthMissing, "compact script: a C-APDU cut in its header at byte " + std::to_string(pos));
      std::uint8_t ins = d[pos + 1], p3 = d[pos + 4];
      std::size_t n = compact_p3_is_le(ins, set) ? 5 : 5u + p3;
      if (d.size() - pos < n)
        throw ScriptError(BadFormat::WrongLength, "compact script: C-APDU INS " + hex1(ins) + " says Lc " +
                                                      std::to_string(p3) + ", " + std::to_string(d.size() - pos - 5) +
                                                      " bytes left");
      s.commands.push_back({kTagCApdu, Bytes(d.begin() + static_cast<std::ptrdiff_t>(pos),
                                             d.begin() + static_cast<std::ptrdiff_t>(pos + n))});
      pos += n;
    }
    return s;
  }
  s.indefinite_length = d[0] == kTagCommandScriptIndefinite;
  ByteView body = template_body(d, kTagCommandScriptDefinite, kTagCommandScriptIndefinite, "Command Scripting template");
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::uint8_t tag = body[pos];
    if (!is_command_tag(tag)) throw ScriptError(BadFormat::UnknownTag, "Command Scripting template: unknown tag " + hex1(tag));
    Item it = read_item(body, pos);
    if (it.tag == kTagCApdu) {
      try {
        apdu::Command::parse(it.value);
      } catch (const DecodeError& e) {
        throw ScriptError(BadFormat::WrongLength, std::string("C-APDU TLV: ") + e.what());
      }
    }
    s.commands.push_back({it.tag, Bytes(it.value.begin(), it.value.end())});
  }
  return s;
}

std::vector<Bytes> ResponseScript::r_apdus() const {
  std::vector<Bytes> out;
  for (const auto& r : responses)
    if (r.tag == kTagRApdu) out.push_back(r.value);
  return out;
}

std::optional<std::uint16_t> ResponseScript::last_status_word() const {
  for (auto it = responses.rbegin(); it != responses.rend(); ++it)
    if (it->tag == kTagRApdu && it->value.size() >= 2)
      return static_cast<std::uint16_t>(it->value[it->value.size() - 2] << 8 | it->value.back());
  return std::nullopt;
}

Bytes encode_response_script(const ResponseScript& r) {
  if (r.format == ScriptFormat::Compact) {
    if (r.responses.size() > 1) throw std::invalid_argument("compact response: one R-APDU at most (the last)");
    Bytes out{r.executed};
    if (!r.responses.empty()) {
      if (r.responses[0].tag != kTagRApdu || r.responses[0].value.size() < 2)
        throw std::invalid_argument("compact response: the R-APDU needs its SW");
      append(out, r.responses[0].value);
    }
    return out;
  }
  Bytes body = tlv::make(kTagNumberOfExecuted, Bytes{r.executed});
  if (r.bad_format) append(body, tlv::make(kTagBadFormat, Bytes{static_cast<std::uint8_t>(*r.bad_format)}));
  for (const auto& x : r.responses) {
    if (x.tag != kTagRApdu && x.tag != kTagImmediateAction && x.tag != kTagScriptChaining)
      throw std::invalid_argument("response script: " + hex1(x.tag) + " is not a response TLV");
    append(body, tlv::make(x.tag, x.value));
  }
  return wrap_template(body, r.indefinite_length, kTagResponseScriptDefinite, kTagResponseScriptIndefinite);
}

ResponseScript decode_response_script(ScriptFormat f, ByteView d) {
  ResponseScript r;
  r.format = f;
  if (f == ScriptFormat::Compact) {
    if (d.empty()) throw ScriptError(BadFormat::LengthMissing, "compact response: no count of executed commands");
    r.executed = d[0];
    if (d.size() == 2) throw ScriptError(BadFormat::WrongLength, "compact response: an R-APDU of one byte");
    if (d.size() > 1) r.responses.push_back({kTagRApdu, Bytes(d.begin() + 1, d.end())});
    return r;
  }
  r.indefinite_length = !d.empty() && d[0] == kTagResponseScriptIndefinite;
  ByteView body = template_body(d, kTagResponseScriptDefinite, kTagResponseScriptIndefinite, "Response Scripting template");
  std::size_t pos = 0;
  bool have_count = false;
  while (pos < body.size()) {
    std::uint8_t tag = body[pos];
    if (!is_response_tag(tag)) throw ScriptError(BadFormat::UnknownTag, "Response Scripting template: unknown tag " + hex1(tag));
    Item it = read_item(body, pos);
    if (it.tag == kTagNumberOfExecuted || it.tag == kTagBadFormat) {
      if (it.value.size() != 1) throw ScriptError(BadFormat::WrongLength, "TLV " + hex1(it.tag) + " must be 1 byte");
      if (it.tag == kTagNumberOfExecuted) {
        r.executed = it.value[0];
        have_count = true;
      } else {
        r.bad_format = static_cast<BadFormat>(it.value[0]);
      }
      continue;
    }
    if (it.tag == kTagRApdu && it.value.size() < 2) throw ScriptError(BadFormat::WrongLength, "R-APDU TLV without its SW");
    r.responses.push_back({it.tag, Bytes(it.value.begin(), it.value.end())});
  }
  if (!have_count) throw ScriptError(BadFormat::LengthMissing, "Response Scripting template without its count ('80')");
  return r;
}

}  // namespace rsp::ota
