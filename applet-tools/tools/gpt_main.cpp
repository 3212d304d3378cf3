// gpt: GlobalPlatform card management from the command line (what
// GlobalPlatformPro's `gp` does; docs/applet-tools.md compares them row by
// row). Talks to a PC/SC reader (real or vpcd) or over TCP to a simulator
// (gp-card-sim --tcp), opens SCP02/SCP03 with the keys given, and runs one
// command. Keys are never printed or logged.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

#include "rsp/cli.hpp"
#include "rsp/gp/card_content.hpp"
#include "rsp/gp/status_words.hpp"
#include "rsp/lpa/pcsc.hpp"
#include "rsp/lpa/tcp_transport.hpp"

using namespace rsp;
using namespace rsp::gp;
using nlohmann::json;

namespace {

struct Options {
  std::string tcp, reader, isd = "A000000151000000";
  std::string key, key_enc, key_mac, key_dek;
  bool test_keys = false, json_out = false, s16 = false;
  int kvn = 0, scp = 0;
  std::string level = "mac";
  std::string kdf = "none";
  std::size_t block_size = 200;
  bool trace = false;
};

// -d/--trace: every APDU as it crosses the link (after secure messaging), on
// stderr. Keys never appear there: the static keys stay on the host, session
// keys are derived, and PUT KEY sends keys enciphered with the DEK.
class TracingTransport : public apdu::Transport {
 public:
  explicit TracingTransport(std::unique_ptr<apdu::Transport> inner) : inner_(std::move(inner)) {}
  Bytes transmit(ByteView c) override {
    std::cerr << "A>> " << to_hex(c, true) << "\n";
    Bytes r = inner_->transmit(c);
    std::cerr << "A<< " << to_hex(r, true) << "\n";
    return r;
  }
  Bytes reset() override {
    Bytes atr = inner_->reset();
    std::cerr << "ATR " << to_hex(atr, true) << "\n";
    return atr;
  }

 private:
  std::unique_ptr<apdu::Transport> inner_;
};

std::uint8_t parse_level(const std::string& s) {
  if (s == "none") return level::kNone;
  if (s == "mac") return level::kCMac;
  if (s == "enc") return level::kCMac | level::kCDecryption;
  if (s == "mac+rmac") return level::kCMac | level::kRMac;
  if (s == "enc+rmac") return level::kCMac | level::kCDecryption | level::kRMac;
  if (s == "all" || s == "enc+renc") return 0x33;
  Bytes b = from_hex(s);
  if (b.size() != 1) throw std::runtime_error("--level: mac, enc, mac+rmac, enc+rmac, all or one hex byte");
  return b[0];
}

std::string kind_of(const RegistryEntry& e) {
  switch (e.scope) {
    case StatusScope::Isd: return "ISD";
    case StatusScope::Applications: return (!e.privileges.empty() && (e.privileges[0] & privilege::kSecurityDomain)) ? "SD" : "APP";
    default: return "PKG";
  }
}

class Tool {
 public:
  explicit Tool(const Options& o) : opt_(o) {}

  apdu::Transport& link() {
    if (!link_) {
      if (!opt_.tcp.empty())
        link_ = std::make_unique<lpa::TcpTransport>(lpa::TcpTransport::connect(opt_.tcp));
      else if (!opt_.reader.empty())
        link_ = std::make_unique<pcsc::Reader>(pcsc::Reader::connect(opt_.reader));
      else
        link_ = std::make_unique<pcsc::Reader>(pcsc::Reader::connect(std::size_t{0}));
      if (opt_.trace) link_ = std::make_unique<TracingTransport>(std::move(link_));
      link_->reset();
    }
    return *link_;
  }
  Session& session() {
    if (!session_) session_ = std::make_unique<Session>(link());
    return *session_;
  }
  StaticKeys keys() const {
    StaticKeys k;
    if (opt_.test_keys) {
      k = default_test_keys();
    } else if (!opt_.key.empty()) {
      k.enc = k.mac = k.dek = from_hex(opt_.key);
    } else if (!opt_.key_enc.empty() && !opt_.key_mac.empty() && !opt_.key_dek.empty()) {
      k.enc = from_hex(opt_.key_enc);
      k.mac = from_hex(opt_.key_mac);
      k.dek = from_hex(opt_.key_dek);
    } else {
      throw std::runtime_error("no keys: give --key, or --key-enc/--key-mac/--key-dek, or --test-keys for the GP test keys 40..4F");
    }
    k.version = static_cast<std::uint8_t>(opt_.kvn);
    return k;
  }
  Session& authenticated() {
    Session& s = session();
    apdu::Response r = s.select(from_hex(opt_.isd));
    if (r.sw != sw::kOk) throw CardError("SELECT of the ISD: " + sw::describe(r.sw), r.sw);
    SessionOptions so;
    if (opt_.scp) so.scp = static_cast<std::uint8_t>(opt_.scp);
    so.security_level = parse_level(opt_.level);
    so.s16 = opt_.s16;
    so.diversification = diversification_from_name(opt_.kdf);
    s.open(keys(), so);
    return s;
  }
  void out(const json& j, const std::string& text) const {
    if (opt_.json_out)
      std::cout << j.dump(2) << "\n";
    else
      std::cout << text;
  }
  const Options& opt() const { return opt_; }

