// MasimState load/save (see masim_state.hpp).
#include "masim_state.hpp"


#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "rsp/crypto.hpp"
#include "rsp/file.hpp"

namespace rsp::masim {
namespace {

using nlohmann::json;
constexpr std::size_t kIvLen = 12;

Bytes aad_for(const std::string& iccid, std::uint8_t id) {
  Bytes aad = to_bytes("masim-account:" + iccid + ":");
  aad.push_back(id);
  return aad;
}

std::string hex_of(ByteView b) { return to_hex(b); }

}  // namespace

MasimState MasimState::load(const std::string& path, ByteView key, const std::string& iccid) {
  MasimState s;
  s.iccid = iccid;
  if (path.empty()) return s;
  std::ifstream in(path, std::ios::binary);
  if (!in) return s;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    json j = json::parse(text);
    if (j.value("iccid", iccid) != iccid) throw std::runtime_error("state file is for ICCID " + j.value("iccid", std::string()));
    for (const auto& ja : j.at("accounts")) {
      Account a;
      a.id = ja.at("id").get<std::uint8_t>();
      a.imsi = from_hex(ja.at("imsi").get<std::string>());
      if (ja.contains("sealed")) {
        if (key.size() != 32) throw std::runtime_error("state has sealed keys but no 32-byte state key was given");
        Bytes blob = from_hex(ja.at("sealed").get<std::string>());
        if (blob.size() < kIvLen) throw std::runtime_error("sealed keys too short");
        SecretBytes plain = crypto::aes_gcm_decrypt(key, ByteView(blob).first(kIvLen), aad_for(iccid, a.id),
                                                    ByteView(blob).subspan(kIvLen));
        if (plain.size() != 32) throw std::runtime_error("sealed keys of the wrong size");
        a.ki = Bytes(plain.begin(), plain.begin() + 16);
        a.opc = Bytes(plain.begin() + 16, plain.end());
      } else {
        a.ki = from_hex(ja.at("ki").get<std::string>());
        a.opc = from_hex(ja.at("opc").get<std::string>());
      }
      a.constants = milenage::Constants::from_profile(from_hex(ja.value("r", std::string())),
                                                      from_hex(ja.value("c", std::string())));
      a.home_plmn = from_hex(ja.value("home_plmn", std::string()));
      a.plmn_wact = from_hex(ja.value("plmn_wact", std::string()));
      a.oplmn_wact = from_hex(ja.value("oplmn_wact", std::string()));
      a.spn = from_hex(ja.value("spn", std::string()));
      a.label = ja.value("label", std::string());
      if (ja.contains("sqn_ms")) s.sqn_ms[a.id] = ja.at("sqn_ms").get<std::uint64_t>();
      s.table.accounts.push_back(std::move(a));
    }
    if (j.contains("active") && !j.at("active").is_null()) s.table.active = j.at("active").get<std::uint8_t>();
    if (j.contains("ota_counters"))
      for (const auto& [kv, v] : j.at("ota_counters").items())
        s.ota_counters[static_cast<std::uint8_t>(std::stoi(kv))] = v.get<std::uint64_t>();
  } catch (const json::exception& e) {
    throw std::runtime_error("masim state " + path + " does not parse: " + e.what());
  } catch (const DecodeError& e) {
    throw std::runtime_error("masim state " + path + " does not parse: " + e.what());
  }
  return s;
}

void MasimState::save(const std::string& path, ByteView key) const {
  if (path.empty()) return;
  json j;
  j["iccid"] = iccid;
  j["accounts"] = json::array();
  for (const auto& a : table.accounts) {
    json ja;
    ja["id"] = a.id;
    ja["imsi"] = hex_of(a.imsi);
    if (key.size() == 32) {
      Bytes iv = crypto::random_bytes(kIvLen);
      SecretBytes plain = concat(a.ki, a.opc);
      ja["sealed"] = hex_of(concat(iv, crypto::aes_gcm_encrypt(key, iv, aad_for(iccid, a.id), plain)));
    } else {
      ja["ki"] = hex_of(a.ki);
      ja["opc"] = hex_of(a.opc);
    }
    if (!(a.constants == milenage::Constants{})) {
      ja["r"] = hex_of(Bytes(a.constants.r.begin(), a.constants.r.end()));
      Bytes c;
      for (const auto& ci : a.constants.c) c.insert(c.end(), ci.begin(), ci.end());
      ja["c"] = hex_of(c);
    }
    if (!a.home_plmn.empty()) ja["home_plmn"] = hex_of(a.home_plmn);
    if (!a.plmn_wact.empty()) ja["plmn_wact"] = hex_of(a.plmn_wact);
    if (!a.oplmn_wact.empty()) ja["oplmn_wact"] = hex_of(a.oplmn_wact);
    if (!a.spn.empty()) ja["spn"] = hex_of(a.spn);
    if (!a.label.empty()) ja["label"] = a.label;
    if (auto it = sqn_ms.find(a.id); it != sqn_ms.end()) ja["sqn_ms"] = it->second;
    j["accounts"].push_back(ja);
  }
  j["active"] = table.active ? json(*table.active) : json(nullptr);
  json counters = json::object();
  for (const auto& [kv, v] : ota_counters) counters[std::to_string(kv)] = v;
  j["ota_counters"] = counters;
  replace_private_file(path, to_bytes(j.dump(1)), "masim state");
}

}  // namespace rsp::masim
