// webd's request handling: sign-in and sessions, the consoles, the storefront.
// Server-rendered HTML; every value that reaches a page goes through
// html_escape(). docs/web.md has the routes and the security rules.
#include "rsp/web/app.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/json.hpp"
#include "rsp/ledger/embedded.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/ledger/seal.hpp"
#include "rsp/log.hpp"
#include "rsp/store.hpp"
#include "rsp/time_text.hpp"
#include "rsp/web/html.hpp"

namespace rsp::web {

extern const char* const kAppCss;  // assets.cpp

std::string_view to_string(TenantKind k) {
  switch (k) {
    case TenantKind::HomeOperator: return "home-operator";
    case TenantKind::VisitedOperator: return "visited-operator";
    case TenantKind::ServiceProvider: return "service-provider";
  }
  return "?";
}

std::string_view to_string(Role r) {
  switch (r) {
    case Role::Admin: return "admin";
    case Role::Staff: return "staff";
    case Role::Viewer: return "viewer";
  }
  return "?";
}

Role role_from_name(std::string_view n) {
  if (n == "admin") return Role::Admin;
  if (n == "staff") return Role::Staff;
  if (n == "viewer") return Role::Viewer;
  throw std::invalid_argument("role must be admin, staff or viewer");
}

namespace {
void sodium_ready() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise");
}
}  // namespace

std::string hash_password(std::string_view password) {
  sodium_ready();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool verify_password(const std::string& stored, std::string_view password) {
  sodium_ready();
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

namespace {

using ledger::Amount;
using ledger::format_sdrt;
constexpr std::string_view kCookie = "__Host-rsp_session";

// ---------- input checks (each returns a message for the form, or "") ----------

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// An EID: 32 decimal digits (GSMA SGP.29).
bool valid_eid(std::string_view s);

// A PLMN id: MCC (3 digits) then MNC (2 or 3 digits), 3GPP TS 23.003 2.2.
bool valid_plmn(std::string_view s) { return all_digits(s) && (s.size() == 5 || s.size() == 6); }

bool valid_eid(std::string_view s) { return all_digits(s) && s.size() == 32; }

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A non-negative decimal with at most `decimals` fraction digits, scaled to
// an integer (e.g. "1.25", 6 -> 1'250'000); nullopt when malformed or over max.
std::optional<std::int64_t> parse_fixed(std::string_view s, int decimals, std::int64_t max_scaled) {
  if (s.empty()) return std::nullopt;
  auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot), frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (!all_digits(whole) || whole.size() > 12) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || !all_digits(frac))) return std::nullopt;
  if (frac.size() > static_cast<std::size_t>(decimals)) return std::nullopt;
  std::int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::int64_t w = std::stoll(std::string(whole));
  std::int64_t f = frac.empty() ? 0 : std::stoll(std::string(frac));
  for (std::size_t i = frac.size(); i < static_cast<std::size_t>(decimals); ++i) f *= 10;
  if (w > max_scaled / scale) return std::nullopt;
  std::int64_t v = w * scale + f;
  if (v > max_scaled) return std::nullopt;
  return v;
}

std::optional<std::int64_t> parse_count(std::string_view s, std::int64_t min, std::int64_t max) {
  if (!all_digits(s) || s.size() > 12) return std::nullopt;
  std::int64_t v = std::stoll(std::string(s));
  if (v < min || v > max) return std::nullopt;
  return v;
}

