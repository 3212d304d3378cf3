// The card manager's non-volatile memory as a JSON file: the registry, the
// key sets and the counters, written after every change (mode 0600: it holds
// keys, as a card's EEPROM would). Session state is volatile and not saved.
#include <nlohmann/json.hpp>

#include <filesystem>

#include "rsp/file.hpp"
#include "rsp/sim/card_manager.hpp"

namespace rsp::sim::gp {

namespace {
using nlohmann::json;
std::string kind_name(RegistryEntry::Kind k) {
  switch (k) {
    case RegistryEntry::Kind::Isd: return "isd";
    case RegistryEntry::Kind::SecurityDomain: return "sd";
    case RegistryEntry::Kind::Application: return "application";
    case RegistryEntry::Kind::LoadFile: return "load-file";
  }
  return "?";
}
RegistryEntry::Kind kind_from(const std::string& s) {
  if (s == "isd") return RegistryEntry::Kind::Isd;
  if (s == "sd") return RegistryEntry::Kind::SecurityDomain;
  if (s == "load-file") return RegistryEntry::Kind::LoadFile;
  return RegistryEntry::Kind::Application;
}
json hex_list(const std::vector<Bytes>& v) {
  json a = json::array();
  for (const auto& b : v) a.push_back(to_hex(b, true));
  return a;
}
std::vector<Bytes> from_hex_list(const json& a) {
  std::vector<Bytes> v;
  for (const auto& s : a) v.push_back(from_hex(s.get<std::string>()));
  return v;
}
}  // namespace

void CardManager::save() const {
  if (cfg_.state_file.empty()) return;
  json j;
  j["auth_failures"] = auth_failures_;
  j["scp02_counter"] = scp02_counter_;
  j["default_key_version"] = cfg_.default_key_version;
  for (const auto& e : registry_) {
    j["registry"].push_back({{"kind", kind_name(e.kind)}, {"aid", to_hex(e.aid, true)}, {"life_cycle", e.life_cycle},
                             {"privileges", to_hex(e.privileges, true)}, {"load_file", to_hex(e.load_file_aid, true)},
                             {"module", to_hex(e.module_aid, true)}, {"sd", to_hex(e.associated_sd, true)},
                             {"version", to_hex(e.version, true)}, {"modules", hex_list(e.modules)},
                             {"imports", hex_list(e.imports)}, {"params", to_hex(e.install_params, true)}});
  }
  for (const auto& k : key_sets_)
    j["key_sets"].push_back({{"version", k.version}, {"scp", k.scp}, {"enc", to_hex(k.keys.enc)}, {"mac", to_hex(k.keys.mac)},
                             {"dek", to_hex(k.keys.dek)}, {"sequence_counter", k.sequence_counter}});
  std::string text = j.dump(1);
  std::string tmp = cfg_.state_file + ".tmp";
  write_private_file(tmp, to_bytes(text));
  std::filesystem::rename(tmp, cfg_.state_file);
}

void CardManager::load_state() {
  if (!std::filesystem::exists(cfg_.state_file)) {
    save();
    return;
  }
  SecretBytes raw = read_private_file(cfg_.state_file);
  json j = json::parse(raw.begin(), raw.end());
  auth_failures_ = j.value("auth_failures", 0u);
  scp02_counter_ = j.value("scp02_counter", std::uint16_t{0});
  cfg_.default_key_version = j.value("default_key_version", cfg_.default_key_version);
  registry_.clear();
  for (const auto& r : j.at("registry")) {
    RegistryEntry e;
    e.kind = kind_from(r.at("kind"));
    e.aid = from_hex(r.at("aid").get<std::string>());
    e.life_cycle = r.at("life_cycle");
    e.privileges = from_hex(r.at("privileges").get<std::string>());
    e.load_file_aid = from_hex(r.at("load_file").get<std::string>());
    e.module_aid = from_hex(r.at("module").get<std::string>());
    e.associated_sd = from_hex(r.at("sd").get<std::string>());
    e.version = from_hex(r.at("version").get<std::string>());
    e.modules = from_hex_list(r.at("modules"));
    e.imports = from_hex_list(r.at("imports"));
    e.install_params = from_hex(r.at("params").get<std::string>());
    registry_.push_back(std::move(e));
  }
  if (registry_.empty() || registry_.front().kind != RegistryEntry::Kind::Isd) throw std::runtime_error(cfg_.state_file + ": no ISD first in the registry");
  key_sets_.clear();
  for (const auto& k : j.at("key_sets")) {
    KeySet ks;
    ks.version = k.at("version");
    ks.scp = k.at("scp");
    ks.keys.enc = from_hex(k.at("enc").get<std::string>());
    ks.keys.mac = from_hex(k.at("mac").get<std::string>());
    ks.keys.dek = from_hex(k.at("dek").get<std::string>());
    ks.keys.version = ks.version;
    ks.sequence_counter = k.value("sequence_counter", 0u);
    key_sets_.push_back(std::move(ks));
  }
  for (const auto& e : registry_)
    if (e.kind == RegistryEntry::Kind::Application || e.kind == RegistryEntry::Kind::SecurityDomain) instantiate(e);
}

}  // namespace rsp::sim::gp
