#include "api_command.hpp"

#include <unistd.h>

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

  return [=]() -> std::function<int()> {
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