// "YYYY-MM-DD" (an <input type=date>), as the Unix time of the end of that day (UTC).
std::optional<std::int64_t> parse_date_end(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  try {
    return time_text::parse(s) + 86400 - 1;
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}
std::optional<std::int64_t> parse_date_start(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  try {
    return time_text::parse(s);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

std::string date_text(std::int64_t t) { return time_text::iso8601_utc(t).substr(0, 10); }

// Minor units (2 decimals) -> "12.34".
std::string format_minor(std::int64_t v) {
  std::string frac = std::to_string(v % 100);
  return std::to_string(v / 100) + "." + std::string(2 - frac.size(), '0') + frac;
}
// Micro units (6 decimals), trailing zeros trimmed to 2 decimals at least.
std::string format_micro(std::int64_t v) {
  std::string s = format_sdrt(v);
  while (s.size() > 1 && s.back() == '0' && s.size() - s.find('.') > 3) s.pop_back();
  return s;
}

// The retail price in minor units of the local currency (2 decimals): the
// Offers' SDRt price times the operator's rate (local units per SDRt, 6
// decimals) plus its margin (basis points), rounded half up.
__extension__ typedef __int128 i128;  // g++ and clang: the product needs ~100 bits
std::int64_t retail_minor(Amount sdrt_units, std::int64_t rate_micro, std::int64_t margin_bp) {
  i128 v = static_cast<i128>(sdrt_units) * rate_micro * (10000 + margin_bp);
  // units: 1e-6 SDRt * 1e-6 local * 1e-4 -> 1e-16 local; cents are 1e-2.
  const i128 div = static_cast<i128>(100000000) * 100000000 / 100;  // 1e14
  return static_cast<std::int64_t>((v + div / 2) / div);
}

// ---------- responses ----------

void security_headers(http::Response& r) {
  // Nothing but our own stylesheet may load; no framing (clickjacking); no
  // inline script anywhere (the pages have none).
  r.headers.set("Content-Security-Policy",
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'");
  r.headers.set("X-Content-Type-Options", "nosniff");
  r.headers.set("Referrer-Policy", "same-origin");
  r.headers.set("Strict-Transport-Security", "max-age=31536000");
  if (!r.headers.contains("Cache-Control")) r.headers.set("Cache-Control", "no-store");
}

http::Response redirect(const std::string& to) {
  http::Response r;
  r.status = 303;
  r.headers.set("Location", to);
  security_headers(r);
  return r;
}

struct Session {
  std::int64_t staff_id = 0;
  std::string tenant, username, csrf;
  Role role = Role::Viewer;
  Bytes id_hash;
};

struct Package {
  std::int64_t id = 0;
  std::string tenant, name, description, offers, currency, state;
  std::int64_t price_minor = 0, sdrt_units = 0, valid_until = 0, created_at = 0;
};

}  // namespace

struct App::Impl {
  WebConfig cfg;
  Options opt;
  store::Db db;
  std::shared_ptr<ledger::EmbeddedLedger> ledger;
  std::map<std::string, std::unique_ptr<ledger::EmbeddedMarket>> markets;  // by tenant id
  std::map<std::string, Bytes> seal_points;                                // visited/SP tenants
  std::map<std::string, Bytes> reply_points;                               // home tenants that sell
  std::shared_ptr<PaymentProvider> payments;
  std::mutex mu;  // one request at a time on the store and the ledger handles

  Impl(WebConfig c, Options o) : cfg(std::move(c)), opt(std::move(o)), db(cfg.store) {
    if (!opt.clock) opt.clock = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
    sodium_ready();
    db.exec(
        "CREATE TABLE IF NOT EXISTS web_staff (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, username TEXT NOT NULL UNIQUE,"
        " role TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS web_sessions (id_hash BLOB PRIMARY KEY, staff_id INTEGER NOT NULL, csrf TEXT NOT NULL,"
        " created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS web_login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS web_settings (tenant TEXT PRIMARY KEY, currency TEXT NOT NULL, rate_micro INTEGER NOT NULL,"
        " margin_bp INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS web_packages (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL,"
        " description TEXT NOT NULL, offers TEXT NOT NULL, sdrt_units INTEGER NOT NULL, currency TEXT NOT NULL,"
        " price_minor INTEGER NOT NULL, valid_until INTEGER NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL);"
        // Storefront orders: `ref` is the order link's secret (128 bits); no
        // card data beyond the last four digits, no EID in clear (only the
        // ledger pseudonym and the sealed target on the ledger).
        "CREATE TABLE IF NOT EXISTS web_orders (ref TEXT PRIMARY KEY, tenant TEXT NOT NULL, package_id INTEGER NOT NULL,"
        " state TEXT NOT NULL, amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, card_last4 TEXT NOT NULL,"
        " payment_id TEXT NOT NULL, requests TEXT NOT NULL, subscriber TEXT NOT NULL, message TEXT NOT NULL,"
        " created_at INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS web_secrets (tenant TEXT PRIMARY KEY, pseudonym_key BLOB NOT NULL);");
    payments = opt.payments ? opt.payments : std::make_shared<TestCardProcessor>(to_hex(crypto::random_bytes(32)));
    ledger::EmbeddedLedger::Options lo;
    ledger = std::make_shared<ledger::EmbeddedLedger>(cfg.ledger, lo);
    if (ledger->head().seq == 0) throw std::runtime_error("no ledger at " + cfg.ledger + " (no genesis entry)");
    for (const auto& t : cfg.tenants) {
      auto key = std::make_shared<crypto::EcKey>(crypto::EcKey::from_pem_or_der(read_private_file(t.ledger_key)));
      if (!ledger->participant(t.id)) throw std::runtime_error("tenant " + t.id + " is not registered on the ledger");
      markets[t.id] = std::make_unique<ledger::EmbeddedMarket>(ledger, t.id, key);
      if (t.kind != TenantKind::HomeOperator) {
        if (t.seal_key.empty()) throw std::runtime_error("tenant " + t.id + ": seal_key is required for a provider");
        seal_points[t.id] = crypto::EcKey::from_pem_or_der(read_private_file(t.seal_key)).public_point();
      } else if (!t.reply_key.empty()) {
        reply_points[t.id] = crypto::EcKey::from_pem_or_der(read_private_file(t.reply_key)).public_point();
      }
    }
  }

  void log(std::string_view line) {
    if (opt.log)
      opt.log(line);
    else
      rsp::log::info("web", line);
  }

  const TenantConfig* tenant(const std::string& id) const {
    for (const auto& t : cfg.tenants)
      if (t.id == id) return &t;
    return nullptr;
  }

  // ---------- sessions ----------

  std::optional<std::string> cookie(const http::Request& req, std::string_view name) {
    for (const auto& [k, v] : req.headers.fields()) {
      if (!http::iequals(k, "cookie")) continue;
      std::string_view s = v;
      while (!s.empty()) {
        auto semi = s.find(';');
        std::string_view part = s.substr(0, semi);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        auto eq = part.find('=');
        if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
        if (semi == std::string_view::npos) break;
        s.remove_prefix(semi + 1);
      }
    }
    return std::nullopt;
  }

  std::optional<Session> session_of(const http::Request& req) {
    auto c = cookie(req, kCookie);
    if (!c || c->size() != 64) return std::nullopt;
    Bytes raw;
    try {
      raw = from_hex(*c);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    Bytes h = crypto::sha256(raw);
    std::optional<Session> s;
    std::int64_t created = 0, last = 0;
    db.query(
        "SELECT s.staff_id, s.csrf, s.created_at, s.last_seen, u.tenant, u.username, u.role FROM web_sessions s JOIN web_staff u"
        " ON u.id = s.staff_id WHERE s.id_hash = ?",
        {h}, [&](const store::Row& r) {
          Session x;
          x.staff_id = r.i64(0);
          x.csrf = r.text(1);
          created = r.i64(2);
          last = r.i64(3);
          x.tenant = r.text(4);
          x.username = r.text(5);
          x.role = role_from_name(r.text(6));
          x.id_hash = h;
          s = x;
        });
    if (!s) return std::nullopt;
    std::int64_t now = opt.clock();
    if (now - last > cfg.session_idle_seconds || now - created > cfg.session_absolute_seconds) {
      db.run("DELETE FROM web_sessions WHERE id_hash = ?", {h});
      return std::nullopt;
    }
    db.run("UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?", {now, h});
    return s;
  }

  static std::string session_cookie(const std::string& value, bool clear = false) {
    return std::string(kCookie) + "=" + value + "; Secure; HttpOnly; SameSite=Strict; Path=/" + (clear ? "; Max-Age=0" : "");
  }

  // ---------- pages ----------

  http::Response page(const std::optional<Session>& s, const std::string& title, const std::string& body, int status = 200) {
    std::string nav;
    if (s) {
      const TenantConfig* t = tenant(s->tenant);
      nav += "<nav><span class=\"who\">" + html_escape(t ? t->name : s->tenant) + " &middot; " + html_escape(s->username) +
             " (" + html_escape(std::string(to_string(s->role))) + ")</span>";
      if (t && t->kind == TenantKind::HomeOperator) {
        nav += "<a href=\"/offers\">Offers</a><a href=\"/packages\">Packages</a><a href=\"/account\">Account</a>"
               "<a href=\"/settings\">Settings</a><a href=\"/storefront/" +
               url_encode(t->id) + "\">Storefront</a>";
      } else {
        nav += "<a href=\"/my-offers\">My Offers</a><a href=\"/my-offers/new\">New Offer</a><a href=\"/account\">Account</a>";
      }
      nav += "<form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"_csrf\" value=\"" +
             html_escape(s->csrf) + "\"><button type=\"submit\">Sign out</button></form></nav>";
    }
    http::Response r;
    r.status = status;
    r.headers.set("Content-Type", "text/html; charset=utf-8");
    r.body = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
             "content=\"width=device-width, initial-scale=1\"><title>" +
             html_escape(title) +
             " - RSP marketplace</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><header><h1>" +
             html_escape(title) + "</h1>" + nav + "</header><main>" + body + "</main></body></html>\n";
    security_headers(r);
    return r;
  }

  static std::string errors_html(const std::vector<std::string>& errors) {
    if (errors.empty()) return "";
    std::string h = "<div class=\"errors\" role=\"alert\"><ul>";
    for (const auto& e : errors) h += "<li>" + html_escape(e) + "</li>";
    return h + "</ul></div>";
  }
  static std::string csrf_field(const Session& s) {
    return "<input type=\"hidden\" name=\"_csrf\" value=\"" + html_escape(s.csrf) + "\">";
  }

  http::Response error_page(const std::optional<Session>& s, int status, const std::string& message) {
    std::string title = status == 403 ? "Forbidden" : status == 404 ? "Not found" : "Refused";
    return page(s, title, "<p class=\"error\">" + html_escape(message) + "</p>", status);
  }

  http::Response login_page(const std::string& error, int status = 200) {
    std::string body = (error.empty() ? "" : errors_html({error})) +
                       "<form method=\"post\" action=\"/login\" class=\"card\">"
                       "<label>User name <input name=\"username\" autocomplete=\"username\" required></label>"
                       "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>"
                       "<button type=\"submit\">Sign in</button></form>";
    return page(std::nullopt, "Sign in", body, status);
  }

  // ---------- sign-in ----------

  int recent_failures(const std::string& key, std::int64_t now) {
    int n = 0;
    db.query("SELECT COUNT(*) FROM web_login_failures WHERE key = ? AND at > ?", {key, now - cfg.login_window_seconds},
             [&](const store::Row& r) { n = static_cast<int>(r.i64(0)); });
    return n;
  }

  http::Response login(const http::Request& req, std::unique_lock<std::mutex>& lock) {
    Form f;
    try {
      f = Form::parse(req.body);
    } catch (const std::invalid_argument&) {
      return login_page("The form could not be read.", 400);
    }
    std::string username = f.get("username");
    std::string password = f.get("password");
    std::string addr = req.remote_address.substr(0, req.remote_address.rfind(':'));
    std::int64_t now = opt.clock();
    db.run("DELETE FROM web_login_failures WHERE at <= ?", {now - cfg.login_window_seconds});
    if (recent_failures("user:" + username, now) >= cfg.login_max_failures ||
        recent_failures("addr:" + addr, now) >= cfg.login_max_failures) {
      log("sign-in refused (throttled) user=" + username + " from=" + addr);
      return login_page("Too many failed sign-ins. Try again in " + std::to_string(cfg.login_window_seconds / 60) + " minutes.",
                        429);
    }
    std::optional<std::pair<std::int64_t, std::string>> user;
    db.query("SELECT id, password_hash FROM web_staff WHERE username = ?", {username},
             [&](const store::Row& r) { user = std::make_pair(r.i64(0), r.text(1)); });
    // The hash check runs without the lock (it takes ~0.1 s and 64 MiB); an
    // unknown user costs the same (a dummy hash), so timing does not tell
    // which names exist.
    static const std::string dummy = hash_password("not a password of anyone");
    std::string stored = user ? user->second : dummy;
    lock.unlock();
    bool ok = verify_password(stored, password) && user.has_value();
    lock.lock();
    if (!ok) {
      db.run("INSERT INTO web_login_failures (key, at) VALUES (?, ?), (?, ?)", {"user:" + username, now, "addr:" + addr, now});
      log("sign-in failed user=" + username + " from=" + addr);
      return login_page("Wrong user name or password.", 401);
    }
    db.run("DELETE FROM web_login_failures WHERE key = ?", {"user:" + username});
    Bytes raw = crypto::random_bytes(32);  // 256-bit session id; only its hash is stored
    std::string csrf = to_hex(crypto::random_bytes(32));
    db.run("INSERT INTO web_sessions (id_hash, staff_id, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
           {crypto::sha256(raw), user->first, csrf, now, now});
    log("sign-in user=" + username + " from=" + addr);
    auto r = redirect("/");
    r.headers.add("Set-Cookie", session_cookie(to_hex(raw)));
    return r;
  }

  // Same-origin check for state-changing requests (OWASP CSRF cheat sheet,
  // "Verifying origin with standard headers"): Origin, else Referer, must be
  // this server as the browser addressed it.
  static bool same_origin(const http::Request& req) {
    auto host = req.headers.get("host");
    if (!host) return false;
    std::string expect = "https://" + *host;
    if (auto o = req.headers.get("origin")) return *o == expect;
    if (auto ref = req.headers.get("referer")) return ref->rfind(expect + "/", 0) == 0;
    return false;
  }

  // ---------- dispatch ----------

  http::Response handle(const http::Request& req) {
    std::unique_lock<std::mutex> lock(mu);
    std::string path(req.path());
    std::string query = req.target.size() > path.size() ? req.target.substr(path.size() + 1) : "";
    bool post = req.method == "POST";
    if (req.method != "GET" && req.method != "HEAD" && !post) return error_page(std::nullopt, 405, "Method not allowed.");

    if (path == "/static/app.css") {
      http::Response r;
      r.headers.set("Content-Type", "text/css; charset=utf-8");
      r.headers.set("Cache-Control", "public, max-age=3600");
      r.body = kAppCss;
      security_headers(r);
      return r;
    }
    if (path == "/health") return http::Response::text(200, "ok\n");
    // The processor's webhook is authenticated by its signature, not by a browser's Origin.
    if (path == "/payments/webhook" && post) return webhook(req);
    if (post && !same_origin(req)) return error_page(std::nullopt, 403, "Cross-site request refused (Origin does not match).");
    if (path == "/login") return post ? login(req, lock) : login_page("");
    if (path.rfind("/storefront/", 0) == 0) return storefront_route(path.substr(12), post, req.body);

    auto s = session_of(req);
    bool api = path.rfind("/api/", 0) == 0;
    if (!s) {
      if (api) return json_error(401, "not signed in");
      if (post) return error_page(std::nullopt, 401, "Your session has ended. Sign in again.");
      return redirect("/login");
    }
    Form form;
    if (post) {
      try {
        form = Form::parse(req.body);
      } catch (const std::invalid_argument&) {
        return error_page(s, 400, "The form could not be read.");
      }
      std::string token = form.has("_csrf") ? form.get("_csrf") : req.headers.get_or("x-csrf-token", "");
      if (token.size() != s->csrf.size() || sodium_memcmp(token.data(), s->csrf.data(), token.size()) != 0) {
        log("CSRF token refused user=" + s->username + " path=" + path);
        return error_page(s, 403, "The form's security token is missing or wrong. Reload the page and try again.");
      }
      if (path == "/logout") {
        db.run("DELETE FROM web_sessions WHERE id_hash = ?", {s->id_hash});
        log("sign-out user=" + s->username);
        auto r = redirect("/login");
        r.headers.add("Set-Cookie", session_cookie("", true));
        return r;
      }
      if (s->role == Role::Viewer) return error_page(s, 403, "Your role (viewer) may not change anything.");
    }
    Form q;
    try {
      q = Form::parse(query);
    } catch (const std::invalid_argument&) {
      return error_page(s, 400, "The address could not be read.");
    }
    const TenantConfig* t = tenant(s->tenant);
    if (!t) return error_page(s, 403, "Your tenant is no longer hosted here.");
    bool home = t->kind == TenantKind::HomeOperator;

    if (path == "/") return redirect(home ? "/offers" : "/my-offers");
    if (path == "/account" && !post) return account(*s, q);
    if (path == "/account/statement.csv" && !post) return statement_csv(*s, q);
    if (home) {
      if (path == "/offers" && !post) return offers_page(*s, q);
      if (path == "/packages" && !post) return packages_page(*s, {});
      if (path == "/packages/new" && !post) return package_editor(*s, q.all("offer"), Form(), {}, 200);
      if (path == "/packages" && post) return create_package(*s, form);
      if (path.rfind("/packages/", 0) == 0 && post && path.size() > 18 && path.substr(path.size() - 8) == "/publish")
        return publish_package(*s, path.substr(10, path.size() - 18));
      if (path.rfind("/api/packages/", 0) == 0 && !post) return api_package(*s, path.substr(14));
      if (path == "/api/packages" && !post) return api_packages(*s);
      if (path == "/settings") return post ? save_settings(*s, form) : settings_page(*s, {}, Form(), 200);
    } else {
      if (path == "/my-offers" && !post) return my_offers(*s);
      if (path == "/my-offers/new" && !post) return offer_editor(*s, Form(), {}, 200);
      if (path == "/my-offers" && post) return create_offer(*s, form);
    }
    if (api) return json_error(404, "no such resource");
    return error_page(s, 404, "There is no such page for your tenant.");
  }

  static http::Response json_error(int status, const std::string& message) {
    auto r = http::Response::json(nlohmann::json{{"error", message}}.dump(), status);
    security_headers(r);
    return r;
  }

  // ---------- home operator: Offers, packages, settings ----------

  struct Settings {
    std::string currency = "EUR";
    std::int64_t rate_micro = 0, margin_bp = 0;
    bool set = false;
  };
  Settings settings(const std::string& tenant_id) {
    Settings st;
    db.query("SELECT currency, rate_micro, margin_bp FROM web_settings WHERE tenant = ?", {tenant_id}, [&](const store::Row& r) {
      st.currency = r.text(0);
      st.rate_micro = r.i64(1);
      st.margin_bp = r.i64(2);
      st.set = true;
    });
    return st;
  }

  static std::string coverage_text(const ledger::Offer& o) {
    std::string c;
    for (const auto& p : o.coverage) c += (c.empty() ? "" : ", ") + p;
    return c;
  }
  static std::string allowance_text(const ledger::Allowance& a) {
    std::string s;
    if (a.data_mb) s += std::to_string(a.data_mb) + " MB";
    if (a.voice_minutes) s += (s.empty() ? "" : ", ") + std::to_string(a.voice_minutes) + " min";
    if (a.sms) s += (s.empty() ? "" : ", ") + std::to_string(a.sms) + " SMS";
    return s.empty() ? "-" : s;
  }

  http::Response offers_page(const Session& s, const Form& q) {
    std::vector<std::string> errors;
    std::string plmn = trim(q.get("plmn")), mcc = trim(q.get("mcc")), service = trim(q.get("service"));
    std::optional<Amount> max_price;
    std::optional<std::int64_t> min_term;
    if (!plmn.empty() && !valid_plmn(plmn)) errors.push_back("PLMN must be MCC (3 digits) + MNC (2 or 3 digits), e.g. 20801.");
    if (!mcc.empty() && !(all_digits(mcc) && mcc.size() == 3)) errors.push_back("Country (MCC) must be 3 digits, e.g. 208.");
    if (!q.get("max_price").empty()) {
      max_price = parse_fixed(trim(q.get("max_price")), 6, 1'000'000'000LL * ledger::kUnitsPerSdrt);
      if (!max_price) errors.push_back("Maximum price must be an SDRt amount with at most 6 decimals, e.g. 12.5.");
    }
    if (!q.get("min_term_days").empty()) {
      min_term = parse_count(trim(q.get("min_term_days")), 0, 3650);
      if (!min_term) errors.push_back("Minimum term must be a whole number of days (0 to 3650).");
    }
    std::int64_t now = opt.clock();
    std::string rows;
    int n = 0;
    if (errors.empty()) {
      for (const auto& o : markets.at(s.tenant)->offers()) {
        if (o.valid_until < now || o.sold >= o.stock) continue;
        if (!plmn.empty() && std::find(o.coverage.begin(), o.coverage.end(), plmn) == o.coverage.end()) continue;
        if (!mcc.empty() &&
            std::none_of(o.coverage.begin(), o.coverage.end(), [&](const std::string& p) { return p.rfind(mcc, 0) == 0; }))
          continue;
        if (!service.empty() && o.service.find(service) == std::string::npos) continue;
        if (max_price && o.price > *max_price) continue;
        if (min_term && o.term_seconds < *min_term * 86400) continue;
        ++n;
        rows += "<tr><td>" +
                (s.role == Role::Viewer ? std::string()
                                        : "<input type=\"checkbox\" name=\"offer\" value=\"" + html_escape(o.offer_id) +
                                              "\" aria-label=\"bundle " + html_escape(o.offer_id) + "\">") +
                "</td><td>" + html_escape(o.offer_id) + "</td><td>" + html_escape(o.provider) + "</td><td>" +
                html_escape(o.service) + "</td><td>" + html_escape(coverage_text(o)) + "</td><td>" +
                html_escape(allowance_text(o.allowance)) + "</td><td class=\"num\">" + format_sdrt(o.price) +
                "</td><td class=\"num\">" + std::to_string(o.term_seconds / 86400) + "</td><td>" + date_text(o.valid_until) +
                "</td><td class=\"num\">" + std::to_string(o.stock - o.sold) + "</td></tr>";
      }
    }
    std::string body = errors_html(errors) +
                       "<form method=\"get\" action=\"/offers\" class=\"filters\">"
                       "<label>PLMN <input name=\"plmn\" value=\"" + html_escape(plmn) + "\" placeholder=\"20801\"></label>"
                       "<label>Country (MCC) <input name=\"mcc\" value=\"" + html_escape(mcc) + "\" placeholder=\"208\"></label>"
                       "<label>Service <input name=\"service\" value=\"" + html_escape(service) + "\" placeholder=\"data\"></label>"
                       "<label>Max price (SDRt) <input name=\"max_price\" value=\"" + html_escape(q.get("max_price")) + "\"></label>"
                       "<label>Min term (days) <input name=\"min_term_days\" value=\"" + html_escape(q.get("min_term_days")) +
                       "\"></label><button type=\"submit\">Filter</button></form>"
                       "<form method=\"get\" action=\"/packages/new\"><table><thead><tr><th></th><th>Offer</th><th>Provider</th>"
                       "<th>Service</th><th>Coverage</th><th>Allowance</th><th>Price (SDRt)</th><th>Term (days)</th>"
                       "<th>Valid until</th><th>Left</th></tr></thead><tbody>" +
                       rows + "</tbody></table><p>" + std::to_string(n) + " Offer(s).</p>" +
                       (s.role == Role::Viewer ? std::string() : "<button type=\"submit\">Bundle into a package</button>") +
                       "</form>";
    return page(s, "Offers on the ledger", body, errors.empty() ? 200 : 400);
  }

  http::Response package_editor(const Session& s, const std::vector<std::string>& offer_ids, const Form& f,
                                const std::vector<std::string>& errors, int status) {
    if (s.role == Role::Viewer) return error_page(s, 403, "Your role (viewer) may not edit packages.");
    Settings st = settings(s.tenant);
    std::string rows, hidden;
    Amount sum = 0;
    auto& m = *markets.at(s.tenant);
    for (const auto& id : offer_ids) {
      auto o = m.offer(id);
      if (!o) continue;
      sum += o->price;
      hidden += "<input type=\"hidden\" name=\"offer\" value=\"" + html_escape(id) + "\">";
      rows += "<tr><td>" + html_escape(o->offer_id) + "</td><td>" + html_escape(o->provider) + "</td><td>" +
              html_escape(o->service) + "</td><td>" + html_escape(coverage_text(*o)) + "</td><td class=\"num\">" +
              format_sdrt(o->price) + "</td></tr>";
    }
    std::string price = st.set ? format_minor(retail_minor(sum, st.rate_micro, st.margin_bp)) + " " + st.currency
                               : "(set your exchange rate and margin under Settings first)";
    std::string body =
        errors_html(errors) + "<h2>Offers in this package</h2><table><thead><tr><th>Offer</th><th>Provider</th><th>Service</th>"
        "<th>Coverage</th><th>Price (SDRt)</th></tr></thead><tbody>" + rows + "</tbody></table>"
        "<p>Total: <strong>" + format_sdrt(sum) + " SDRt</strong>; at " + (st.set ? format_micro(st.rate_micro) : std::string("-")) +
        " " + html_escape(st.currency) + " per SDRt with a margin of " + format_minor(st.margin_bp) +
        " %: retail price <strong class=\"price\">" + html_escape(price) + "</strong></p>"
        "<form method=\"post\" action=\"/packages\" class=\"card\">" + csrf_field(s) + hidden +
        "<label>Name <input name=\"name\" maxlength=\"80\" value=\"" + html_escape(f.get("name")) + "\" required></label>"
        "<label>Description <textarea name=\"description\" maxlength=\"500\">" + html_escape(f.get("description")) +
        "</textarea></label><label>Valid until <input name=\"valid_until\" type=\"date\" value=\"" +
        html_escape(f.get("valid_until")) + "\" required></label><button type=\"submit\">Save package</button></form>";
    return page(s, "New package", body, status);
  }

  http::Response create_package(const Session& s, const Form& f) {
    std::vector<std::string> errors;
    std::string name = trim(f.get("name")), description = trim(f.get("description"));
    const auto& ids = f.all("offer");
    if (name.empty() || name.size() > 80) errors.push_back("Name must be 1 to 80 characters.");
    if (description.size() > 500) errors.push_back("Description must be at most 500 characters.");
    auto valid_until = parse_date_end(trim(f.get("valid_until")));
    std::int64_t now = opt.clock();
    if (!valid_until)
      errors.push_back("Valid until must be a date (YYYY-MM-DD).");
    else if (*valid_until < now)
      errors.push_back("Valid until must not be in the past.");
    if (ids.empty() || ids.size() > 10) errors.push_back("Choose 1 to 10 Offers for the package.");
    Amount sum = 0;
    std::set<std::string> seen;
    auto& m = *markets.at(s.tenant);
    for (const auto& id : ids) {
      auto o = seen.insert(id).second ? m.offer(id) : std::nullopt;
      if (!o) {
        errors.push_back("Offer '" + id + "' is not on the ledger (or named twice).");
        continue;
      }
      if (valid_until && o->valid_until < *valid_until)
        errors.push_back("Offer '" + id + "' can be bought only until " + date_text(o->valid_until) + ".");
      sum += o->price;
    }
    Settings st = settings(s.tenant);
    if (!st.set) errors.push_back("Set your exchange rate and margin under Settings first.");
    if (!errors.empty()) return package_editor(s, ids, f, errors, 400);
    std::string offers;
    for (const auto& id : ids) offers += (offers.empty() ? "" : ",") + id;
    db.run("INSERT INTO web_packages (tenant, name, description, offers, sdrt_units, currency, price_minor, valid_until, state,"
           " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?)",
           {s.tenant, name, description, offers, sum, st.currency, retail_minor(sum, st.rate_micro, st.margin_bp), *valid_until,
            now});
    log("package created tenant=" + s.tenant + " user=" + s.username);
    return redirect("/packages");
  }

  std::vector<Package> packages_of(const std::string& tenant_id, std::optional<std::int64_t> id = std::nullopt,
                                   bool published_only = false) {
    std::vector<Package> out;
    std::string sql =
        "SELECT id, tenant, name, description, offers, currency, state, price_minor, sdrt_units, valid_until, created_at FROM "
        "web_packages WHERE tenant = ?";
    std::vector<store::Value> params{tenant_id};
    if (id) {
      sql += " AND id = ?";
      params.emplace_back(*id);
    }
    if (published_only) sql += " AND state = 'published'";
    db.query(sql + " ORDER BY id", params, [&](const store::Row& r) {
      Package p;
      p.id = r.i64(0);
      p.tenant = r.text(1);
      p.name = r.text(2);
      p.description = r.text(3);
      p.offers = r.text(4);
      p.currency = r.text(5);
      p.state = r.text(6);
      p.price_minor = r.i64(7);
      p.sdrt_units = r.i64(8);
      p.valid_until = r.i64(9);
      p.created_at = r.i64(10);
      out.push_back(p);
    });
    return out;
  }

  http::Response packages_page(const Session& s, const std::vector<std::string>& errors) {
    std::string rows;
    for (const auto& p : packages_of(s.tenant)) {
      rows += "<tr><td>" + html_escape(p.name) + "</td><td>" + html_escape(p.description) + "</td><td>" + html_escape(p.offers) +
              "</td><td class=\"num\">" + format_sdrt(p.sdrt_units) + "</td><td class=\"num\">" + format_minor(p.price_minor) +
              " " + html_escape(p.currency) + "</td><td>" + date_text(p.valid_until) + "</td><td>" + html_escape(p.state) +
              "</td><td>";
      if (p.state == "draft" && s.role != Role::Viewer)
        rows += "<form method=\"post\" action=\"/packages/" + std::to_string(p.id) + "/publish\">" + csrf_field(s) +
                "<button type=\"submit\">Publish</button></form>";
      rows += "</td></tr>";
    }
    std::string body = errors_html(errors) +
                       "<table><thead><tr><th>Name</th><th>Description</th><th>Offers</th><th>Cost (SDRt)</th>"
                       "<th>Retail price</th><th>Valid until</th><th>State</th><th></th></tr></thead><tbody>" +
                       rows + "</tbody></table><p><a href=\"/offers\">Choose Offers to bundle a new package</a></p>";
    return page(s, "Packages", body);
  }

  static std::optional<std::int64_t> id_of(std::string_view text) {
    auto v = parse_count(text, 1, INT64_MAX / 10);
    return v;
  }

  http::Response publish_package(const Session& s, const std::string& id_text) {
    auto id = id_of(id_text);
    // Another tenant's package is "not found", like one that does not exist:
    // the answer tells nothing about other tenants' data.
    if (!id || packages_of(s.tenant, id).empty()) return error_page(s, 404, "No such package.");
    db.run("UPDATE web_packages SET state = 'published' WHERE tenant = ? AND id = ?", {s.tenant, *id});
    log("package published tenant=" + s.tenant + " id=" + std::to_string(*id) + " user=" + s.username);
    return redirect("/packages");
  }

  static nlohmann::json package_json(const Package& p) {
    return {{"id", p.id},           {"name", p.name},   {"description", p.description},
            {"offers", p.offers},   {"currency", p.currency}, {"price", format_minor(p.price_minor)},
            {"sdrt", format_sdrt(p.sdrt_units)}, {"valid_until", time_text::iso8601_utc(p.valid_until)}, {"state", p.state}};
  }

  http::Response api_package(const Session& s, const std::string& id_text) {
    auto id = id_of(id_text);
    auto ps = id ? packages_of(s.tenant, id) : std::vector<Package>{};
    if (ps.empty()) return json_error(404, "no such package");
    auto r = http::Response::json(package_json(ps.front()).dump());
    security_headers(r);
    return r;
  }
  http::Response api_packages(const Session& s) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : packages_of(s.tenant)) a.push_back(package_json(p));
    auto r = http::Response::json(a.dump());
    security_headers(r);
    return r;
  }

  http::Response settings_page(const Session& s, const std::vector<std::string>& errors, const Form& f, int status) {
    Settings st = settings(s.tenant);
    std::string currency = f.has("currency") ? f.get("currency") : st.currency;
    std::string rate = f.has("rate") ? f.get("rate") : (st.set ? format_micro(st.rate_micro) : "");
    std::string margin = f.has("margin") ? f.get("margin") : (st.set ? format_minor(st.margin_bp) : "");
    bool can = s.role == Role::Admin;
    std::string dis = can ? "" : " disabled";
    std::string body =
        errors_html(errors) +
        "<p>Your own data: it never goes on the ledger. Retail price = Offers' SDRt price &times; rate &times; (1 + margin).</p>"
        "<form method=\"post\" action=\"/settings\" class=\"card\">" +
        csrf_field(s) + "<label>Currency (ISO 4217) <input name=\"currency\" maxlength=\"3\" value=\"" + html_escape(currency) +
        "\"" + dis + "></label><label>Rate (" + html_escape(currency) + " per 1 SDRt) <input name=\"rate\" value=\"" +
        html_escape(rate) + "\"" + dis + "></label><label>Margin (%) <input name=\"margin\" value=\"" + html_escape(margin) +
        "\"" + dis + "></label>" + (can ? "<button type=\"submit\">Save</button>" : "<p>Only an admin may change these.</p>") +
        "</form>";
    return page(s, "Settings", body, status);
  }

  http::Response save_settings(const Session& s, const Form& f) {
    if (s.role != Role::Admin) return error_page(s, 403, "Only an admin may change the settings.");
    std::vector<std::string> errors;
    std::string currency = trim(f.get("currency"));
    if (currency.size() != 3 || !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      errors.push_back("Currency must be an ISO 4217 code: 3 capital letters, e.g. EUR.");
    auto rate = parse_fixed(trim(f.get("rate")), 6, 1'000'000LL * 1'000'000);
    if (!rate || *rate == 0) errors.push_back("Rate must be a positive number with at most 6 decimals, e.g. 1.21.");
    auto margin = parse_fixed(trim(f.get("margin")), 2, 100000);
    if (!margin) errors.push_back("Margin must be a percentage from 0 to 1000 with at most 2 decimals, e.g. 15.");
    if (!errors.empty()) return settings_page(s, errors, f, 400);
    db.run("INSERT INTO web_settings (tenant, currency, rate_micro, margin_bp) VALUES (?, ?, ?, ?) ON CONFLICT(tenant) DO UPDATE"
           " SET currency = excluded.currency, rate_micro = excluded.rate_micro, margin_bp = excluded.margin_bp",
           {s.tenant, currency, *rate, *margin});
    log("settings saved tenant=" + s.tenant + " user=" + s.username);
    return redirect("/settings");
  }

  // ---------- account: balance, escrow, statement ----------

  std::pair<std::int64_t, std::int64_t> period(const Form& q, std::vector<std::string>& errors) {
    std::int64_t now = opt.clock();
    std::int64_t from = now - 30 * 86400, to = now + 1;
    if (!q.get("from").empty()) {
      auto v = parse_date_start(q.get("from"));
      if (!v) errors.push_back("From must be a date (YYYY-MM-DD)."); else from = *v;
    }
    if (!q.get("to").empty()) {
      auto v = parse_date_end(q.get("to"));
      if (!v) errors.push_back("To must be a date (YYYY-MM-DD)."); else to = *v + 1;
    }
    if (errors.empty() && from >= to) errors.push_back("From must be before To.");
    return {from, to};
  }

  http::Response account(const Session& s, const Form& q) {
    std::vector<std::string> errors;
    auto [from, to] = period(q, errors);
    auto& m = *markets.at(s.tenant);
    auto b = m.balance(s.tenant);
    std::string rows;
    std::string table;
    if (errors.empty()) {
      auto st = ledger::make_statement(m, s.tenant, from, to);
      for (const auto& l : st.lines)
        rows += "<tr><td>" + time_text::iso8601_utc(l.event.time) + "</td><td>" + html_escape(l.event.type) + "</td><td>" +
                html_escape(l.event.id) + "</td><td>" + html_escape(l.event.counterparty) + "</td><td class=\"num\">" +
                format_sdrt(l.delta_available) + "</td><td class=\"num\">" + format_sdrt(l.delta_escrowed) + "</td></tr>";
      table = "<p>Opening: " + format_sdrt(st.opening.available) + " available, " + format_sdrt(st.opening.escrowed) +
              " escrowed. Closing: " + format_sdrt(st.closing.available) + " available, " + format_sdrt(st.closing.escrowed) +
              " escrowed.</p><table><thead><tr><th>Time</th><th>Event</th><th>Record</th><th>Counterparty</th>"
              "<th>Available (SDRt)</th><th>Escrow (SDRt)</th></tr></thead><tbody>" + rows + "</tbody></table>";
    }
    std::string range = "from=" + url_encode(date_text(from)) + "&amp;to=" + url_encode(date_text(to - 1));
    std::string body = errors_html(errors) + "<p class=\"balance\">Balance: <strong>" + format_sdrt(b.available) +
                       " SDRt</strong> available, <strong>" + format_sdrt(b.escrowed) + " SDRt</strong> in escrow.</p>"
                       "<form method=\"get\" action=\"/account\" class=\"filters\"><label>From <input type=\"date\" name=\"from\" value=\"" +
                       html_escape(date_text(from)) + "\"></label><label>To <input type=\"date\" name=\"to\" value=\"" +
                       html_escape(date_text(to - 1)) + "\"></label><button type=\"submit\">Show</button></form>" + table +
                       (errors.empty() ? "<p><a href=\"/account/statement.csv?" + range + "\">Download the statement (CSV)</a></p>" : "");
    return page(s, "Account", body, errors.empty() ? 200 : 400);
  }

  http::Response statement_csv(const Session& s, const Form& q) {
    std::vector<std::string> errors;
    auto [from, to] = period(q, errors);
    if (!errors.empty()) return error_page(s, 400, errors.front());
    auto st = ledger::make_statement(*markets.at(s.tenant), s.tenant, from, to);
    std::string csv = "position,time,type,record,counterparty,amount_sdrt,delta_available_sdrt,delta_escrowed_sdrt,reference\r\n";
    csv += ",," + csv_field("opening") + ",,,," + format_sdrt(st.opening.available) + "," + format_sdrt(st.opening.escrowed) + ",\r\n";
    for (const auto& l : st.lines)
      csv += std::to_string(l.event.position) + "," + time_text::iso8601_utc(l.event.time) + "," + csv_field(l.event.type) + "," +
             csv_field(l.event.id) + "," + csv_field(l.event.counterparty) + "," + format_sdrt(l.event.amount) + "," +
             format_sdrt(l.delta_available) + "," + format_sdrt(l.delta_escrowed) + "," + csv_field(l.event.reference) + "\r\n";
    csv += ",," + csv_field("closing") + ",,,," + format_sdrt(st.closing.available) + "," + format_sdrt(st.closing.escrowed) + ",\r\n";
    http::Response r;
    r.headers.set("Content-Type", "text/csv; charset=utf-8");
    r.headers.set("Content-Disposition", "attachment; filename=\"statement-" + s.tenant + "-" + date_text(from) + ".csv\"");
    r.body = csv;
    security_headers(r);
    return r;
  }

  // ---------- visited operator / service provider ----------

  http::Response my_offers(const Session& s) {
    auto& m = *markets.at(s.tenant);
    std::string rows;
    for (const auto& o : m.offers()) {
      if (o.provider != s.tenant) continue;
      rows += "<tr><td>" + html_escape(o.offer_id) + "</td><td>" + html_escape(o.service) + "</td><td>" +
              html_escape(coverage_text(o)) + "</td><td>" + html_escape(allowance_text(o.allowance)) + "</td><td class=\"num\">" +
              format_sdrt(o.price) + "</td><td class=\"num\">" + std::to_string(o.term_seconds / 86400) + "</td><td>" +
              date_text(o.valid_until) + "</td><td class=\"num\">" + std::to_string(o.sold) + " / " + std::to_string(o.stock) +
              "</td></tr>";
    }
    // Incoming Requests: the request events whose counterparty is this provider.
    std::string reqs;
    std::int64_t pos = 0;
    for (;;) {
      auto evs = m.events_after(pos, 1000);
      if (evs.empty()) break;
      pos = evs.back().position;
      for (const auto& e : evs) {
        if (e.type != "request" || e.counterparty != s.tenant) continue;
        auto r = m.find_request(e.id);
        if (!r) continue;
        reqs += "<tr><td>" + html_escape(r->request_id) + "</td><td>" + html_escape(r->offer_id) + "</td><td>" +
                html_escape(r->home) + "</td><td>" + html_escape(std::string(ledger::to_string(r->state))) + "</td><td class=\"num\">" +
                format_sdrt(r->escrow) + "</td><td class=\"num\">" + format_sdrt(r->charged) + "</td><td>" +
                time_text::iso8601_utc(r->requested_at) + "</td></tr>";
      }
    }
    std::string body = "<h2>Offers</h2><table><thead><tr><th>Offer</th><th>Service</th><th>Coverage</th><th>Allowance</th>"
                       "<th>Price (SDRt)</th><th>Term (days)</th><th>Valid until</th><th>Sold</th></tr></thead><tbody>" +
                       rows + "</tbody></table>" +
                       (s.role == Role::Viewer ? std::string() : "<p><a href=\"/my-offers/new\">Publish a new Offer</a></p>") +
                       "<h2>Incoming Requests</h2><table><thead><tr><th>Request</th><th>Offer</th><th>Home operator</th>"
                       "<th>State</th><th>Escrow (SDRt)</th><th>Charged (SDRt)</th><th>Requested</th></tr></thead><tbody>" +
                       reqs + "</tbody></table>";
    return page(s, "My Offers", body);
  }

  http::Response offer_editor(const Session& s, const Form& f, const std::vector<std::string>& errors, int status) {
    if (s.role == Role::Viewer) return error_page(s, 403, "Your role (viewer) may not publish Offers.");
    auto field = [&](const std::string& name, const std::string& label, const std::string& def, const std::string& extra = "") {
      std::string v = f.has(name) ? f.get(name) : def;
      return "<label>" + label + " <input name=\"" + name + "\" value=\"" + html_escape(v) + "\"" + extra + "></label>";
    };
    std::string body = errors_html(errors) + "<form method=\"post\" action=\"/my-offers\" class=\"card grid\">" + csrf_field(s) +
                       field("offer_id", "Offer id", "", " maxlength=\"32\" required") +
                       field("service", "Service", "data", " maxlength=\"32\" required") +
                       field("coverage", "Coverage (PLMNs, comma separated)", "", " required") +
                       field("data_mb", "Data (MB)", "0") + field("voice_min", "Voice (minutes)", "0") + field("sms", "SMS", "0") +
                       field("per_mb", "Tariff per MB (SDRt)", "0") + field("per_min", "Tariff per minute (SDRt)", "0") +
                       field("per_sms", "Tariff per SMS (SDRt)", "0") + field("price", "Price: escrow per Request (SDRt)", "", " required") +
                       field("term_days", "Term (days)", "30") +
                       field("valid_until", "Can be bought until", "", " type=\"date\" required") +
                       field("stock", "Stock (Requests it takes)", "100") + "<button type=\"submit\">Publish Offer</button></form>";
    return page(s, "New Offer", body, status);
  }

  http::Response create_offer(const Session& s, const Form& f) {
    std::vector<std::string> errors;
    ledger::OfferTerms t;
    t.offer_id = trim(f.get("offer_id"));
    if (!ledger::valid_record_id(t.offer_id)) errors.push_back("Offer id must be 1 to 32 printable characters.");
    t.service = trim(f.get("service"));
    if (t.service.empty() || t.service.size() > 32) errors.push_back("Service must be 1 to 32 characters, e.g. data.");
    t.coverage = split_list(f.get("coverage"));
    if (t.coverage.empty()) errors.push_back("Coverage must name at least one PLMN.");
    for (const auto& p : t.coverage)
      if (!valid_plmn(p)) errors.push_back("'" + p + "' is not a PLMN: MCC (3 digits) + MNC (2 or 3 digits), e.g. 20801.");
    auto count = [&](const std::string& name, const std::string& label, std::int64_t min, std::int64_t max) -> std::int64_t {
      auto v = parse_count(trim(f.get(name)), min, max);
      if (!v) errors.push_back(label + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ".");
      return v.value_or(0);
    };
    auto sdrt = [&](const std::string& name, const std::string& label) -> Amount {
      auto v = parse_fixed(trim(f.get(name)), 6, 1'000'000'000LL * ledger::kUnitsPerSdrt);
      if (!v) errors.push_back(label + " must be an SDRt amount with at most 6 decimals, e.g. 0.05.");
      return v.value_or(0);
    };
    t.allowance.data_mb = count("data_mb", "Data (MB)", 0, 100'000'000);
    t.allowance.voice_minutes = count("voice_min", "Voice (minutes)", 0, 10'000'000);
    t.allowance.sms = count("sms", "SMS", 0, 10'000'000);
    t.tariff.per_mb = sdrt("per_mb", "Tariff per MB");
    t.tariff.per_minute = sdrt("per_min", "Tariff per minute");
    t.tariff.per_sms = sdrt("per_sms", "Tariff per SMS");
    t.price = sdrt("price", "Price");
    if (f.has("price") && t.price == 0 && errors.empty()) errors.push_back("Price must be more than 0 SDRt.");
    t.term_seconds = count("term_days", "Term (days)", 1, ledger::kMaxTermSeconds / 86400) * 86400;
    t.stock = count("stock", "Stock", 1, 1'000'000);
    auto vu = parse_date_end(trim(f.get("valid_until")));
    if (!vu)
      errors.push_back("Can be bought until must be a date (YYYY-MM-DD).");
    else if (*vu < opt.clock())
      errors.push_back("Can be bought until must not be in the past.");
    t.valid_until = vu.value_or(0);
    t.seal_key = seal_points.at(s.tenant);
    if (errors.empty()) {
      try {
        auto rc = markets.at(s.tenant)->publish_offer(t);
        log("offer published tenant=" + s.tenant + " offer=" + t.offer_id + " position=" + std::to_string(rc.position) +
            " user=" + s.username);
        return redirect("/my-offers");
      } catch (const ledger::MarketError& e) {
        errors.push_back("The ledger refused the Offer (" + e.code + "): " + e.what());
      }
    }
    return offer_editor(s, f, errors, 400);
  }

  // ---------- storefront (public) ----------

  http::Response storefront(const std::string& tenant_id) {
    const TenantConfig* t = tenant(tenant_id);
    if (!t || t->kind != TenantKind::HomeOperator) return error_page(std::nullopt, 404, "No such storefront.");
    std::int64_t now = opt.clock();
    std::string cards;
    for (const auto& p : packages_of(t->id, std::nullopt, true)) {
      if (p.valid_until < now) continue;
      cards += "<article class=\"card package\"><h2>" + html_escape(p.name) + "</h2><p>" + html_escape(p.description) +
               "</p><p class=\"price\">" + format_minor(p.price_minor) + " " + html_escape(p.currency) +
               "</p><p>Valid until " + date_text(p.valid_until) + "</p><p><a class=\"buy\" href=\"/storefront/" +
               url_encode(t->id) + "/packages/" + std::to_string(p.id) + "\">Buy</a></p></article>";
    }
    if (cards.empty()) cards = "<p>No packages on sale yet.</p>";
    return page(std::nullopt, t->name + " - travel packages", "<div class=\"packages\">" + cards + "</div>");
  }

  // ---------- storefront: buying a package ----------

  http::Response storefront_route(const std::string& rest, bool post, const std::string& body) {
    // rest: "T", "T/packages/N", "T/orders/REF"
    auto slash = rest.find('/');
    std::string tid = rest.substr(0, slash);
    if (slash == std::string::npos) return post ? error_page(std::nullopt, 405, "Method not allowed.") : storefront(tid);
    const TenantConfig* t = tenant(tid);
    if (!t || t->kind != TenantKind::HomeOperator) return error_page(std::nullopt, 404, "No such storefront.");
    std::string sub = rest.substr(slash + 1);
    if (sub.rfind("packages/", 0) == 0) {
      auto id = id_of(sub.substr(9));
      auto ps = id ? packages_of(t->id, id, true) : std::vector<Package>{};
      if (ps.empty() || ps.front().valid_until < opt.clock()) return error_page(std::nullopt, 404, "No such package on sale.");
      if (!post) return buy_page(*t, ps.front(), Form(), {}, 200);
      Form f;
      try {
        f = Form::parse(body);
      } catch (const std::invalid_argument&) {
        return error_page(std::nullopt, 400, "The form could not be read.");
      }
      return buy(*t, ps.front(), f);
    }
    if (sub.rfind("orders/", 0) == 0 && !post) return order_page(*t, sub.substr(7));
    return error_page(std::nullopt, 404, "No such page.");
  }

  http::Response buy_page(const TenantConfig& t, const Package& p, const Form& f, const std::vector<std::string>& errors,
                          int status) {
    std::string body =
        errors_html(errors) + "<article class=\"card package\"><h2>" + html_escape(p.name) + "</h2><p>" +
        html_escape(p.description) + "</p><p class=\"price\">" + format_minor(p.price_minor) + " " + html_escape(p.currency) +
        "</p></article><form method=\"post\" action=\"/storefront/" + url_encode(t.id) + "/packages/" + std::to_string(p.id) +
        "\" class=\"card\"><label>Your eSIM's EID (32 digits, in your phone's settings) <input name=\"eid\" inputmode=\"numeric\" "
        "value=\"" + html_escape(f.get("eid")) + "\" required></label><label>Card number <input name=\"card_number\" "
        "inputmode=\"numeric\" autocomplete=\"cc-number\" required></label><label>Expiry (MM/YY) <input name=\"expiry\" "
        "autocomplete=\"cc-exp\" value=\"" + html_escape(f.get("expiry")) + "\" required></label><label>CVC <input name=\"cvc\" "
        "inputmode=\"numeric\" autocomplete=\"cc-csc\" required></label><button type=\"submit\">Pay " +
        format_minor(p.price_minor) + " " + html_escape(p.currency) + "</button></form>";
    return page(std::nullopt, t.name + " - " + p.name, body, status);
  }

  Bytes pseudonym_key(const std::string& tenant_id) {
    Bytes k;
    db.query("SELECT pseudonym_key FROM web_secrets WHERE tenant = ?", {tenant_id}, [&](const store::Row& r) { k = r.blob(0); });
    if (k.empty()) {
      k = crypto::random_bytes(32);
      db.run("INSERT INTO web_secrets (tenant, pseudonym_key) VALUES (?, ?)", {tenant_id, k});
    }
    return k;
  }

  http::Response buy(const TenantConfig& t, const Package& p, const Form& f) {
    std::vector<std::string> errors;
    std::string eid = trim(f.get("eid"));
    if (!valid_eid(eid)) errors.push_back("The EID must be 32 digits.");
    std::string number;
    for (char c : f.get("card_number"))
      if (c != ' ' && c != '-') number += c;
    CardDetails card;
    card.number = number;
    if (!all_digits(number) || number.size() < 12 || number.size() > 19) errors.push_back("The card number must be 12 to 19 digits.");
    std::string exp = trim(f.get("expiry"));
    if (exp.size() == 5 && exp[2] == '/' && all_digits(exp.substr(0, 2)) && all_digits(exp.substr(3, 2))) {
      card.exp_month = std::stoi(exp.substr(0, 2));
      card.exp_year = 2000 + std::stoi(exp.substr(3, 2));
    }
    if (card.exp_month < 1 || card.exp_month > 12) errors.push_back("The expiry must be MM/YY, e.g. 08/29.");
    card.cvc = trim(f.get("cvc"));
    if (!all_digits(card.cvc) || card.cvc.size() < 3 || card.cvc.size() > 4) errors.push_back("The CVC must be 3 or 4 digits.");
    if (!errors.empty()) return buy_page(t, p, f, errors, 400);

    // Before any money moves: every Offer still on sale, and the operator's
    // SDRt balance covers the escrow of all of them.
    auto& m = *markets.at(t.id);
    std::vector<ledger::Offer> offers;
    Amount escrow = 0;
    std::int64_t now = opt.clock();
    for (const auto& id : split_list(p.offers)) {
      auto o = m.offer(id);
      if (!o || o->valid_until <= now || o->sold >= o->stock) {
        errors.push_back("This package is sold out.");
        break;
      }
      escrow += o->price;
      offers.push_back(*o);
    }
    if (reply_points.count(t.id) == 0) errors.push_back("This shop cannot sell yet (no reply key configured).");
    if (errors.empty() && m.balance(t.id).available < escrow) errors.push_back("This package is not available right now.");
    if (!errors.empty()) {
      log("storefront sale refused tenant=" + t.id + " package=" + std::to_string(p.id) + ": " + errors.front());
      return buy_page(t, p, f, errors, 409);
    }

    std::string ref = to_hex(crypto::random_bytes(16));
    std::string last4 = number.substr(number.size() - 4);
    std::string subscriber = "web-" + to_hex(crypto::hmac_sha256(pseudonym_key(t.id), to_bytes(eid))).substr(0, 32);
    auto auth = payments->authorize(ref, p.price_minor, p.currency, card, now);
    rsp::wipe(number.data(), number.size());
    rsp::wipe(card.number.data(), card.number.size());
    rsp::wipe(card.cvc.data(), card.cvc.size());
    auto record = [&](const std::string& state, const std::string& payment_id, const std::string& requests, const std::string& msg) {
      db.run("INSERT INTO web_orders (ref, tenant, package_id, state, amount_minor, currency, card_last4, payment_id, requests,"
             " subscriber, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref) DO UPDATE SET"
             " state = excluded.state, payment_id = excluded.payment_id, requests = excluded.requests, message = excluded.message",
             {ref, t.id, p.id, state, p.price_minor, p.currency, last4, payment_id, requests, subscriber, msg, now});
    };
    if (auth.status != PaymentStatus::Authorized) {
      // Declined: no Request, nothing escrowed.
      record("declined", auth.payment_id, "", auth.decline_code);
      log("storefront payment declined tenant=" + t.id + " order=" + ref + " code=" + auth.decline_code);
      return buy_page(t, p, f, {"Payment declined: " + auth.message}, 402);
    }
    record("authorized", auth.payment_id, "", "");
    // One Request per Offer, for this subscriber (SGP.22 target: the EID,
    // sealed to the Offer's seal key; docs/marketplace.md step 3).
    std::string requests;
    for (const auto& o : offers) {
      ledger::RequestTerms rt;
      rt.request_id = "WEB-" + to_hex(crypto::random_bytes(8));
      rt.offer_id = o.offer_id;
      rt.subscriber = subscriber;
      rt.escrow = o.price;
      rt.reply_key = reply_points.at(t.id);
      rt.sealed_target = ledger::seal(o.seal_key, ledger::target_context(m.ledger_id(), o, t.id, rt),
                                      to_bytes(nlohmann::json{{"eid", eid}}.dump()));
      try {
        m.request(rt);
        requests += (requests.empty() ? "" : ",") + rt.request_id;
      } catch (const ledger::MarketError& e) {
        payments->void_authorization(auth.payment_id);
        record("failed", auth.payment_id, requests, e.code);
        log("storefront request refused tenant=" + t.id + " order=" + ref + " code=" + e.code + " placed=" + requests);
        return buy_page(t, p, f, {"The order could not be placed; your card was not charged."}, 409);
      }
    }
    auto cap = payments->capture(auth.payment_id);
    record(cap.status == PaymentStatus::Captured ? "paid" : "capture-failed", auth.payment_id, requests, "");
    log("storefront order tenant=" + t.id + " order=" + ref + " requests=" + requests + " payment=" + auth.payment_id);
    return redirect("/storefront/" + url_encode(t.id) + "/orders/" + ref);
  }

  http::Response order_page(const TenantConfig& t, const std::string& ref) {
    if (ref.size() != 32 || !std::all_of(ref.begin(), ref.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      return error_page(std::nullopt, 404, "No such order.");
    std::optional<std::array<std::string, 6>> o;
    std::int64_t amount = 0;
    db.query("SELECT state, currency, card_last4, requests, package_id, payment_id, amount_minor FROM web_orders WHERE ref = ? AND tenant = ?",
             {ref, t.id}, [&](const store::Row& r) {
               o = std::array<std::string, 6>{r.text(0), r.text(1), r.text(2), r.text(3), std::to_string(r.i64(4)), r.text(5)};
               amount = r.i64(6);
             });
    if (!o) return error_page(std::nullopt, 404, "No such order.");
    auto& m = *markets.at(t.id);
    std::string rows;
    for (const auto& rid : split_list((*o)[3])) {
      auto r = m.find_request(rid);
      rows += "<tr><td>" + html_escape(rid) + "</td><td>" + html_escape(r ? r->offer_id : "") + "</td><td>" +
              html_escape(r ? std::string(ledger::to_string(r->state)) : "unknown") + "</td></tr>";
    }
    auto ps = packages_of(t.id, std::stoll((*o)[4]));
    std::string body = "<p class=\"order-state\">Order state: <strong>" + html_escape((*o)[0]) + "</strong></p><p>" +
                       html_escape(ps.empty() ? "" : ps.front().name) + ": " + format_minor(amount) + " " + html_escape((*o)[1]) +
                       ", card ending " + html_escape((*o)[2]) + ".</p><table><thead><tr><th>Request on the ledger</th>"
                       "<th>Offer</th><th>State</th></tr></thead><tbody>" + rows +
                       "</tbody></table><p>Keep this page's address: it is your order link. Your eSIM's activation code appears "
                       "here once the network has answered.</p>";
    return page(std::nullopt, t.name + " - your order", body);
  }

  http::Response webhook(const http::Request& req) {
    auto sig = req.headers.get("x-signature");
    if (!sig || !payments->verify_webhook(req.body, *sig)) {
      log("payment webhook refused (bad signature)");
      return json_error(401, "bad signature");
    }
    nlohmann::json j;
    try {
      j = parse_json(req.body);
    } catch (const std::exception&) {
      return json_error(400, "not JSON");
    }
    if (!j.is_object() || !j.contains("payment_id") || !j["payment_id"].is_string() || !j.contains("type") || !j["type"].is_string())
      return json_error(400, "payment_id and type are required");
    std::string type = j["type"].get<std::string>(), pid = j["payment_id"].get<std::string>();
    int n = 0;
    if (type == "payment.captured")
      n = db.run("UPDATE web_orders SET state = 'confirmed' WHERE payment_id = ? AND state IN ('paid', 'confirmed')", {pid});
    log("payment webhook " + type + " payment=" + pid + " orders=" + std::to_string(n));
    auto r = http::Response::json(nlohmann::json{{"received", true}}.dump());
    security_headers(r);
    return r;
  }
};

App::App(WebConfig cfg, Options opt) : impl_(std::make_unique<Impl>(std::move(cfg), std::move(opt))) {}
App::~App() = default;

http::Response App::handle(const http::Request& req) { return impl_->handle(req); }

const WebConfig& App::config() const { return impl_->cfg; }

void App::add_user(const std::string& tenant, const std::string& username, Role role, std::string_view password) {
  if (!impl_->tenant(tenant)) throw std::invalid_argument("no tenant '" + tenant + "' in the configuration");
  if (username.empty() || username.size() > 64 ||
      !std::all_of(username.begin(), username.end(),
                   [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@'; }))
    throw std::invalid_argument("user name must be 1 to 64 of letters, digits and . _ - @");
  if (password.size() < 10) throw std::invalid_argument("password must be at least 10 characters");
  if (password.size() > 1024) throw std::invalid_argument("password must be at most 1024 characters");
  std::string h = hash_password(password);
  std::lock_guard<std::mutex> lock(impl_->mu);
  bool taken = false;
  impl_->db.query("SELECT 1 FROM web_staff WHERE username = ?", {username}, [&](const store::Row&) { taken = true; });
  if (taken) throw std::invalid_argument("user name '" + username + "' is taken");
  impl_->db.run("INSERT INTO web_staff (tenant, username, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                {tenant, username, std::string(to_string(role)), h, impl_->opt.clock()});
  impl_->log("staff added tenant=" + tenant + " user=" + username + " role=" + std::string(to_string(role)));
}

}  // namespace rsp::web