 private:
  Options opt_;
  std::unique_ptr<apdu::Transport> link_;
  std::unique_ptr<Session> session_;
};

json entry_json(const RegistryEntry& e) {
  json j{{"kind", kind_of(e)}, {"aid", to_hex(e.aid, true)}, {"life_cycle", to_hex(Bytes{e.life_cycle}, true)},
         {"state", life_cycle_name(e.scope, e.life_cycle, kind_of(e) != "APP")}};
  if (!e.privileges.empty()) {
    j["privileges"] = to_hex(e.privileges, true);
    j["privilege_names"] = privilege_names(e.privileges);
  }
  if (!e.load_file_aid.empty()) j["load_file"] = to_hex(e.load_file_aid, true);
  if (!e.version.empty()) j["version"] = std::to_string(e.version[0]) + "." + (e.version.size() > 1 ? std::to_string(e.version[1]) : "0");
  if (!e.modules.empty()) {
    j["modules"] = json::array();
    for (const auto& m : e.modules) j["modules"].push_back(to_hex(m, true));
  }
  return j;
}

void cmd_list(Tool& t) {
  auto entries = list_registry(t.authenticated());
  json j = json::array();
  std::string text;
  for (const auto& e : entries) {
    j.push_back(entry_json(e));
    text += kind_of(e) + ": " + to_hex(e.aid, true) + " (" + life_cycle_name(e.scope, e.life_cycle, kind_of(e) != "APP") + ")\n";
    if (!e.privileges.empty()) {
      text += "     Privs: ";
      auto names = privilege_names(e.privileges);
      for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
      text += "\n";
    }
    if (!e.load_file_aid.empty()) text += "     From:  " + to_hex(e.load_file_aid, true) + "\n";
    for (const auto& m : e.modules) text += "     Applet: " + to_hex(m, true) + "\n";
  }
  t.out(j, text);
}

void cmd_info(Tool& t) {
  Session& s = t.session();
  json j;
  std::string text;
  apdu::Response sel = s.select(from_hex(t.opt().isd));
  j["isd"] = {{"aid", t.opt().isd}, {"sw", to_hex(Bytes{sel.sw1(), sel.sw2()}, true)}, {"fci", to_hex(sel.data, true)}};
  text += "ISD " + t.opt().isd + ": " + sw::describe(sel.sw) + "\n";
  apdu::Response cd = s.transmit(get_data(kTagCardData));
  if (cd.sw == sw::kOk) {
    j["card_data"] = to_hex(cd.data, true);
    try {
      auto cr = parse_card_data(cd.data);
      j["gp_version"] = cr.gp_version;
      text += "GlobalPlatform " + cr.gp_version + "\n";
      for (const auto& [scp, i] : cr.scps) {
        std::string name = "SCP0" + std::to_string(scp) + " i=" + to_hex(Bytes{i}, true);
        j["scp"].push_back(name);
        text += "Secure channel " + name + "\n";
      }
    } catch (const DecodeError&) {
      text += "Card data (66): " + to_hex(cd.data, true) + "\n";
    }
  }
  apdu::Response cplc = s.transmit(get_data(kTagCplc));
  if (cplc.sw == sw::kOk) {
    for (const auto& [k, v] : parse_cplc(cplc.data)) {
      j["cplc"][k] = v;
      text += "CPLC " + k + ": " + v + "\n";
    }
  }
  apdu::Response ki = s.transmit(get_data(kTagKeyInformation));
  if (ki.sw == sw::kOk) {
    j["keys"] = json::array();
    for (const auto& k : parse_key_information(ki.data)) {
      std::string type = k.type == 0x88 ? "AES" : k.type == 0x80 ? "DES" : to_hex(Bytes{k.type}, true);
      j["keys"].push_back({{"id", k.id}, {"version", k.version}, {"type", type}, {"length", k.length}});
      text += "Key id " + std::to_string(k.id) + " version " + to_hex(Bytes{k.version}, true) + " " + type + "-" +
              std::to_string(k.length * 8) + "\n";
    }
  }
  t.out(j, text);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpt: GlobalPlatform card management (SCP02/SCP03) over PC/SC or TCP"};
  app.require_subcommand(1);
  Options o;
  auto* o_tcp = app.add_option("--tcp", o.tcp, "HOST:PORT of a simulator (gp-card-sim --tcp)");
  auto* o_reader = app.add_option("--reader,-r", o.reader, "PC/SC reader name (default: the first reader)");
  o_tcp->excludes(o_reader);
  app.add_option("--isd", o.isd, "AID of the security domain to authenticate to")->capture_default_str();
  app.add_option("--key", o.key, "one static key (hex) used as ENC, MAC and DEK");
  app.add_option("--key-enc", o.key_enc, "static Key-ENC (hex)");
  app.add_option("--key-mac", o.key_mac, "static Key-MAC (hex)");
  app.add_option("--key-dek", o.key_dek, "static Key-DEK (hex)");
  app.add_flag("--test-keys", o.test_keys, "use the GlobalPlatform test keys 404142..4F (never on production cards)");
  app.add_option("--key-kdf", o.kdf, "diversify the keys with the card's KDD: none, visa2, emv (EMV CPS 1.1), kdf3 (SCP03 AES)")->capture_default_str();
  app.add_option("--kvn", o.kvn, "key version number for INITIALIZE UPDATE (0: the card's default)");
  app.add_option("--scp", o.scp, "insist on SCP 2 or 3 (default: what the card answers)");
  app.add_option("--level", o.level, "security level: mac, enc, mac+rmac, enc+rmac, all, or a hex byte")->capture_default_str();
  app.add_flag("--s16", o.s16, "SCP03 S16 mode (16-byte challenges and MACs)");
  app.add_flag("--json", o.json_out, "JSON output");
  app.add_option("--block-size", o.block_size, "LOAD block size")->capture_default_str();
  app.add_flag("-d,--trace", o.trace, "print every APDU (as sent, after secure messaging) on stderr");

  auto* list = app.add_subcommand("list", "list the ISD, applications, security domains and load files");
  auto* info = app.add_subcommand("info", "card data, CPLC and key information (no authentication)");
  std::string cap_file, sd, applet, create, privs, params;
  auto* load = app.add_subcommand("load", "load a CAP file (INSTALL [for load] and LOAD)");
  load->add_option("cap", cap_file, "CAP file")->required();
  load->add_option("--sd", sd, "security domain to associate (default: the ISD)");
  auto* install = app.add_subcommand("install", "load a CAP file if needed, then install and make selectable its applet");
  install->add_option("cap", cap_file, "CAP file")->required();
  install->add_option("--applet", applet, "module AID (default: the CAP's only applet)");
  install->add_option("--create", create, "instance AID (default: the module AID)");
  install->add_option("--privs", privs, "privileges, comma-separated names (e.g. SecurityDomain,CardLock)");
  install->add_option("--params", params, "application specific install parameters (hex, sent in C9)");
  // DAP (GP 2.3.1 9.2.1): ECDSA P-256 over the Load File Data Block Hash (rsp/gp/dap.hpp).
  std::string dap_key_file, dap_domain, dap_hash = "sha256";
  for (auto* sc : {load, install}) {
    sc->add_option("--dap-key", dap_key_file, "sign a DAP with this ECDSA P-256 private key (PEM)");
    sc->add_option("--dap-domain", dap_domain, "AID of the security domain that verifies the DAP (default: --sd, else the ISD)");
    sc->add_option("--dap-hash", dap_hash, "Load File Data Block Hash: sha1 or sha256")->capture_default_str();
  }
  std::string aid;
  bool force = false;
  auto* del = app.add_subcommand("delete", "delete an application, security domain or load file");
  del->add_option("aid", aid, "AID")->required();
  del->add_flag("--force,-f", force, "also delete related objects (the load file's instances)");
  std::string new_key, new_enc, new_mac, new_dek, key_type = "auto";
  int new_kvn = 0;
  bool replace = false;
  auto* putkey = app.add_subcommand("put-key", "add or replace a key set (ENC, MAC, DEK) with key check values");
  putkey->add_option("--new-key", new_key, "one new key (hex) for ENC, MAC and DEK");
  putkey->add_option("--new-enc", new_enc, "new Key-ENC (hex)");
  putkey->add_option("--new-mac", new_mac, "new Key-MAC (hex)");
  putkey->add_option("--new-dek", new_dek, "new Key-DEK (hex)");
  putkey->add_option("--new-kvn", new_kvn, "version of the new key set")->required();
  putkey->add_flag("--replace", replace, "replace the key set given by --kvn instead of adding one");
  putkey->add_option("--type", key_type, "aes, des or auto (the session's SCP)")->capture_default_str();
  std::string data;
  std::string p1 = "00";
  auto* store = app.add_subcommand("store-data", "STORE DATA to the security domain");
  store->add_option("data", data, "hex")->required();
  store->add_option("--p1", p1, "P1 structure bits (hex)")->capture_default_str();
  auto* lock = app.add_subcommand("lock", "lock an application (SET STATUS)");
  lock->add_option("aid", aid, "AID")->required();
  auto* unlock = app.add_subcommand("unlock", "unlock an application (SET STATUS)");
  unlock->add_option("aid", aid, "AID")->required();
  auto* lock_card_cmd = app.add_subcommand("lock-card", "card life cycle SECURED -> CARD_LOCKED");
  auto* unlock_card_cmd = app.add_subcommand("unlock-card", "card life cycle CARD_LOCKED -> SECURED");
  auto* sel = app.add_subcommand("select", "SELECT an application by AID (plain)");
  sel->add_option("aid", aid, "AID")->required();
  std::vector<std::string> apdus;
  bool secure = false;
  auto* raw = app.add_subcommand("apdu", "send raw APDUs (hex), plain or with --secure through the channel");
  raw->add_option("apdus", apdus, "C-APDUs in hex")->required();
  raw->add_flag("--secure", secure, "open the secure channel and wrap each APDU");

  if (auto rc = rsp::cli::parse(app, argc, argv, "gpt")) return *rc;
  Tool t(o);
  try {
    if (*list) {
      cmd_list(t);
    } else if (*info) {
      cmd_info(t);
    } else if (*load || *install) {
      auto cap = CapFile::read(cap_file);
      std::optional<crypto::EcKey> dap_key;
      LoadDap dap;
      if (!dap_key_file.empty()) {
        std::ifstream f(dap_key_file, std::ios::binary);
        if (!f) throw std::runtime_error("--dap-key: cannot read " + dap_key_file);
        std::string pem((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        dap_key = crypto::EcKey::from_pem_or_der(Bytes(pem.begin(), pem.end()));
        dap.key = &*dap_key;
        dap.hash = load_file_hash_from_name(dap_hash);
        dap.sd_aid = from_hex(!dap_domain.empty() ? dap_domain : !sd.empty() ? sd : o.isd);
      } else if (!dap_domain.empty()) {
        throw std::runtime_error("--dap-domain needs --dap-key");
      }
      Session& s = t.authenticated();
      const Bytes pkg = cap.info().package.aid;
      bool present = false;
      for (const auto& e : get_status_all(s, StatusScope::LoadFiles)) present |= e.aid == pkg;
      if (!present || *load) load_cap(s, cap, sd.empty() ? Bytes{} : from_hex(sd), o.block_size, dap.key ? &dap : nullptr);
      json j{{"load_file", to_hex(pkg, true)}, {"loaded", !present || *load}};
      std::string text = "Loaded " + to_hex(pkg, true) + " (" + std::to_string(cap.load_file_data_block().size()) + " bytes)\n";
      if (*install) {
        Bytes module = applet.empty() ? Bytes{} : from_hex(applet);
        if (module.empty()) {
          if (cap.info().applets.size() != 1) throw std::runtime_error("the CAP has " + std::to_string(cap.info().applets.size()) + " applets: give --applet");
          module = cap.info().applets[0];
        }
        Bytes instance = create.empty() ? module : from_hex(create);
        std::vector<std::string> names;
        for (std::size_t a = 0, b; a <= privs.size() && !privs.empty(); a = b + 1) {
          b = privs.find(',', a);
          if (b == std::string::npos) b = privs.size();
          names.push_back(privs.substr(a, b - a));
        }
        Bytes p = names.empty() ? Bytes{0x00} : privileges_from_names(names);
        s.check(install_for_install(pkg, module, instance, p, params.empty() ? Bytes{} : from_hex(params)));
        j["installed"] = to_hex(instance, true);
        text += "Installed " + to_hex(instance, true) + " from module " + to_hex(module, true) + "\n";
      }
      t.out(j, text);
    } else if (*del) {
      t.authenticated().check(delete_object(from_hex(aid), force));
      t.out(json{{"deleted", aid}}, "Deleted " + aid + "\n");
    } else if (*putkey) {
      Session& s = t.authenticated();
      StaticKeys nk;
      if (!new_key.empty()) {
        nk.enc = nk.mac = nk.dek = from_hex(new_key);
      } else if (!new_enc.empty() && !new_mac.empty() && !new_dek.empty()) {
        nk.enc = from_hex(new_enc);
        nk.mac = from_hex(new_mac);
        nk.dek = from_hex(new_dek);
      } else {
        throw std::runtime_error("put-key: give --new-key or --new-enc/--new-mac/--new-dek");
      }
      std::uint8_t type = key_type == "aes" ? 0x88 : key_type == "des" ? 0x80 : (s.scp() == 3 ? 0x88 : 0x80);
      Bytes r = put_key_set(s, nk, static_cast<std::uint8_t>(new_kvn), replace ? static_cast<std::uint8_t>(o.kvn) : 0, type);
      t.out(json{{"kvn", new_kvn}, {"kcv", to_hex(ByteView(r).subspan(1), true)}},
            "Key set " + std::to_string(new_kvn) + " stored, check values " + to_hex(ByteView(r).subspan(1), true) + "\n");
    } else if (*store) {
      Session& s = t.authenticated();
      for (const auto& c : store_data(from_hex(data), from_hex(p1).at(0))) s.check(c);
      t.out(json{{"stored", data.size() / 2}}, "Stored " + std::to_string(data.size() / 2) + " bytes\n");
    } else if (*lock || *unlock) {
      t.authenticated().check(*lock ? lock_application(from_hex(aid)) : unlock_application(from_hex(aid)));
      t.out(json{{*lock ? "locked" : "unlocked", aid}}, std::string(*lock ? "Locked " : "Unlocked ") + aid + "\n");
    } else if (*lock_card_cmd || *unlock_card_cmd) {
      t.authenticated().check(*lock_card_cmd ? lock_card() : unlock_card());
      t.out(json{{"card", *lock_card_cmd ? "CARD_LOCKED" : "SECURED"}}, std::string("Card ") + (*lock_card_cmd ? "locked" : "unlocked") + "\n");
    } else if (*sel) {
      apdu::Response r = t.session().select(from_hex(aid));
      t.out(json{{"sw", to_hex(Bytes{r.sw1(), r.sw2()}, true)}, {"meaning", sw::meaning(r.sw)}, {"data", to_hex(r.data, true)}},
            to_hex(r.data, true) + (r.data.empty() ? "" : " ") + sw::describe(r.sw) + "\n");
      if (r.sw != sw::kOk) return 1;
    } else if (*raw) {
      Session& s = secure ? t.authenticated() : t.session();
      json j = json::array();
      std::string text;
      for (const auto& a : apdus) {
        apdu::Response r = s.transmit(apdu::Command::parse(from_hex(a)));
        j.push_back({{"command", a}, {"data", to_hex(r.data, true)}, {"sw", to_hex(Bytes{r.sw1(), r.sw2()}, true)}, {"meaning", sw::meaning(r.sw)}});
        text += a + " -> " + to_hex(r.data, true) + (r.data.empty() ? "" : " ") + sw::describe(r.sw) + "\n";
      }
      t.out(j, text);
    }
    return 0;
  } catch (const CardError& e) {
    if (o.json_out)
      std::cout << json{{"error", e.what()}, {"sw", to_hex(Bytes{static_cast<std::uint8_t>(e.sw >> 8), static_cast<std::uint8_t>(e.sw)}, true)},
                        {"meaning", sw::meaning(e.sw)}}.dump(2) << "\n";
    std::cerr << "gpt: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    if (o.json_out) std::cout << json{{"error", e.what()}}.dump(2) << "\n";
    std::cerr << "gpt: " << e.what() << "\n";
    return 1;
  }
}
