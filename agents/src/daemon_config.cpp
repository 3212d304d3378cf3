#include "rsp/agents/daemon_config.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "rsp/file.hpp"
#include "rsp/json.hpp"

namespace rsp::agents {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// One object of the configuration: unknown keys are refused (a typo must
// not silently fall back to a default), each error names its key.
class Section {
 public:
  Section(const json& j, std::string path, std::set<std::string> known) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_.empty() ? "the configuration" : path_, "must be an object");
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!known.count(it.key())) fail(name(it.key()), "is not a configuration key");
  }
  bool has(const char* k) const { return j_.contains(k); }
  const json& at(const char* k) const {
    if (!has(k)) fail(name(k), "is required");
    return j_.at(k);
  }
  std::string name(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }
  std::string text(const char* k, const std::string& fallback, bool required = false) const {
    if (!has(k)) {
      if (required) fail(name(k), "is required");
      return fallback;
    }
    if (!j_.at(k).is_string() || j_.at(k).get<std::string>().empty()) fail(name(k), "must be a non-empty string");
    return j_.at(k).get<std::string>();
  }
  std::int64_t integer(const char* k, std::int64_t fallback, std::int64_t min, std::int64_t max) const {
    if (!has(k)) return fallback;
    const json& v = j_.at(k);
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > max)
      fail(name(k), "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return v.get<std::int64_t>();
  }
  [[noreturn]] static void fail(const std::string& key, const std::string& why) {
    throw DaemonConfigError(key + " " + why);
  }

 private:
  const json& j_;
  std::string path_;
};

json read_config(const fs::path& file) {
  std::string text;
  try {
    text = rsp::to_string(read_file(file.string(), 1 << 20));
  } catch (const std::exception& e) {
    // Not a configuration error: an I/O one (exit 1), naming the path.
    throw std::runtime_error(std::string("cannot read the configuration: ") + e.what());
  }
  try {
    return parse_json(text, JsonLimits{1 << 20, 8, 1000, 64 * 1024});
  } catch (const JsonError& e) {
    throw DaemonConfigError(file.string() + " is not JSON: " + e.what());
  }
}

const std::set<std::string> kCommonKeys = {"ledger", "state_db", "poll_interval_ms", "log"};

void load_common(const Section& top, const fs::path& base, AgentDaemonCommon& c) {
  auto rel = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
  Section l(top.at("ledger"), "ledger", {"embedded", "chain", "genesis", "deployment", "key", "participant"});
  c.ledger.key_file = rel(l.text("key", "", true));
  if (l.has("embedded") == l.has("deployment"))
    Section::fail("ledger", "needs either \"embedded\" (the ledger file) or \"deployment\" (a chain deployment)");
  if (l.has("embedded")) {
    c.ledger.backend = "embedded";
    c.ledger.path = rel(l.text("embedded", ""));
    c.ledger.genesis_hex = l.text("genesis", "");
    c.ledger.participant = l.text("participant", "", true);
  } else {
    c.ledger.backend = "chain";
    c.ledger.deployment = rel(l.text("deployment", ""));
    c.ledger.participant = l.text("participant", "");
  }
  c.state_db = rel(top.text("state_db", "", true));
  c.poll_interval = std::chrono::milliseconds(top.integer("poll_interval_ms", 1000, 50, 3'600'000));
  if (top.has("log")) {
    Section g(top.at("log"), "log", {"format", "level"});
    c.log_format = g.text("format", "");
    c.log_level = g.text("level", "");
  }
}

TlsClientConfig load_tls(const json& j, const std::string& path, const fs::path& base) {
  auto rel = [&](const std::string& p) { return fs::path(p).is_absolute() ? p : (base / p).string(); };
  Section s(j, path, {"url", "ca", "certificate", "key"});
  TlsClientConfig t;
  t.url = s.text("url", "", true);
  if (t.url.rfind("https://", 0) != 0) Section::fail(path + ".url", "must be an https:// URL");
  t.ca_file = rel(s.text("ca", "", true));
  t.certificate_file = rel(s.text("certificate", "", true));
  t.key_file = rel(s.text("key", "", true));
  return t;
}

std::set<std::string> with_common(std::set<std::string> keys) {
  keys.insert(kCommonKeys.begin(), kCommonKeys.end());
  return keys;
}

std::string str(const json& j, const char* k) {
  if (!j.contains(k) || !j.at(k).is_string() || j.at(k).get<std::string>().empty())
    throw std::runtime_error(std::string("\"") + k + "\" must be a non-empty string");
  return j.at(k).get<std::string>();
}
std::int64_t num(const json& j, const char* k) {
  if (!j.contains(k)) return 0;
  if (!j.at(k).is_number_integer() || j.at(k).get<std::int64_t>() < 0)
    throw std::runtime_error(std::string("\"") + k + "\" must be a non-negative integer");
  return j.at(k).get<std::int64_t>();
}
json parse_spool(const std::string& text) {
  json j;
  try {
    j = parse_json(text, JsonLimits{16 * 1024, 2, 32, 1024});
  } catch (const JsonError& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::runtime_error("not a JSON object");
  return j;
}

}  // namespace

