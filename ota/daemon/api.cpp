#include "rsp/otad/api.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "rsp/crypto.hpp"
#include "rsp/json.hpp"
#include "rsp/log.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/status.hpp"
#include "rsp/otad/multi_account_commands.hpp"
#include "rsp/otad/remote_application.hpp"
#include "rsp/otad/scp81_sessions.hpp"

namespace rsp::otad {

namespace {

using nlohmann::json;

// A refusal of the request as sent: its status and our reason.
struct ApiError : std::runtime_error {
  ApiError(int s, const std::string& why) : std::runtime_error(why), status(s) {}
  int status;
};

http::Response reply(int status, const json& j) { return http::Response::json(j.dump() + "\n", status); }
http::Response error(int status, const std::string& why) { return reply(status, json{{"error", why}}); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

json parse_body(const std::string& body, const Limits& lim) {
  JsonLimits jl;
  jl.max_bytes = std::max({lim.campaign_body_bytes, lim.command_body_bytes, lim.small_body_bytes});
  jl.max_depth = lim.max_json_depth;
  jl.max_values = 4 * lim.max_campaign_cards + 1000;
  jl.max_string_bytes = jl.max_bytes;
  try {
    json j = parse_json(body, jl);
    if (!j.is_object()) throw ApiError(400, "the body must be a JSON object");
    return j;
  } catch (const JsonError& e) {
    throw ApiError(400, std::string("the body is not usable JSON: ") + e.what());
  }
}

// Field readers: the reason names the field.
const json& field(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end()) throw ApiError(400, std::string(k) + " is required");
  return *it;
}
std::string text(const json& j, const char* k, bool required = true, const std::string& fallback = "") {
  auto it = j.find(k);
  if (it == j.end()) {
    if (required) throw ApiError(400, std::string(k) + " is required");
    return fallback;
  }
  if (!it->is_string()) throw ApiError(400, std::string(k) + " must be a string");
  return it->get<std::string>();
}
std::int64_t integer(const json& j, const char* k, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
  auto it = j.find(k);
  if (it == j.end()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi)
    throw ApiError(400, std::string(k) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
  return it->get<std::int64_t>();
}
Bytes hex_field(const std::string& v, const char* k, std::size_t min_len = 0, std::size_t max_len = SIZE_MAX) {
  Bytes b;
  try {
    b = from_hex(v);
  } catch (const DecodeError&) {
    throw ApiError(400, std::string(k) + " must be hex");
  }
  if (b.size() < min_len || b.size() > max_len) throw ApiError(400, std::string(k) + " has the wrong length");
  return b;
}
ota::Tar tar_field(const json& j, const char* k = "tar") {
  Bytes b = hex_field(text(j, k), k, 3, 3);
  return {b[0], b[1], b[2]};
}
void check_iccid(const std::string& iccid) {
  if (iccid.size() < 18 || iccid.size() > 20 || iccid.find_first_not_of("0123456789") != std::string::npos)
    throw ApiError(400, "iccid must be 18 to 20 digits");
}
void check_msisdn(const std::string& m) {
  if (m.empty() || m.size() > 20 || m.find_first_not_of("0123456789") != std::string::npos)
    throw ApiError(400, "msisdn must be 1 to 20 digits");
}
ota::Algorithm algorithm_field(const json& j, const char* k) {
  try {
    return ota::algorithm_from_name(text(j, k));
  } catch (const std::invalid_argument&) {
    throw ApiError(400, std::string(k) + " names no algorithm we know");
  }
}

// The script a request carries: `script` (a whole command script, hex) or
// `apdus` (C-APDUs, hex) with `format` expanded (default) or compact
// (TS 102 226 5.1).
Bytes script_field(const json& j) {
  if (j.contains("script")) return hex_field(text(j, "script"), "script", 1, 64 * 1024);
  const json& a = field(j, "apdus");
  if (!a.is_array() || a.empty() || a.size() > 255) throw ApiError(400, "apdus must be a list of 1 to 255 C-APDUs");
  std::vector<Bytes> capdus;
  for (const auto& x : a) {
    if (!x.is_string()) throw ApiError(400, "apdus must hold hex strings");
    capdus.push_back(hex_field(x.get<std::string>(), "apdus", 4, 261));
  }
  std::string format = text(j, "format", false, "expanded");
  if (format != "expanded" && format != "compact") throw ApiError(400, "format must be expanded or compact");
  return ota::encode_command_script(format == "compact" ? ota::CommandScript::compact(std::move(capdus))
                                                        : ota::CommandScript::expanded(std::move(capdus)));
}

// The SPI when the request gives none: the TAR's MSL, with at least the
// counter mode "process if higher" (every packet has a fresh counter
// anyway), a PoR always, by SMS-SUBMIT, protected as the command is (as
// `ota card build-packet`, docs/ota.md).
ota::Spi default_spi(std::uint8_t msl) {
  std::uint8_t first = msl;
  if (((first >> 3) & 0x03) < 2) first = static_cast<std::uint8_t>((first & ~0x18) | 0x10);
  ota::Spi s = ota::Spi::decode(first, 0x21);
  if (s.rc_cc_ds != ota::RcCcDs::Ds) s.por_rc_cc_ds = s.rc_cc_ds;
  s.por_ciphered = s.ciphering;
  return s;
}

ota::Spi spi_for(const ota::CardInfo& info, const ota::Tar& tar, const std::string& spi_hex) {
  std::optional<std::uint8_t> msl;
  for (const auto& t : info.tars)
    if (t.tar == tar) msl = t.msl;
  if (!msl) throw ApiError(422, "card " + info.iccid + " has no TAR " + to_hex(ByteView(tar.data(), 3), true));
  if (spi_hex.empty()) return default_spi(*msl);
  Bytes b = hex_field(spi_hex, "spi", 2, 2);
  try {
    return ota::Spi::decode(b[0], b[1]);
  } catch (const std::exception&) {
    throw ApiError(400, "spi has reserved bits set");
  }
}

std::string new_id(const char* prefix) { return prefix + to_hex(crypto::random_bytes(8)); }

json card_json(const JobCard& c) {
  json j = {{"iccid", c.iccid}, {"state", std::string(to_string(c.state))}, {"attempts", c.attempts}};
  if (c.key_version) {
    j["key_version"] = c.key_version;
    j["cntr"] = c.cntr;
  }
  if (c.por_status) {
    j["por_status"] = to_hex(Bytes{*c.por_status}, true);
    j["por_status_name"] = ota::status_name(*c.por_status);
  }
  if (c.submit_status) j["submit_status"] = ota::smpp::status_name(c.submit_status);
  return j;
}

json counts_json(const JobCounts& c) {
  return {{"queued", c.queued},       {"sent", c.sent},           {"por_ok", c.por_ok},
          {"por_error", c.por_error}, {"retrying", c.retrying},   {"expired", c.expired},
          {"cancelled", c.cancelled}, {"failed", c.failed},       {"done", c.done}};
}

// "transport": "sms" (default) or "scp81".
Transport transport_field(const json& j) {
  std::string t = text(j, "transport", false, "sms");
  if (t == "sms") return Transport::Sms;
  if (t == "scp81") return Transport::Scp81;
  throw ApiError(400, "transport must be sms or scp81");
}

// The security domain's TAR (TS 101 220 Annex D: the ISD): where the push
// SMS goes (GlobalPlatform Amendment B 3.6).
constexpr ota::Tar kIsdTar{0x00, 0x00, 0x00};
const Bytes kIsdAid = from_hex("A000000151000000");

// Over SCP81 the TAR names no application: the script says which one with
// X-Admin-Targeted-Application (Amendment B 3.4.2), or none for the
// security domain's default, RFM on the UICC file system (TS 102 226
// annex B). The TARs we know the application of.
std::string targeted_for_tar(const ota::Tar& tar) {
  if (tar == multi_account_tar()) return targeted_application(multi_account_aid());
  if (tar == kIsdTar) return targeted_application(kIsdAid);
  if (tar == ota::Tar{0xB0, 0x00, 0x00}) return "";  // RFM, UICC file system (TS 101 220 Annex D)
  throw ApiError(422, "over scp81 the tar must be B00000 (RFM), 000000 (the ISD) or 4D4153 (the multi-account applet)");
}

}  // namespace

std::size_t api_body_limit(const Limits& limits, std::string_view path) {
  if (path == "/ota/v1/campaigns") return limits.campaign_body_bytes;
  if (starts_with(path, "/ota/v1/cards/") && path.size() > 9 && path.substr(path.size() - 9) == "/commands")
    return limits.command_body_bytes;
  return limits.small_body_bytes;
}

Api::Api(ota::CardStore& cards, CampaignStore& jobs, CampaignRunner& runner, const Limits& limits,
         double default_sms_per_second, Scp81Keys& scp81_keys, bool scp81_on)
    : cards_(cards),
      jobs_(jobs),
      runner_(runner),
      limits_(limits),
      default_rate_(default_sms_per_second),
      scp81_keys_(scp81_keys),
      scp81_on_(scp81_on) {}

const std::vector<ApiRoute>& Api::routes() {
  using Params = const std::vector<std::string>&;
  using R = const http::Request&;
  static const std::vector<ApiRoute> r = {
      {"POST", {"cards"}, "POST /cards", [](Api& a, R q, Params) { return a.register_card(q.body); }},
      {"GET", {"cards", "{}"}, "GET /cards/{iccid}", [](Api& a, R, Params x) { return a.show_card(x[0]); }},
      {"DELETE", {"cards", "{}"}, "DELETE /cards/{iccid}", [](Api& a, R, Params x) { return a.delete_card(x[0]); }},
      {"POST", {"cards", "{}", "commands"}, "POST /cards/{iccid}/commands",
       [](Api& a, R q, Params x) { return a.command(x[0], q.body); }},
      {"POST", {"cards", "{}", "accounts"}, "POST /cards/{iccid}/accounts",
       [](Api& a, R q, Params x) { return a.account(x[0], q.method, {}, q.body); }},
      {"POST", {"cards", "{}", "accounts", "{}", "switch"}, "POST /cards/{iccid}/accounts/{slot}/switch",
       [](Api& a, R q, Params x) { return a.account(x[0], q.method, {x[1], "switch"}, q.body); }},
      {"DELETE", {"cards", "{}", "accounts", "{}"}, "DELETE /cards/{iccid}/accounts/{slot}",
       [](Api& a, R q, Params x) { return a.account(x[0], q.method, {x[1]}, q.body); }},
      {"POST", {"cards", "{}", "applications"}, "POST /cards/{iccid}/applications",
       [](Api& a, R q, Params x) { return a.application(x[0], q.body); }},
      {"GET", {"commands", "{}"}, "GET /commands/{id}", [](Api& a, R, Params x) { return a.command_status(x[0]); }},
      {"POST", {"campaigns"}, "POST /campaigns", [](Api& a, R q, Params) { return a.create_campaign(q.body); }},
      {"GET", {"campaigns", "{}"}, "GET /campaigns/{id}",
       [](Api& a, R q, Params x) { return a.campaign_status(x[0], q.target.find("cards=") != std::string::npos); }},
      {"POST", {"campaigns", "{}", "cancel"}, "POST /campaigns/{id}/cancel",
       [](Api& a, R, Params x) { return a.cancel_campaign(x[0]); }},
  };
  return r;
}

http::Response Api::handle(const http::Request& req) {
  std::string_view path = req.path();
  if (!starts_with(path, kApiPrefix)) return error(404, "not found");
  auto p = split_path(path.substr(kApiPrefix.size()));
  const std::string& m = req.method;
  try {
    for (const auto& r : routes()) {
      if (m != r.method || p.size() != r.segments.size()) continue;
      std::vector<std::string> params;
      bool match = true;
      for (std::size_t i = 0; i < p.size() && match; ++i) {
        if (r.segments[i] == "{}")
          params.push_back(p[i]);
        else
          match = r.segments[i] == p[i];
      }
      if (match) return r.handler(*this, req, params);
    }
    return error(404, "no such endpoint");
  } catch (const ApiError& e) {
    return error(e.status, e.what());
  } catch (const ota::UnknownCard&) {
    return error(404, "unknown card");
  } catch (const UnknownJob&) {
    return error(404, "unknown command or campaign");
  } catch (const Scp81Keys::DuplicateIdentity& e) {
    return error(409, e.what());
  } catch (const ota::DuplicateCard&) {
    return error(409, "card already registered");
  } catch (const ota::CardStoreError& e) {
    return error(422, e.what());  // ours: duplicate key set or TAR, MSL, counter
  } catch (const std::invalid_argument& e) {
    return error(400, e.what());  // ours: a key that does not fit its algorithm, an account field
  } catch (const std::exception& e) {
    log::error("otad", std::string("API ") + m + " " + std::string(path) + ": " + e.what());
    return error(500, "internal error");
  }
}

http::Response Api::register_card(const std::string& body) {
  json j = parse_body(body, limits_);
  std::string iccid = text(j, "iccid"), msisdn = text(j, "msisdn");
  check_iccid(iccid);
  check_msisdn(msisdn);
  std::vector<ota::CardStore::NewKeySet> sets;
  const json& ks = field(j, "key_sets");
  if (!ks.is_array() || ks.empty() || ks.size() > 15) throw ApiError(400, "key_sets must list 1 to 15 key sets");
  for (const auto& k : ks) {
    if (!k.is_object()) throw ApiError(400, "key_sets must hold objects");
    ota::CardStore::NewKeySet n;
    n.keys.version = static_cast<std::uint8_t>(integer(k, "version", -1, 1, 15));
    if (!k.contains("version")) throw ApiError(400, "version is required");
    n.keys.cipher = algorithm_field(k, "cipher");
    n.keys.checksum = algorithm_field(k, "checksum");
    Bytes kic = hex_field(text(k, "kic"), "kic", 0, 32), kid = hex_field(text(k, "kid", false), "kid", 0, 32);
    n.keys.kic = SecretBytes(kic.begin(), kic.end());
    n.keys.kid = SecretBytes(kid.begin(), kid.end());
    std::fill(kic.begin(), kic.end(), 0);
    std::fill(kid.begin(), kid.end(), 0);
    n.counter = static_cast<std::uint64_t>(integer(k, "counter", 0, 0, 0xFFFFFFFFFF));
    sets.push_back(std::move(n));
  }
  std::vector<ota::CardTar> tars;
  if (j.contains("tars")) {
    const json& ts = j.at("tars");
    if (!ts.is_array() || ts.size() > 64) throw ApiError(400, "tars must list at most 64 TARs");
    for (const auto& t : ts) {
      if (!t.is_object()) throw ApiError(400, "tars must hold objects");
      ota::CardTar ct;
      ct.tar = tar_field(t);
      ct.msl = hex_field(text(t, "msl"), "msl", 1, 1)[0];
      ct.key_version = static_cast<std::uint8_t>(integer(t, "key_version", sets.front().keys.version, 1, 15));
      tars.push_back(ct);
    }
  }
  // SCP81 (optional): the card's PSK-TLS key, checked before anything is
  // written.
  std::optional<Scp81Key> psk;
  if (j.contains("scp81")) {
    const json& s = j.at("scp81");
    if (!s.is_object()) throw ApiError(400, "scp81 must be an object");
    Scp81Key k;
    k.psk_identity = text(s, "psk_identity");
    Bytes p = hex_field(text(s, "psk"), "psk", 16, 32);
    k.psk = SecretBytes(p.begin(), p.end());
    std::fill(p.begin(), p.end(), 0);
    if (!s.contains("key_version")) throw ApiError(400, "key_version is required");
    if (!s.contains("key_id")) throw ApiError(400, "key_id is required");
    k.key_version = static_cast<std::uint8_t>(integer(s, "key_version", 0, 1, 127));
    k.key_id = static_cast<std::uint8_t>(integer(s, "key_id", 0, 1, 255));
    Scp81Keys::check(k);
    if (scp81_keys_.identity_taken(k.psk_identity)) throw ApiError(409, "scp81.psk_identity is another card's");
    psk = std::move(k);
  }
  cards_.add_card(iccid, sets, tars);
  if (psk) {
    try {
      scp81_keys_.add(iccid, *psk);
    } catch (...) {
      cards_.delete_card(iccid);  // all or nothing
      throw;
    }
  }
  jobs_.set_msisdn(iccid, msisdn);
  log::info("otad", "card " + iccid + " registered");
  return reply(201, json{{"iccid", iccid}});
}

http::Response Api::show_card(const std::string& iccid) {
  ota::CardInfo info = cards_.show(iccid);
  json sets = json::array(), tars = json::array();
  for (const auto& k : info.key_sets)
    sets.push_back({{"version", k.version},
                    {"cipher", std::string(ota::algorithm_name(k.cipher))},
                    {"checksum", std::string(ota::algorithm_name(k.checksum))},
                    {"kic_kcv", k.kic_kcv},
                    {"kid_kcv", k.kid_kcv},
                    {"counter", k.counter}});
  for (const auto& t : info.tars)
    tars.push_back({{"tar", to_hex(ByteView(t.tar.data(), 3), true)},
                    {"msl", to_hex(Bytes{t.msl}, true)},
                    {"key_version", t.key_version}});
  json out = {{"iccid", iccid}, {"msisdn", jobs_.msisdn(iccid).value_or("")}, {"key_sets", sets}, {"tars", tars}};
  if (auto k = scp81_keys_.info(iccid))
    out["scp81"] = {{"psk_identity", k->psk_identity},
                    {"key_version", k->key_version},
                    {"key_id", k->key_id},
                    {"psk_kcv", k->psk_kcv}};
  return reply(200, out);
}

http::Response Api::delete_card(const std::string& iccid) {
  cards_.delete_card(iccid);
  scp81_keys_.forget(iccid);
  jobs_.forget_card(iccid);
  return http::Response::empty(204);
}

http::Response Api::queue_command(const std::string& iccid, const ota::Tar& tar, const std::string& spi_hex,
                                  const Bytes& script, Transport transport, const std::string& kind) {
  check_iccid(iccid);
  auto msisdn = jobs_.msisdn(iccid);
  if (!msisdn) throw ota::UnknownCard("unknown card");
  JobCard c;
  c.iccid = iccid;
  c.msisdn = *msisdn;
  c.script = script;
  c.transport = transport;
  ota::Tar packet_tar = tar;
  if (transport == Transport::Scp81) {
    if (!scp81_on_) throw ApiError(422, "this otad has no SCP81 listener (scp81.port)");
    if (!scp81_keys_.info(iccid)) throw ApiError(422, "card " + iccid + " has no SCP81 keys registered");
    c.targeted = targeted_for_tar(tar);
    // The admin session carries expanded scripts only (TS 102 226 annex B).
    try {
      auto set = tar == kIsdTar ? ota::CommandSet::GlobalPlatform : ota::CommandSet::Uicc;
      auto s = ota::decode_command_script(script, set);
      s.format = ota::ScriptFormat::Expanded;
      c.script = ota::encode_command_script(s, set);
    } catch (const DecodeError&) {
      throw ApiError(400, "script does not parse as a TS 102 226 command script");
    }
    packet_tar = kIsdTar;  // the push SMS goes to the security domain
  }
  c.spi = spi_for(cards_.show(iccid), packet_tar, spi_hex);
  Job job;
  job.id = new_id("cmd-");
  job.kind = kind;
  job.tar = packet_tar;
  job.created_ms = CampaignRunner::now_ms();
  c.job_id = job.id;
  jobs_.create(job, {c});
  runner_.wake();
  return reply(202, json{{"id", job.id}});
}

http::Response Api::command(const std::string& iccid, const std::string& body) {
  json j = parse_body(body, limits_);
  return queue_command(iccid, tar_field(j), text(j, "spi", false), script_field(j), transport_field(j));
}

http::Response Api::account(const std::string& iccid, const std::string& method,
                            const std::vector<std::string>& parts, const std::string& body) {
  // POST .../accounts (install), POST .../accounts/N/switch, DELETE .../accounts/N
  auto slot = [&](const std::string& s) {
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos || std::stoi(s) < 1 ||
        std::stoi(s) > 254)
      throw ApiError(400, "account id must be 1 to 254");
    return static_cast<std::uint8_t>(std::stoi(s));
  };
  json j = body.empty() ? json::object() : parse_body(body, limits_);
  ota::Tar tar = j.contains("tar") ? tar_field(j) : multi_account_tar();
  std::string spi = text(j, "spi", false);
  std::vector<Bytes> apdus;
  if (parts.empty() && method == "POST") {
    Account a;
    a.id = static_cast<std::uint8_t>(integer(j, "id", 1, 1, 254));
    a.imsi = text(j, "imsi");
    Bytes ki = hex_field(text(j, "ki"), "ki", 16, 16), opc = hex_field(text(j, "opc"), "opc", 16, 16);
    a.ki = SecretBytes(ki.begin(), ki.end());
    a.opc = SecretBytes(opc.begin(), opc.end());
    std::fill(ki.begin(), ki.end(), 0);
    std::fill(opc.begin(), opc.end(), 0);
    a.spn = text(j, "spn", false);
    a.label = text(j, "label", false);
    apdus = install_account_apdus(a);
  } else if (parts.size() == 2 && parts[1] == "switch" && method == "POST") {
    apdus = switch_account_apdus(slot(parts[0]));
  } else if (parts.size() == 1 && method == "DELETE") {
    apdus = delete_account_apdus(slot(parts[0]));
  } else {
    return error(404, "no such endpoint");
  }
  return queue_command(iccid, tar, spi, ota::encode_command_script(ota::CommandScript::expanded(std::move(apdus))),
                       transport_field(j));
}

http::Response Api::application(const std::string& iccid, const std::string& body) {
  json j = parse_body(body, limits_);
  ApplicationRequest r;
  std::string action = text(j, "action");
  auto aid = [&](const char* k) { return hex_field(text(j, k), k, 5, 16); };
  if (action == "install") {
    r.action = ApplicationRequest::Action::Install;
    r.load_file_aid = aid("package_aid");
    r.module_aid = aid("module_aid");
    r.instance_aid = j.contains("instance_aid") ? aid("instance_aid") : r.module_aid;
    r.privileges = hex_field(text(j, "privileges", false, "00"), "privileges", 1, 3);
    r.install_params = hex_field(text(j, "install_params", false), "install_params", 0, 200);
    if (j.contains("make_selectable")) {
      if (!j.at("make_selectable").is_boolean()) throw ApiError(400, "make_selectable must be true or false");
      r.make_selectable = j.at("make_selectable").get<bool>();
    }
  } else if (action == "delete" || action == "lock" || action == "unlock") {
    r.action = action == "delete" ? ApplicationRequest::Action::Delete
               : action == "lock" ? ApplicationRequest::Action::Lock
                                  : ApplicationRequest::Action::Unlock;
    r.aid = aid("aid");
    if (j.contains("related")) {
      if (!j.at("related").is_boolean() || action != "delete") throw ApiError(400, "related must be true or false, with delete");
      r.related = j.at("related").get<bool>();
    }
  } else if (action == "status") {
    r.action = ApplicationRequest::Action::Status;
    std::string scope = text(j, "scope", false, "applications");
    if (scope == "applications") r.scope = gp::StatusScope::Applications;
    else if (scope == "load_files") r.scope = gp::StatusScope::LoadFilesAndModules;
    else if (scope == "isd") r.scope = gp::StatusScope::Isd;
    else throw ApiError(400, "scope must be applications, load_files or isd");
  } else {
    throw ApiError(400, "action must be install, delete, lock, unlock or status");
  }
  // The ISD's TAR: over SMS the script's packet goes there (TS 102 226 8),
  // over SCP81 the script names the ISD (X-Admin-Targeted-Application).
  Bytes script = ota::encode_command_script(ota::CommandScript::expanded(application_apdus(r)), ota::CommandSet::GlobalPlatform);
  return queue_command(iccid, kIsdTar, text(j, "spi", false), script, transport_field(j), "application");
}

http::Response Api::command_status(const std::string& id) {
  Job job = jobs_.job(id);
  auto cards = jobs_.cards(id, 1);
  if (cards.empty()) throw UnknownJob("no card");
  const JobCard& c = cards.front();
  json j = card_json(c);
  j["id"] = id;
  j["kind"] = job.kind;
  j["transport"] = std::string(to_string(c.transport));
  if (c.transport == Transport::Scp81) {
    // The push SMS's PoR (por_status) and the admin session's outcome.
    if (!c.script_status.empty()) j["script_status"] = c.script_status;
    if (!c.response.empty()) {
      try {
        auto rs = ota::decode_response_script(ota::ScriptFormat::Expanded, c.response);
        json r = json::array();
        for (const auto& x : rs.r_apdus()) r.push_back(to_hex(x, true));
        j["executed"] = rs.executed;
        j["r_apdus"] = r;
        if (job.kind == "application") j["result"] = application_result(c.script, rs.r_apdus());
      } catch (const DecodeError&) {
        j["response_script"] = to_hex(c.response, true);
      }
    }
    if (job.kind == "application" && is_final(c.state) && !j.contains("result"))
      j["result"] = {{"success", false}, {"reason", "no response script from the card"}};
    return reply(200, j);
  }
  if (c.por_status) {
    if (auto por = cards_.por(c.iccid, c.key_version, c.cntr); por && !por->additional_data.empty()) {
      j["additional_data"] = to_hex(por->additional_data, true);
      try {
        auto rs = ota::decode_response_script(ota::script_format(c.script), por->additional_data);
        json r = json::array();
        for (const auto& x : rs.r_apdus()) r.push_back(to_hex(x, true));
        j["executed"] = rs.executed;
        j["r_apdus"] = r;
        if (job.kind == "application") j["result"] = application_result(c.script, rs.r_apdus());
      } catch (const DecodeError&) {
        // given as it came (additional_data)
      }
    }
  }
  // PoR 00 is not success: the script may have stopped at a refusal
  // (TS 102 226 5.1.1); a PoR other than 00 ran nothing.
  if (job.kind == "application" && is_final(c.state) && !j.contains("result"))
    j["result"] = {{"success", false},
                   {"reason", !c.por_status       ? std::string("no PoR")
                              : *c.por_status == 0x00 ? std::string("PoR 00 without a response script")
                                                      : "PoR " + to_hex(Bytes{*c.por_status}, true) + " (" +
                                                            std::string(ota::status_name(*c.por_status)) + "): nothing ran"}};
  return reply(200, j);
}

http::Response Api::create_campaign(const std::string& body) {
  json j = parse_body(body, limits_);
  ota::Tar tar = tar_field(j);
  std::string spi_hex = text(j, "spi", false);
  std::optional<Bytes> common;
  if (j.contains("script") || j.contains("apdus")) common = script_field(j);
  // The cards: `cards` (ICCIDs, or {iccid, script} objects) or `batch` (a
  // text file's content: one ICCID per line, optionally `,script-hex`).
  std::vector<std::pair<std::string, Bytes>> list;
  auto add = [&](const std::string& iccid, const std::string& script_hex) {
    if (list.size() >= limits_.max_campaign_cards)
      throw ApiError(413, "more than " + std::to_string(limits_.max_campaign_cards) + " cards");
    Bytes s;
    if (!script_hex.empty()) s = hex_field(script_hex, "script", 1, 64 * 1024);
    else if (common) s = *common;
    else throw ApiError(400, "card " + iccid + " has no script (give script/apdus for all, or one per card)");
    list.emplace_back(iccid, std::move(s));
  };
  if (j.contains("cards")) {
    const json& cs = j.at("cards");
    if (!cs.is_array()) throw ApiError(400, "cards must be a list");
    for (const auto& x : cs) {
      if (x.is_string()) add(x.get<std::string>(), "");
      else if (x.is_object()) add(text(x, "iccid"), text(x, "script", false));
      else throw ApiError(400, "cards must hold ICCIDs or {iccid, script} objects");
    }
  } else {
    std::string batch = text(j, "batch");
    std::size_t i = 0;
    while (i < batch.size()) {
      std::size_t e = batch.find('\n', i);
      if (e == std::string::npos) e = batch.size();
      std::string line = batch.substr(i, e - i);
      i = e + 1;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (line.empty() || line[0] == '#') continue;
      auto comma = line.find(',');
      add(line.substr(0, comma), comma == std::string::npos ? "" : line.substr(comma + 1));
    }
  }
  if (list.empty()) throw ApiError(400, "the campaign has no cards");
  Job job;
  job.id = new_id("c-");
  job.kind = "campaign";
  job.tar = tar;
  job.created_ms = CampaignRunner::now_ms();
  double rate = j.contains("sms_per_second") ? 0 : default_rate_;
  if (j.contains("sms_per_second")) {
    if (!j.at("sms_per_second").is_number() || j.at("sms_per_second").get<double>() < 0.01 ||
        j.at("sms_per_second").get<double>() > 100'000)
      throw ApiError(400, "sms_per_second must be a number from 0.01 to 100000");
    rate = j.at("sms_per_second").get<double>();
  }
  job.sms_per_second = rate;
  if (auto secs = integer(j, "expires_in_seconds", 0, 0, 365LL * 86400)) job.expires_at_ms = job.created_ms + secs * 1000;
  std::vector<JobCard> cards;
  std::set<std::string> seen;
  for (auto& [iccid, script] : list) {
    check_iccid(iccid);
    if (!seen.insert(iccid).second) throw ApiError(400, "card " + iccid + " is listed twice");
    auto msisdn = jobs_.msisdn(iccid);
    if (!msisdn) throw ApiError(422, "card " + iccid + " is not registered");
    JobCard c;
    c.job_id = job.id;
    c.iccid = iccid;
    c.msisdn = *msisdn;
    c.spi = spi_for(cards_.show(iccid), tar, spi_hex);
    c.script = std::move(script);
    cards.push_back(std::move(c));
  }
  jobs_.create(job, cards);
  runner_.wake();
  log::info("otad", "campaign " + job.id + " created over " + std::to_string(cards.size()) + " cards");
  return reply(201, json{{"id", job.id}, {"total", cards.size()}});
}

http::Response Api::campaign_status(const std::string& id, bool with_cards) {
  Job job = jobs_.job(id);
  JobCounts c = jobs_.counts(id);
  json j = {{"id", id},         {"kind", job.kind},   {"state", std::string(to_string(job.state))},
            {"total", c.total}, {"done", c.final()}, {"counts", counts_json(c)}};
  if (with_cards) {
    json cards = json::array();
    for (const auto& x : jobs_.cards(id)) cards.push_back(card_json(x));
    j["cards"] = cards;
  }
  return reply(200, j);
}

http::Response Api::cancel_campaign(const std::string& id) {
  if (!jobs_.cancel(id)) return error(409, "the campaign has ended already");
  runner_.wake();
  return reply(200, json{{"id", id}, {"state", "cancelled"}});
}

}  // namespace rsp::otad
