#include "api_command.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "rsp/file.hpp"
#include "rsp/http_client.hpp"
#include "rsp/json.hpp"

namespace rsp::ota::cli {

namespace {

using nlohmann::json;

struct ApiOptions {
  std::string url, ca, cert, key;
  // api
  std::string method = "GET", path, body;
  // campaign
  std::string campaign_id, tar, spi, format = "expanded", iccids_file;
  std::vector<std::string> apdus, iccids;
  double sms_per_second = 0;
  bool follow = false, json_out = false;
  // app
  std::string iccid, transport = "sms", package_aid, module_aid, instance_aid, privileges, install_params, aid,
                     scope = "applications";
  bool no_make_selectable = false, related = false, wait = false;
  int wait_seconds = 60;
};

void add_connection(CLI::App* c, ApiOptions& o) {
  c->add_option("--url", o.url, "otad's API, https://HOST:PORT")->required();
  c->add_option("--ca", o.ca, "PEM file the server's certificate verifies against")->required();
  c->add_option("--cert", o.cert, "our client certificate (PEM)")->required();
  c->add_option("--key", o.key, "its private key (PEM, mode 0600)")->required();
}

http::Client client(const ApiOptions& o) {
  http::ClientConfig cc;
  cc.ca_file = o.ca;
  cc.client_cert_file = o.cert;
  cc.client_key_pem = read_private_file(o.key);  // refused when others can read it
  return http::Client(cc);
}

http::Headers json_headers() {
  http::Headers h;
  h.set("Content-Type", "application/json");
  return h;
}

// Prints the body; exit 0 for 2xx, 2 otherwise (the reason on stderr).
int finish(const http::Response& r) {
  if (r.status >= 200 && r.status < 300) {
    std::cout << r.body;
    if (!r.body.empty() && r.body.back() != '\n') std::cout << "\n";
    return 0;
  }
  std::string why = r.body;
  try {
    why = parse_json(r.body).value("error", r.body);
  } catch (const std::exception&) {
  }
  std::cerr << "error: HTTP " << r.status << ": " << why << "\n";
  return 2;
}

std::string bar(const json& s) {
  std::size_t total = s.value("total", std::size_t{0}), done = s.value("done", std::size_t{0});
  int width = 40, filled = total ? static_cast<int>(width * done / total) : 0;
  const json& c = s["counts"];
  char line[256];
  std::snprintf(line, sizeof line, "[%-40s] %zu/%zu ok %zu error %zu retrying %zu expired %zu  %s",
                std::string(static_cast<std::size_t>(filled), '#').c_str(), done, total,
                c.value("por_ok", std::size_t{0}), c.value("por_error", std::size_t{0}),
                c.value("retrying", std::size_t{0}), c.value("expired", std::size_t{0}),
                s.value("state", std::string()).c_str());
  return line;
}

int campaign_status(const ApiOptions& o) {
  auto c = client(o);
  std::string url = o.url + "/ota/v1/campaigns/" + o.campaign_id;
  if (!o.follow) {
    if (o.json_out) return finish(c.get(url + "?cards=all"));
    auto r = c.get(url);
    if (r.status != 200) return finish(r);
    std::cout << bar(json::parse(r.body)) << "\n";
    return 0;
  }
  // Until the campaign ends, redrawn in place on a terminal, a line per
  // change otherwise (logs).
  bool tty = ::isatty(STDOUT_FILENO);
  std::string last;
  for (;;) {
    auto r = c.get(url);
    if (r.status != 200) return finish(r);
    json s = json::parse(r.body);
    std::string line = bar(s);
    if (line != last) {
      std::cout << (tty ? "\r" : "") << line << (tty ? "" : "\n") << std::flush;
      last = line;
    }
    if (s.value("state", std::string()) != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (tty) std::cout << "\n";
  return 0;
}

int campaign_create(const ApiOptions& o) {
  json body = {{"tar", o.tar}};
  if (!o.spi.empty()) body["spi"] = o.spi;
  body["apdus"] = o.apdus;
  body["format"] = o.format;
  if (o.sms_per_second > 0) body["sms_per_second"] = o.sms_per_second;
  if (!o.iccids_file.empty()) body["batch"] = to_string(read_file(o.iccids_file));
  else body["cards"] = o.iccids;
  auto c = client(o);
  return finish(c.post(o.url + "/ota/v1/campaigns", body.dump(), json_headers()));
}

// `ota app ACTION`: POST /ota/v1/cards/ICCID/applications, then with
// --wait the command's status until it is final: exit 0 only when the
// result says success (every R-APDU 90 00), 2 otherwise.
int app_command(const ApiOptions& o, const std::string& action) {
  json body = {{"action", action}, {"transport", o.transport}};
  if (action == "install") {
    body["package_aid"] = o.package_aid;
    body["module_aid"] = o.module_aid;
    if (!o.instance_aid.empty()) body["instance_aid"] = o.instance_aid;
    if (!o.privileges.empty()) body["privileges"] = o.privileges;
    if (!o.install_params.empty()) body["install_params"] = o.install_params;
    if (o.no_make_selectable) body["make_selectable"] = false;
  } else if (action == "status") {
    body["scope"] = o.scope;
  } else {
    body["aid"] = o.aid;
    if (o.related) body["related"] = true;
  }
  if (!o.spi.empty()) body["spi"] = o.spi;
  auto c = client(o);
  auto r = c.post(o.url + "/ota/v1/cards/" + o.iccid + "/applications", body.dump(), json_headers());
  if (!o.wait || r.status != 202) return finish(r);
  std::string id = json::parse(r.body).value("id", "");
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(o.wait_seconds);
  for (;;) {
    auto st = c.get(o.url + "/ota/v1/commands/" + id);
    if (st.status != 200) return finish(st);
    json j = json::parse(st.body);
    if (j.contains("result")) {
      std::cout << j.dump() << "\n";
      return j["result"].value("success", false) ? 0 : 2;
    }
    if (std::chrono::steady_clock::now() > until) {
      std::cerr << "error: command " << id << " not final after " << o.wait_seconds << " s (state "
                << j.value("state", std::string()) << ")\n";
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

std::function<std::function<int()>()> add_api_command(CLI::App& app) {
  auto o = std::make_shared<ApiOptions>();
  auto* api = app.add_subcommand("api", "call otad's operator API: METHOD PATH [BODY] (docs/ota.md)");
  add_connection(api, *o);
  api->add_option("method", o->method, "GET, POST or DELETE")->required()->check(CLI::IsMember({"GET", "POST", "DELETE"}));
  api->add_option("path", o->path, "e.g. /ota/v1/cards/8949...")->required();
  api->add_option("body", o->body, "JSON body, or @FILE");

  auto* campaign = app.add_subcommand("campaign", "otad campaigns: create, status, cancel")->require_subcommand(1);
  auto* create = campaign->add_subcommand("create", "one script over many cards; prints the campaign's id");
  add_connection(create, *o);
  create->add_option("--tar", o->tar, "TAR, 3 bytes of hex")->required();
  create->add_option("--apdu", o->apdus, "C-APDU (hex) of the script; repeat")->required();
  create->add_option("--format", o->format, "expanded (default) or compact")->check(CLI::IsMember({"expanded", "compact"}));
  create->add_option("--spi", o->spi, "SPI, 2 bytes of hex (default: from each card's TAR MSL)");
  auto* list = create->add_option("--iccid", o->iccids, "a card; repeat");
  create->add_option("--iccids-file", o->iccids_file, "batch file: one ICCID per line (optionally ,SCRIPT-HEX)")->excludes(list);
  create->add_option("--sms-per-second", o->sms_per_second, "the campaign's throttle");
  auto* status = campaign->add_subcommand("status", "a campaign's progress");
  add_connection(status, *o);
  status->add_option("id", o->campaign_id)->required();
  status->add_flag("--follow", o->follow, "until it ends, with a progress bar");
  status->add_flag("--json", o->json_out, "the JSON status with every card");
  auto* cancel = campaign->add_subcommand("cancel", "cancel a campaign (cards not yet sent)");
  add_connection(cancel, *o);
  cancel->add_option("id", o->campaign_id)->required();

  auto* app_cmd = app.add_subcommand("app", "remote application management at the card's ISD (RAM over SCP80 or SCP81)")
                      ->require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::string>> actions;
  const std::pair<const char*, const char*> kActions[] = {
      {"install", "INSTALL [for install and make selectable] of a module from a load file on the card"},
      {"delete", "DELETE an application or load file"},
      {"lock", "SET STATUS: lock an application"},
      {"unlock", "SET STATUS: unlock an application"},
      {"status", "GET STATUS: the card's registry"}};
  for (const auto& action : kActions) {
    auto* sub = app_cmd->add_subcommand(action.first, action.second);
    add_connection(sub, *o);
    sub->add_option("--iccid", o->iccid, "the card")->required();
    sub->add_option("--transport", o->transport, "sms (default) or scp81")->check(CLI::IsMember({"sms", "scp81"}));
    sub->add_option("--spi", o->spi, "SPI, 2 bytes of hex (default: from the ISD TAR's MSL)");
    sub->add_flag("--wait", o->wait, "wait for the result; exit 0 only when every R-APDU is 9000");
    sub->add_option("--wait-seconds", o->wait_seconds, "how long --wait waits (default 60)");
    std::string name = action.first;
    if (name == "install") {
      sub->add_option("--package", o->package_aid, "executable load file AID (hex)")->required();
      sub->add_option("--module", o->module_aid, "module (applet class) AID (hex)")->required();
      sub->add_option("--instance", o->instance_aid, "instance AID (hex; default: the module's)");
      sub->add_option("--privileges", o->privileges, "1 or 3 bytes of hex (default 00)");
      sub->add_option("--params", o->install_params, "application specific parameters, the value of C9 (hex)");
      sub->add_flag("--no-make-selectable", o->no_make_selectable, "INSTALL [for install] only (P1 04)");
    } else if (name == "status") {
      sub->add_option("--scope", o->scope, "applications (default), load_files or isd")
          ->check(CLI::IsMember({"applications", "load_files", "isd"}));
    } else {
      sub->add_option("--aid", o->aid, "the application's (or load file's) AID (hex)")->required();
      if (name == "delete") sub->add_flag("--related", o->related, "with related objects (P2 80)");
    }
    actions.emplace_back(sub, name);
  }

  return [=]() -> std::function<int()> {
    for (const auto& a : actions)
      if (a.first->parsed()) return [o, name = a.second] { return app_command(*o, name); };
    if (api->parsed())
      return [o] {
        std::string body = o->body;
        if (!body.empty() && body[0] == '@') body = to_string(read_file(body.substr(1)));
        auto c = client(*o);
        return finish(c.request(o->method, o->url + o->path, json_headers(), body));
      };
    if (create->parsed()) return [o] { return campaign_create(*o); };
    if (status->parsed()) return [o] { return campaign_status(*o); };
    if (cancel->parsed())
      return [o] {
        auto c = client(*o);
        return finish(c.post(o->url + "/ota/v1/campaigns/" + o->campaign_id + "/cancel", "", json_headers()));
      };
    return {};
  };
}

}  // namespace rsp::ota::cli
