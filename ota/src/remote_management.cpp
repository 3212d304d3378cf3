#include "rsp/ota/remote_management.hpp"

namespace rsp::ota {

bool is_error_status_word(std::uint16_t sw) {
  switch (sw >> 8) {
    case 0x90: return sw != 0x9000;  // only '90 00' is defined
    case 0x61: case 0x62: case 0x63: case 0x91: case 0x92: return false;
    default: return true;
  }
}

ResponseScript run_command_script(ByteView secured_data, const ApduExecutor& execute, CommandSet set) {
  ResponseScript r;
  r.format = script_format(secured_data);
  CommandScript s;
  try {
    s = decode_command_script(secured_data, set);
  } catch (const ScriptError& e) {
    // Parsed before anything runs: a malformed script executes nothing.
    if (r.format == ScriptFormat::Expanded) {
      r.bad_format = e.bad_format;
    } else {
      r.responses.push_back({kTagRApdu, Bytes{0x67, 0x00}});
    }
    return r;
  }
  r.indefinite_length = s.indefinite_length;
  Bytes last;
  for (const auto& c : s.commands) {
    if (c.tag != kTagCApdu) continue;  // immediate/error actions, chaining: the card core's (see header)
    Bytes resp = execute(c.value);
    if (resp.size() < 2) resp = {0x6F, 0x00};  // an executor that lost the SW: no precise diagnosis
    ++r.executed;
    std::uint16_t sw = static_cast<std::uint16_t>(resp[resp.size() - 2] << 8 | resp.back());
    if (r.format == ScriptFormat::Expanded) r.responses.push_back({kTagRApdu, resp});
    last = std::move(resp);
    if (is_error_status_word(sw)) break;
    if (r.executed == 0xFF) break;  // the count is one byte
  }
  if (r.format == ScriptFormat::Compact && !last.empty()) r.responses.push_back({kTagRApdu, std::move(last)});
  return r;
}

}  // namespace rsp::ota
