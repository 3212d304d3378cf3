// `ota script`: the secured data of an RFM/RAM command packet and the PoR's
// additional data, as ETSI TS 102 226 codes them:
//
//   ota script build [--compact] [--gp] [--indefinite] APDU...   (hex C-APDUs; prints the script, hex)
//   ota script parse-response [--compact] HEX                    (count, each R-APDU, bad format)
#include "script_command.hpp"

#include <iostream>
#include <memory>

#include "rsp/ota/command_script.hpp"

namespace rsp::ota::cli {

namespace {

struct ScriptOptions {
  std::vector<std::string> apdus;
  std::string response;
  bool compact = false, gp = false, indefinite = false;
};

int build(const ScriptOptions& o) {
  std::vector<Bytes> capdus;
  for (const auto& a : o.apdus) capdus.push_back(from_hex(a));
  CommandScript s = o.compact ? CommandScript::compact(capdus) : CommandScript::expanded(capdus);
  s.indefinite_length = o.indefinite;
  std::cout << to_hex(encode_command_script(s, o.gp ? CommandSet::GlobalPlatform : CommandSet::Uicc), true) << "\n";
  return 0;
}

}  // namespace

void print_response_script(std::ostream& out, const ResponseScript& r) {
  out << "executed: " << unsigned{r.executed} << "\n";
  if (r.bad_format) out << "bad format: " << to_hex(Bytes{static_cast<std::uint8_t>(*r.bad_format)}, true) << "\n";
  for (const auto& x : r.responses) {
    const char* what = x.tag == kTagRApdu ? "R-APDU" : x.tag == kTagImmediateAction ? "immediate action response"
                                                                                       : "script chaining";
    out << what << ": " << to_hex(x.value, true) << "\n";
  }
}

std::function<std::function<int()>()> add_script_command(CLI::App& app) {
  auto o = std::make_shared<ScriptOptions>();
  auto* script = app.add_subcommand("script", "TS 102 226 command and response scripts")->require_subcommand(1);
  auto* b = script->add_subcommand("build", "a command script from C-APDUs; prints it in hex");
  b->add_option("apdu", o->apdus, "C-APDUs, hex (ISO/IEC 7816-4)")->required();
  b->add_flag("--compact", o->compact, "compact format (concatenated T=0 commands) instead of expanded (AA)");
  b->add_flag("--gp", o->gp, "GlobalPlatform commands (RAM): F2 is GET STATUS, case 4");
  b->add_flag("--indefinite", o->indefinite, "expanded with indefinite length (AE 80 .. 00 00)");
  auto* p = script->add_subcommand("parse-response", "a response script (a PoR's additional data)");
  p->add_option("response", o->response, "hex")->required();
  p->add_flag("--compact", o->compact, "compact format (count, last R-APDU) instead of expanded (AB)");
  return [=]() -> std::function<int()> {
    if (!script->parsed()) return {};
    if (b->parsed()) return [=] { return build(*o); };
    if (p->parsed())
      return [=] {
        print_response_script(std::cout, decode_response_script(o->compact ? ScriptFormat::Compact : ScriptFormat::Expanded,
                                                                from_hex(o->response)));
        return 0;
      };
    return {};
  };
}

}  // namespace rsp::ota::cli
