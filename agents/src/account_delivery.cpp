#include "rsp/agents/account_delivery.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rsp/json.hpp"
#include "rsp/ledger/ledger.hpp"

namespace rsp::agents {

using json = nlohmann::json;

namespace {
json parse(ByteView b) {
  // Flat members, sealed in an Accept payload (ledger::max_payload_size).
  const std::size_t max = ledger::max_payload_size("accept");
  json j;
  try {
    j = parse_json(rsp::to_string(b), JsonLimits{max, 1, 64, max});  // 8 members: 17 values with the keys
  } catch (const JsonError&) {
    throw std::runtime_error("account delivery is not a JSON object");
  }
  if (!j.is_object()) throw std::runtime_error("account delivery is not a JSON object");
  return j;
}

bool digits(const std::string& s, std::size_t min, std::size_t max) {
  return s.size() >= min && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
}
}  // namespace

Bytes AccountDelivery::to_json() const {
  return to_bytes(json{{"kind", "account"},
                       {"iccid", iccid},
                       {"imsi", imsi},
                       {"ki", to_hex(ki)},
                       {"opc", to_hex(opc)},
                       {"spn", spn},
                       {"label", label},
                       {"home_plmn", home_plmn}}
                      .dump());
}

bool AccountDelivery::is_account(ByteView b) {
  try {
    json j = parse(b);
    return j.contains("kind") && j["kind"] == "account";
  } catch (const std::exception&) {
    return false;
  }
}

AccountDelivery AccountDelivery::from_json(ByteView b) {
  json j = parse(b);
  AccountDelivery d;
  try {
    if (j.at("kind").get<std::string>() != "account") throw std::runtime_error("kind is not \"account\"");
    d.iccid = j.at("iccid").get<std::string>();
    d.imsi = j.at("imsi").get<std::string>();
    Bytes ki = from_hex(j.at("ki").get<std::string>()), opc = from_hex(j.at("opc").get<std::string>());
    d.ki = SecretBytes(ki);
    d.opc = SecretBytes(opc);
    wipe(ki.data(), ki.size());
    wipe(opc.data(), opc.size());
    d.spn = j.value("spn", "");
    d.label = j.value("label", "");
    d.home_plmn = j.value("home_plmn", "");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("account delivery malformed: ") + e.what());
  }
  if (!digits(d.iccid, 18, 20)) throw std::runtime_error("account delivery malformed: iccid");
  if (!digits(d.imsi, 6, 15)) throw std::runtime_error("account delivery malformed: imsi");
  if (d.ki.size() != 16 || d.opc.size() != 16) throw std::runtime_error("account delivery malformed: ki/opc not 16 bytes");
  if (!d.home_plmn.empty() && !digits(d.home_plmn, 5, 6))
    throw std::runtime_error("account delivery malformed: home_plmn");
  return d;
}

}  // namespace rsp::agents
