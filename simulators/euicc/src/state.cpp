// Persistent eUICC state as JSON, rewritten atomically (tmp + fsync + rename).

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "euicc_impl.hpp"
#include "rsp/file.hpp"

namespace rsp::sim {
namespace {

using nlohmann::json;

const char* op_name(NotificationSummary::Op op) {
  switch (op) {
    case NotificationSummary::Op::Install: return "install";
    case NotificationSummary::Op::Enable: return "enable";
    case NotificationSummary::Op::Disable: return "disable";
    case NotificationSummary::Op::Delete: return "delete";
  }
  return "install";
}

NotificationSummary::Op op_from(const std::string& s) {
  if (s == "enable") return NotificationSummary::Op::Enable;
  if (s == "disable") return NotificationSummary::Op::Disable;
  if (s == "delete") return NotificationSummary::Op::Delete;
  return NotificationSummary::Op::Install;
}

// The changes a card keeps across restarts, on top of the image its package
// builds: files made by CREATE FILE (their FCP, under their parent) and
// files taken out by DELETE FILE, every EF's contents (and a cyclic file's
// newest record) and life cycle, the PIN and PUK values and counters, and
// SQNms of each application's AKA parameters.

// A file's key: its FIDs from the MF ("3F00/7F10/6F3A") or from its ADF
// ("<AID>:7FF0/6F07"), as walk_efs names them.
std::string file_key(const uicc::File& f) {
  std::vector<const uicc::File*> chain;
  for (const uicc::File* x = &f; x; x = x->parent) {
    chain.push_back(x);
    if (x->type == uicc::FileType::Adf) break;
  }
  std::string s = chain.back()->type == uicc::FileType::Adf ? to_hex(chain.back()->aid, true) + ":" : "";
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it != chain.rbegin()) s += "/";
    s += to_hex(Bytes{static_cast<std::uint8_t>((*it)->fid >> 8), static_cast<std::uint8_t>((*it)->fid)}, true);
  }
  return s;
}

// Every file, DFs included, parents before their children.
void walk_all(uicc::File& f, const std::function<void(uicc::File&)>& fn) {
  fn(f);
  for (auto& c : f.children) walk_all(*c, fn);
}
void walk_all(uicc::CardImage& img, const std::function<void(uicc::File&)>& fn) {
  if (img.fs.mf) walk_all(*img.fs.mf, fn);
  for (auto& a : img.fs.adfs) walk_all(*a, fn);
}

void walk_efs(uicc::File& f, const std::string& prefix, const std::function<void(uicc::File&, const std::string&)>& fn) {
  std::string id = prefix + to_hex(Bytes{static_cast<std::uint8_t>(f.fid >> 8), static_cast<std::uint8_t>(f.fid)}, true);
  if (!f.is_df()) {
    if (!f.linked) fn(f, id);
    return;
  }
  for (auto& c : f.children) walk_efs(*c, id + "/", fn);
}

void walk_efs(uicc::CardImage& img, const std::function<void(uicc::File&, const std::string&)>& fn) {
  if (img.fs.mf) walk_efs(*img.fs.mf, "", fn);
  for (auto& a : img.fs.adfs) walk_efs(*a, to_hex(a->aid, true) + ":", fn);
}

json card_changes(const uicc::CardImage& img) {
  auto& mimg = const_cast<uicc::CardImage&>(img);
  json created = json::array(), deleted = json::array();
  walk_all(mimg, [&](uicc::File& f) {
    if (!f.created_fcp.empty())
      created.push_back({{"parent", f.parent ? file_key(*f.parent) : ""}, {"fcp", to_hex(f.created_fcp, true)}});
  });
  for (const auto& f : img.fs.deleted)
    if (f->created_fcp.empty()) deleted.push_back(file_key(*f));
  json files = json::object();
  walk_efs(mimg, [&](uicc::File& f, const std::string& id) {
    json jf = {{"content", to_hex(*f.content, true)}};
    if (f.cyclic_newest) jf["newest"] = f.cyclic_newest;
    jf["lcsi"] = f.lcsi;
    files[id] = std::move(jf);
  });
  json sqn = json::array();
  for (const auto& a : img.aka) sqn.push_back(a.second.sqn_ms);
  json pins = json::object(), puks = json::object();
  for (const auto& [kr, p] : img.pins)
    pins[std::to_string(kr)] = {{"value", to_hex(p.value)}, {"left", p.attempts_left}, {"enabled", p.enabled}};
  for (const auto& [kr, p] : img.puks) puks[std::to_string(kr)] = {{"value", to_hex(p.value)}, {"left", p.attempts_left}};
  return {{"created", created}, {"deleted", deleted}, {"files", files}, {"pins", pins}, {"puks", puks}, {"sqn_ms", sqn}};
}

