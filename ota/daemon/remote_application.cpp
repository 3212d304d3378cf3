#include "rsp/otad/remote_application.hpp"

#include <stdexcept>

#include "rsp/gp/status_words.hpp"
#include "rsp/ota/command_script.hpp"

namespace rsp::otad {

namespace {

using nlohmann::json;

void check_aid(ByteView aid, const char* name) {
  // ISO/IEC 7816-5: RID 5 bytes + PIX up to 11.
  if (aid.size() < 5 || aid.size() > 16) throw std::invalid_argument(std::string(name) + " must be an AID of 5 to 16 bytes");
}

std::uint16_t sw_of(ByteView r) { return r.size() >= 2 ? static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r.back()) : 0; }

std::string sw_hex(std::uint16_t s) { return to_hex(Bytes{static_cast<std::uint8_t>(s >> 8), static_cast<std::uint8_t>(s)}, true); }

json command_json(std::uint8_t ins, std::uint16_t s) {
  return {{"command", gp::command_name(ins)}, {"sw", sw_hex(s)}, {"meaning", std::string(gp::sw::meaning(s))}};
}

json registry_json(gp::StatusScope scope, ByteView data) {
  json out = json::array();
  for (const auto& e : gp::parse_get_status(scope, data)) {
    bool sd = !e.privileges.empty() && (e.privileges[0] & gp::privilege::kSecurityDomain);
    json j = {{"aid", to_hex(e.aid, true)},
              {"life_cycle", to_hex(Bytes{e.life_cycle}, true)},
              {"life_cycle_name", gp::life_cycle_name(scope, e.life_cycle, sd)}};
    if (!e.privileges.empty()) {
      j["privileges"] = to_hex(e.privileges, true);
      j["privilege_names"] = gp::privilege_names(e.privileges);
    }
    if (!e.load_file_aid.empty()) j["load_file_aid"] = to_hex(e.load_file_aid, true);
    if (!e.modules.empty()) {
      json m = json::array();
      for (const auto& x : e.modules) m.push_back(to_hex(x, true));
      j["modules"] = m;
    }
    out.push_back(j);
  }
  return out;
}

}  // namespace

std::vector<Bytes> application_apdus(const ApplicationRequest& r) {
  using A = ApplicationRequest::Action;
  switch (r.action) {
    case A::Install: {
      check_aid(r.load_file_aid, "package_aid");
      check_aid(r.module_aid, "module_aid");
      check_aid(r.instance_aid, "instance_aid");
      if (r.privileges.size() != 1 && r.privileges.size() != 3)
        throw std::invalid_argument("privileges must be 1 or 3 bytes (GP 2.3.1 11.1.2)");
      if (r.install_params.size() > 200) throw std::invalid_argument("install_params must be at most 200 bytes");
      return {gp::install_for_install(r.load_file_aid, r.module_aid, r.instance_aid, r.privileges, r.install_params,
                                      r.make_selectable)
                  .encode()};
    }
    case A::Delete:
      check_aid(r.aid, "aid");
      return {gp::delete_object(r.aid, r.related).encode()};
    case A::Lock:
      check_aid(r.aid, "aid");
      return {gp::lock_application(r.aid).encode()};
    case A::Unlock:
      check_aid(r.aid, "aid");
      return {gp::unlock_application(r.aid).encode()};
    case A::Status:
      return {gp::get_status(r.scope).encode()};
  }
  throw std::invalid_argument("unknown action");
}

json application_result(ByteView script, const std::vector<Bytes>& r_apdus) {
  auto s = ota::decode_command_script(script, ota::CommandSet::GlobalPlatform);
  std::vector<apdu::Command> capdus;
  for (const auto& t : s.commands)
    if (t.tag == ota::kTagCApdu) capdus.push_back(apdu::Command::parse(t.value));
  json commands = json::array();
  json out = json::object();
  bool success = r_apdus.size() == capdus.size() && !capdus.empty();
  for (std::size_t i = 0; i < r_apdus.size() && i < capdus.size(); ++i) {
    std::uint16_t sw = sw_of(r_apdus[i]);
    commands.push_back(command_json(capdus[i].ins, sw));
    if (sw != gp::sw::kOk) {
      success = false;
      if (!out.contains("failed")) out["failed"] = command_json(capdus[i].ins, sw);
    } else if (capdus[i].ins == gp::ins::kGetStatus) {
      ByteView d(r_apdus[i].data(), r_apdus[i].size() - 2);
      try {
        out["registry"] = registry_json(static_cast<gp::StatusScope>(capdus[i].p1), d);
      } catch (const DecodeError&) {
        out["registry_data"] = to_hex(d, true);  // given as it came
      }
    }
  }
  // Fewer R-APDUs than C-APDUs without an error SW: the script did not run
  // to its end (a card that stopped, or a response script cut short).
  if (!out.contains("failed") && r_apdus.size() < capdus.size())
    out["failed"] = {{"command", gp::command_name(capdus[r_apdus.size()].ins)}, {"sw", nullptr}, {"meaning", "not executed"}};
  out["success"] = success;
  out["commands"] = commands;
  return out;
}

}  // namespace rsp::otad