VisitedAgentConfig load_visited_agent_config(const fs::path& file) {
  json j = read_config(file);
  const fs::path base = file.parent_path();
  auto rel = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
  Section top(j, "", with_common({"seal_key", "profile_type", "es2plus", "requester_id", "smdp_config", "hss",
                                  "network_spool"}));
  VisitedAgentConfig c;
  load_common(top, base, c);
  c.seal_key_file = rel(top.text("seal_key", "", true));
  c.profile_type = top.text("profile_type", "", true);
  c.es2plus = load_tls(top.at("es2plus"), "es2plus", base);
  c.requester_id = top.text("requester_id", c.ledger.participant);
  if (c.requester_id.empty()) Section::fail("requester_id", "is required on the chain backend");
  c.smdp_config = rel(top.text("smdp_config", "", true));
  Section h(top.at("hss"), "hss", {"db", "storage_key_file"});
  c.hss_db = rel(h.text("db", "", true));
  c.hss_key_file = rel(h.text("storage_key_file", "", true));
  c.network_spool = rel(top.text("network_spool", "", true));
  return c;
}

HomeAgentConfig load_home_agent_config(const fs::path& file) {
  json j = read_config(file);
  const fs::path base = file.parent_path();
  auto rel = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
  Section top(j, "", with_common({"reply_key", "orders_spool", "delivery_dir", "otad"}));
  HomeAgentConfig c;
  load_common(top, base, c);
  c.reply_key_file = rel(top.text("reply_key", "", true));
  c.orders_spool = rel(top.text("orders_spool", "", true));
  c.delivery_dir = rel(top.text("delivery_dir", "", true));
  if (top.has("otad")) {
    json o = top.at("otad");
    if (o.is_object() && o.contains("transport")) {
      if (!o["transport"].is_string() || (o["transport"] != "sms" && o["transport"] != "scp81"))
        Section::fail("otad.transport", "must be \"sms\" or \"scp81\"");
      c.otad_transport = o["transport"].get<std::string>();
      o.erase("transport");
    }
    c.otad = load_tls(o, "otad", base);
  }
  return c;
}

NetworkEvent NetworkEvent::from_json(const std::string& text) {
  json j = parse_spool(text);
  NetworkEvent e;
  e.kind = str(j, "event");
  if (e.kind == "attach") {
    e.attach.accepted = true;
    e.attach.imsi = str(j, "imsi");
    e.attach.iccid = str(j, "iccid");
    e.plmn = str(j, "plmn");
  } else if (e.kind == "usage") {
    e.usage.imsi = str(j, "imsi");
    e.usage.record_id = str(j, "record_id");
    e.usage.period_start = num(j, "period_start");
    e.usage.period_end = num(j, "period_end");
    e.usage.data_mb = num(j, "data_mb");
    e.usage.voice_minutes = num(j, "voice_minutes");
    e.usage.sms = num(j, "sms");
  } else {
    throw std::runtime_error("\"event\" must be \"attach\" or \"usage\"");
  }
  return e;
}

std::string NetworkEvent::to_json() const {
  if (kind == "attach")
    return json{{"event", "attach"}, {"imsi", attach.imsi}, {"iccid", attach.iccid}, {"plmn", plmn}}.dump();
  return json{{"event", "usage"},       {"imsi", usage.imsi},           {"record_id", usage.record_id},
              {"period_start", usage.period_start}, {"period_end", usage.period_end}, {"data_mb", usage.data_mb},
              {"voice_minutes", usage.voice_minutes}, {"sms", usage.sms}}
      .dump();
}

PurchaseOrder PurchaseOrder::from_json(const std::string& text) {
  json j = parse_spool(text);
  PurchaseOrder o;
  o.offer_id = str(j, "offer_id");
  o.subscriber = str(j, "subscriber");
  if (j.contains("eid") == j.contains("iccid")) throw std::runtime_error("give either \"eid\" or \"iccid\"");
  if (j.contains("eid")) o.eid = str(j, "eid");
  if (j.contains("iccid")) o.iccid = str(j, "iccid");
  if (j.contains("request_id")) o.request_id = str(j, "request_id");
  return o;
}

std::string PurchaseOrder::to_json() const {
  json j{{"offer_id", offer_id}, {"subscriber", subscriber}};
  if (!eid.empty()) j["eid"] = eid;
  if (!iccid.empty()) j["iccid"] = iccid;
  if (!request_id.empty()) j["request_id"] = request_id;
  return j.dump();
}

std::vector<fs::path> spool_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

void spool_move(const fs::path& file, const std::string& sub) {
  fs::path to = file.parent_path() / sub;
  fs::create_directories(to);
  fs::rename(file, to / file.filename());
}

void spool_write(const fs::path& dir, const std::string& name, const std::string& text) {
  fs::create_directories(dir);
  replace_private_file((dir / name).string(), to_bytes(text), "spool file");
}

}  // namespace rsp::agents