uicc::File* find_file(uicc::CardImage& img, const std::string& key) {
  uicc::File* found = nullptr;
  walk_all(img, [&](uicc::File& f) {
    if (!found && file_key(f) == key) found = &f;
  });
  return found;
}

void apply_card_changes(uicc::CardImage& img, const json& j) {
  // The tree first (deletions, then creations parents first), then contents.
  for (const auto& k : j.value("deleted", json::array()))
    if (uicc::File* f = find_file(img, k.get<std::string>())) img.fs.remove(f);
  for (const auto& c : j.value("created", json::array())) {
    uicc::File* parent = find_file(img, c.value("parent", std::string()));
    if (!parent) throw std::runtime_error("a created file's parent " + c.value("parent", std::string()) + " is gone");
    Bytes fcp = from_hex(c.value("fcp", std::string()));
    std::unique_ptr<uicc::File> f = uicc::file_from_fcp(fcp);
    f->created_fcp = std::move(fcp);
    f->parent = parent;
    if (f->type == uicc::FileType::Adf) img.fs.adfs.push_back(std::move(f));
    else parent->children.push_back(std::move(f));
  }
  const json files = j.value("files", json::object());
  walk_efs(img, [&](uicc::File& f, const std::string& id) {
    auto it = files.find(id);
    if (it == files.end()) return;
    *f.content = from_hex(it->value("content", std::string()));
    f.cyclic_newest = it->value("newest", std::size_t{0});
    f.lcsi = it->value("lcsi", f.lcsi);
  });
  const json sqn = j.value("sqn_ms", json::array());
  for (std::size_t i = 0; i < sqn.size() && i < img.aka.size(); ++i) img.aka[i].second.sqn_ms = sqn[i].get<std::uint64_t>();
  const json pins = j.value("pins", json::object()), puks = j.value("puks", json::object());
  for (const auto& [k, v] : pins.items()) {
    auto it = img.pins.find(static_cast<std::uint8_t>(std::stoi(k)));
    if (it == img.pins.end()) continue;
    it->second.value = from_hex(v.value("value", to_hex(it->second.value)));
    it->second.attempts_left = v.value("left", it->second.attempts_left);
    it->second.enabled = v.value("enabled", it->second.enabled);
  }
  for (const auto& [k, v] : puks.items()) {
    auto it = img.puks.find(static_cast<std::uint8_t>(std::stoi(k)));
    if (it == img.puks.end()) continue;
    it->second.value = from_hex(v.value("value", to_hex(it->second.value)));
    it->second.attempts_left = v.value("left", it->second.attempts_left);
  }
}

}  // namespace

State State::load(const std::string& path) {
  State st;
  if (path.empty()) return st;
  std::ifstream in(path);
  if (!in) return st;
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    throw std::runtime_error("eUICC state file " + path + " is not valid JSON: " + e.what());
  }
  st.next_seq = j.value("next_seq", 1L);
  st.next_isdp = j.value("next_isdp", 0x10u);
  if (j.contains("default_dp_address") && j["default_dp_address"].is_string())
    st.default_dp_address = j["default_dp_address"].get<std::string>();
  st.rat_der = from_hex(j.value("rat", std::string()));
  for (const auto& c : j.value("crls", json::array())) st.crls.push_back(from_hex(c.get<std::string>()));
  for (const auto& jp : j.value("profiles", json::array())) {
    Profile p;
    p.iccid = jp.at("iccid").get<std::string>();
    p.isdp_aid = from_hex(jp.at("isdp_aid").get<std::string>());
    p.enabled = jp.value("state", std::string("disabled")) == "enabled";
    p.nickname = jp.value("nickname", std::string());
    p.service_provider_name = jp.value("service_provider_name", std::string());
    p.profile_name = jp.value("profile_name", std::string());
    p.profile_class = jp.value("profile_class", 2);
    p.store_metadata_der = from_hex(jp.value("store_metadata", std::string()));
    p.dp_proprietary_der = from_hex(jp.value("dp_proprietary_data", std::string()));
    p.smdp_address = jp.value("smdp_address", std::string());
    p.usim_aid = from_hex(jp.value("usim_aid", std::string()));
    p.package = from_hex(jp.value("package", std::string()));
    if (!p.package.empty()) {
      // The file system is rebuilt from the package, then the card's changes applied.
      try {
        p.image = std::shared_ptr<uicc::CardImage>(uicc::build_card_image(p.package));
        if (jp.contains("card")) apply_card_changes(*p.image, jp["card"]);
      } catch (const std::exception& e) {
        throw std::runtime_error("eUICC state file " + path + ": profile " + p.iccid + " does not rebuild: " + e.what());
      }
    }
    for (const auto& ja : jp.value("aka_parameters", json::array())) p.aka_parameters.push_back(from_hex(ja.get<std::string>()));
    st.profiles.push_back(std::move(p));
  }
  for (const auto& jn : j.value("notifications", json::array())) {
    Notification n;
    n.seq = jn.at("seq").get<long>();
    n.op = op_from(jn.at("op").get<std::string>());
    n.address = jn.value("address", std::string());
    n.iccid = jn.value("iccid", std::string());
    n.pending_der = from_hex(jn.value("pending", std::string()));
    st.notifications.push_back(std::move(n));
  }
  return st;
}

void State::save(const std::string& path) const {
  if (path.empty()) return;
  json j;
  j["version"] = 1;
  j["next_seq"] = next_seq;
  j["next_isdp"] = next_isdp;
  j["default_dp_address"] = default_dp_address ? json(*default_dp_address) : json(nullptr);
  j["rat"] = to_hex(rat_der);
  j["crls"] = json::array();
  for (const auto& c : crls) j["crls"].push_back(to_hex(c));
  j["profiles"] = json::array();
  for (const auto& p : profiles) {
    json jp;
    jp["iccid"] = p.iccid;
    jp["isdp_aid"] = to_hex(p.isdp_aid, true);
    jp["state"] = p.enabled ? "enabled" : "disabled";
    jp["nickname"] = p.nickname;
    jp["service_provider_name"] = p.service_provider_name;
    jp["profile_name"] = p.profile_name;
    jp["profile_class"] = p.profile_class;
    jp["store_metadata"] = to_hex(p.store_metadata_der);
    jp["dp_proprietary_data"] = to_hex(p.dp_proprietary_der);
    jp["smdp_address"] = p.smdp_address;
    jp["usim_aid"] = to_hex(p.usim_aid, true);
    jp["package"] = to_hex(p.package);
    if (p.image) jp["card"] = card_changes(*p.image);
    jp["aka_parameters"] = json::array();
    for (const auto& a : p.aka_parameters) jp["aka_parameters"].push_back(to_hex(a));
    j["profiles"].push_back(std::move(jp));
  }
  j["notifications"] = json::array();
  for (const auto& n : notifications) {
    j["notifications"].push_back(
        {{"seq", n.seq}, {"op", op_name(n.op)}, {"address", n.address}, {"iccid", n.iccid}, {"pending", to_hex(n.pending_der)}});
  }
  std::string text = j.dump(1);
  // A failure at any step leaves the previous state file as it was.
  replace_private_file(path, to_bytes(text), "eUICC state");
}

}  // namespace rsp::sim
