// The web application's security over real HTTPS (issue 14, must-show 4):
// tenant isolation by direct URL and API call, CSRF tokens and the Origin
// check, session expiry (injected clock), login throttling, passwords never
// stored or logged in clear, bad form input refused with a message, and
// every value HTML-escaped. The server certificate comes from the openssl
// command line; the client is our libcurl client.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>

#include "rsp/bytes.hpp"
#include "rsp/crypto.hpp"
#include "rsp/file.hpp"
#include "rsp/http_client.hpp"
#include "rsp/http_server.hpp"
#include "rsp/ledger/embedded.hpp"
#include "rsp/ledger/embedded_market.hpp"
#include "rsp/web/app.hpp"
#include "rsp/web/html.hpp"
#include "rsp/web/payment.hpp"

namespace fs = std::filesystem;
using namespace rsp;
using namespace rsp::web;

namespace {

const std::string kAlicePw = "alice-Secret-4711";  // HOME-B admin
const std::string kBobPw = "bob-Secret-0815";      // HOME-C admin
const std::string kVictorPw = "victor-Secret-42";  // VISITED-A staff
const std::string kVeraPw = "vera-Secret-9999";    // HOME-B viewer

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string date_in_days(int days) {
  std::time_t t = std::time(nullptr) + days * 86400LL;
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

// One signed-in (or not) browser: its cookie and the CSRF token of its pages.
struct Browser {
  http::Client client;
  std::string base, cookie, csrf;
  Browser(const std::string& b, const Bytes& ca) : client(make(ca)), base(b) {}
  static http::ClientConfig make(const Bytes& ca) {
    http::ClientConfig c;
    c.ca_pem = ca;
    return c;
  }
  http::Headers headers(bool origin = true) {
    http::Headers h;
    if (!cookie.empty()) h.set("Cookie", "__Host-rsp_session=" + cookie);
    if (origin) h.set("Origin", base);
    return h;
  }
  http::Response get(const std::string& path) {
    auto r = client.get(base + path, headers(false));
    static const std::regex re("name=\"_csrf\" value=\"([0-9a-f]{64})\"");
    std::smatch m;
    if (std::regex_search(r.body, m, re)) csrf = m[1];
    return r;
  }
  http::Response post(const std::string& path, const std::string& body, bool origin = true) {
    http::Headers h = headers(origin);
    h.set("Content-Type", "application/x-www-form-urlencoded");
    return client.post(base + path, body, h);
  }
  // Posts with this session's CSRF token appended.
  http::Response form(const std::string& path, const std::string& body) {
    return post(path, body + (body.empty() ? "" : "&") + "_csrf=" + csrf);
  }
  int login(const std::string& user, const std::string& pw) {
    auto r = post("/login", "username=" + url_encode(user) + "&password=" + url_encode(pw));
    if (r.status == 303) {
      auto sc = r.headers.get("set-cookie").value_or("");
      auto eq = sc.find('='), semi = sc.find(';');
      cookie = sc.substr(eq + 1, semi - eq - 1);
      get("/");
      get("/account");  // a page with the sign-out form: picks up the CSRF token
    }
    return r.status;
  }
};

class WebTest : public ::testing::Test {
 protected:
  fs::path dir;
  std::atomic<std::int64_t> clock_offset{0};
  std::mutex log_mu;
  std::string log_text;
  std::unique_ptr<App> app;
  std::unique_ptr<http::Server> server;
  std::string base;
  Bytes ca;
  std::shared_ptr<TestCardProcessor> processor;

  void SetUp() override {
    dir = fs::temp_directory_path() / ("web_test_" + to_hex(crypto::random_bytes(6)));
    fs::create_directories(dir);
    // The TLS certificate from an independent tool (what an operator would do).
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost"
                      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                      (dir / "tls-key.pem").string() + " -out " + (dir / "tls-cert.pem").string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed";
    fs::permissions(dir / "tls-key.pem", fs::perms::owner_read | fs::perms::owner_write);

    auto ledger = std::make_shared<ledger::EmbeddedLedger>((dir / "ledger.db").string());
    auto admin = crypto::EcKey::generate(crypto::Curve::P256);
    ledger->init("SDR-ISSUER", admin);
    auto key_file = [&](const std::string& name) {
      auto k = crypto::EcKey::generate(crypto::Curve::P256);
      write_private_file((dir / name).string(), to_bytes(k.private_pem()));
      return k;
    };
    auto vk = key_file("visited.pem"), hb = key_file("home-b.pem"), hc = key_file("home-c.pem");
    key_file("seal.pem");
    key_file("reply.pem");
    ledger->register_participant("SDR-ISSUER", admin, "VISITED-A", "visited-operator", vk);
    ledger->register_participant("SDR-ISSUER", admin, "HOME-B", "home-operator", hb);
    ledger->register_participant("SDR-ISSUER", admin, "HOME-C", "home-operator", hc);
    ledger::EmbeddedMarket issuer(ledger, "SDR-ISSUER", std::make_shared<crypto::EcKey>(std::move(admin)));
    issuer.mint("HOME-B", ledger::parse_sdrt("1000"));
    ledger.reset();

    WebConfig cfg;
    cfg.store = (dir / "web.db").string();
    cfg.ledger = (dir / "ledger.db").string();
    cfg.tenants = {{"VISITED-A", "Visited A", TenantKind::VisitedOperator, (dir / "visited.pem").string(),
                    (dir / "seal.pem").string()},
                   {"HOME-B", "Home B", TenantKind::HomeOperator, (dir / "home-b.pem").string(), "", (dir / "reply.pem").string()},
                   {"HOME-C", "Home C", TenantKind::HomeOperator, (dir / "home-c.pem").string(), ""}};
    App::Options opt;
    processor = std::make_shared<TestCardProcessor>("webhook-secret-of-the-test");
    opt.payments = processor;
    opt.clock = [this] { return static_cast<std::int64_t>(std::time(nullptr)) + clock_offset.load(); };
    opt.log = [this](std::string_view l) {
      std::lock_guard<std::mutex> g(log_mu);
      log_text += std::string(l) + "\n";
    };
    app = std::make_unique<App>(cfg, opt);
    app->add_user("HOME-B", "alice", Role::Admin, kAlicePw);
    app->add_user("HOME-C", "bob", Role::Admin, kBobPw);
    app->add_user("VISITED-A", "victor", Role::Staff, kVictorPw);
    app->add_user("HOME-B", "vera", Role::Viewer, kVeraPw);

    http::ServerConfig sc;
    sc.tls.emplace();
    sc.tls->certificate_chain = read_file((dir / "tls-cert.pem").string());
    sc.tls->private_key = read_private_file((dir / "tls-key.pem").string());
    sc.log_requests = true;
    sc.log = opt.log;
    server = std::make_unique<http::Server>(sc, [this](const http::Request& r) { return app->handle(r); });
    server->start();
    base = "https://127.0.0.1:" + std::to_string(server->port());
    ca = read_file((dir / "tls-cert.pem").string());
  }

  void TearDown() override {
    if (server) server->stop();
    server.reset();
    app.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  Browser browser() { return Browser(base, ca); }

  std::string offer_form(const std::string& id, const std::string& coverage = "20801,20810", const std::string& price = "10") {
    return "offer_id=" + url_encode(id) + "&service=data&coverage=" + url_encode(coverage) +
           "&data_mb=1024&voice_min=0&sms=0&per_mb=0.01&per_min=0&per_sms=0&price=" + url_encode(price) +
           "&term_days=30&valid_until=" + date_in_days(60) + "&stock=5";
  }

  // VISITED-A publishes an Offer; HOME-B (alice) sets its rate and bundles it. Returns the package id.
  std::string make_package(Browser& victor, Browser& alice) {
    EXPECT_EQ(victor.form("/my-offers", offer_form("OFFER-1")).status, 303);
    EXPECT_EQ(alice.form("/settings", "currency=EUR&rate=1.2&margin=10").status, 303);
    auto r = alice.form("/packages", "offer=OFFER-1&name=France+1GB&description=30+days&valid_until=" + date_in_days(30));
    EXPECT_EQ(r.status, 303) << r.body;
    auto list = alice.get("/api/packages");
    auto j = nlohmann::json::parse(list.body);
    EXPECT_EQ(j.size(), 1u);
    return j.empty() ? "0" : std::to_string(j[0]["id"].get<std::int64_t>());
  }
};

TEST(WebHtml, EscapesTheFiveCharacters) {
  EXPECT_EQ(html_escape("<script>alert(\"x\") & 'y'</script>"),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
  EXPECT_EQ(html_escape("plain 20801"), "plain 20801");
}

TEST(WebHtml, FormDecoding) {
  auto f = Form::parse("a=1&b=x+y%21&a=2&empty=&flag");
  EXPECT_EQ(f.all("a"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(f.get("b"), "x y!");
  EXPECT_TRUE(f.has("empty"));
  EXPECT_TRUE(f.has("flag"));
  EXPECT_THROW(Form::parse("a=%4"), std::invalid_argument);
  EXPECT_THROW(Form::parse("a=%G1"), std::invalid_argument);
  EXPECT_THROW(Form::parse("a=%00"), std::invalid_argument);
  EXPECT_EQ(form_decode(url_encode("é &=+/?")), "é &=+/?");
}

TEST(WebHtml, CsvFields) {
  EXPECT_EQ(csv_field("usage"), "usage");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  EXPECT_EQ(csv_field("-12.5"), "-12.5");
}

TEST(WebPasswords, Argon2idHashes) {
  auto h = hash_password("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horsE"));
  EXPECT_NE(hash_password("correct horse"), h);  // salted
}

TEST_F(WebTest, SignInSetsAHardenedCookie) {
  auto b = browser();
  auto r = b.post("/login", "username=alice&password=" + url_encode(kAlicePw));
  ASSERT_EQ(r.status, 303);
  auto sc = r.headers.get("set-cookie").value_or("");
  EXPECT_NE(sc.find("__Host-rsp_session="), std::string::npos) << sc;
  for (const char* attr : {"; Secure", "; HttpOnly", "; SameSite=Strict", "; Path=/"})
    EXPECT_NE(sc.find(attr), std::string::npos) << attr << " missing in " << sc;
  // 256-bit id: 64 hex characters.
  auto v = sc.substr(sc.find('=') + 1, sc.find(';') - sc.find('=') - 1);
  EXPECT_EQ(v.size(), 64u);
  EXPECT_EQ(r.headers.get("content-security-policy").value_or("").find("default-src 'none'"), 0u);
  EXPECT_EQ(b.login("alice", "wrong password!"), 401);
  EXPECT_EQ(b.login("nobody", kAlicePw), 401);
}

TEST_F(WebTest, TenantIsolationByUrlAndApi) {
  auto victor = browser(), alice = browser(), bob = browser();
  ASSERT_EQ(victor.login("victor", kVictorPw), 303);
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  ASSERT_EQ(bob.login("bob", kBobPw), 303);
  std::string id = make_package(victor, alice);
  ASSERT_NE(id, "0");

  // Alice sees it; Bob (another home operator) gets "not found" everywhere.
  EXPECT_EQ(alice.get("/api/packages/" + id).status, 200);
  EXPECT_EQ(bob.get("/api/packages/" + id).status, 404);
  EXPECT_EQ(nlohmann::json::parse(bob.get("/api/packages").body).size(), 0u);
  EXPECT_EQ(bob.get("/packages").body.find("France 1GB"), std::string::npos);
  bob.get("/packages");
  EXPECT_EQ(bob.form("/packages/" + id + "/publish", "").status, 404);
  EXPECT_EQ(nlohmann::json::parse(alice.get("/api/packages/" + id).body)["state"], "draft");
  // Nor Bob's storefront, nor the visited operator's console, shows it; the
  // visited operator has no home operator pages at all.
  EXPECT_EQ(alice.form("/packages/" + id + "/publish", "").status, 303);
  EXPECT_NE(browser().get("/storefront/HOME-B").body.find("France 1GB"), std::string::npos);
  EXPECT_EQ(browser().get("/storefront/HOME-C").body.find("France 1GB"), std::string::npos);
  EXPECT_EQ(victor.get("/api/packages/" + id).status, 404);
  EXPECT_EQ(victor.get("/packages").status, 404);
  EXPECT_EQ(victor.get("/offers").status, 404);
  // Balances are per tenant: Bob's account shows his (0), not Alice's 1000.
  EXPECT_NE(alice.get("/account").body.find("1000.000000 SDRt</strong> available"), std::string::npos);
  EXPECT_NE(bob.get("/account").body.find("0.000000 SDRt</strong> available"), std::string::npos);
  EXPECT_EQ(bob.get("/account").body.find("1000.000000"), std::string::npos);
  // A viewer of HOME-B reads but cannot change.
  auto vera = browser();
  ASSERT_EQ(vera.login("vera", kVeraPw), 303);
  EXPECT_EQ(vera.get("/api/packages/" + id).status, 200);
  EXPECT_EQ(vera.form("/settings", "currency=USD&rate=1&margin=0").status, 403);
  EXPECT_EQ(vera.form("/packages", "offer=OFFER-1&name=Vera&valid_until=" + date_in_days(10)).status, 403);
  EXPECT_EQ(nlohmann::json::parse(vera.get("/api/packages").body).size(), 1u);
  // Without a session: the API says 401, pages send to sign-in.
  EXPECT_EQ(browser().get("/api/packages/" + id).status, 401);
  EXPECT_EQ(browser().get("/packages").status, 303);
}

TEST_F(WebTest, CsrfTokenAndOriginEnforced) {
  auto alice = browser(), bob = browser();
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  ASSERT_EQ(bob.login("bob", kBobPw), 303);
  const std::string body = "currency=USD&rate=2&margin=5";
  EXPECT_EQ(alice.post("/settings", body).status, 403);                                   // no token
  EXPECT_EQ(alice.post("/settings", body + "&_csrf=" + std::string(64, '0')).status, 403);  // wrong token
  EXPECT_EQ(alice.post("/settings", body + "&_csrf=" + bob.csrf).status, 403);            // another session's token
  EXPECT_EQ(alice.post("/settings", body + "&_csrf=" + alice.csrf, false).status, 403);   // no Origin
  {
    http::Headers h = alice.headers(false);
    h.set("Origin", "https://evil.example");
    h.set("Content-Type", "application/x-www-form-urlencoded");
    EXPECT_EQ(alice.client.post(base + "/settings", body + "&_csrf=" + alice.csrf, h).status, 403);
  }
  EXPECT_EQ(alice.get("/settings").body.find("value=\"USD\""), std::string::npos);  // nothing changed
  EXPECT_EQ(alice.post("/settings", body + "&_csrf=" + alice.csrf).status, 303);
  EXPECT_NE(alice.get("/settings").body.find("value=\"USD\""), std::string::npos);
  // Sign-out is state-changing too.
  EXPECT_EQ(alice.post("/logout", "").status, 403);
  EXPECT_EQ(alice.get("/packages").status, 200);
}

TEST_F(WebTest, SessionsExpireAndEndAtSignOut) {
  auto alice = browser();
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  EXPECT_EQ(alice.get("/packages").status, 200);
  // Idle: 30 minutes without a request ends it.
  clock_offset += 30 * 60 + 1;
  EXPECT_EQ(alice.get("/packages").status, 303);
  EXPECT_EQ(alice.get("/api/packages").status, 401);
  // Absolute: active every 20 minutes, it still ends after 12 hours.
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  for (int i = 0; i < 35; ++i) {
    clock_offset += 20 * 60;
    ASSERT_EQ(alice.get("/api/packages").status, 200) << "at step " << i;
  }
  clock_offset += 20 * 60;  // 12 h 0 min
  clock_offset += 1;
  EXPECT_EQ(alice.get("/api/packages").status, 401);
  // Sign-out: the cookie is dead at once, also if replayed.
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  std::string old = alice.cookie;
  auto r = alice.form("/logout", "");
  EXPECT_EQ(r.status, 303);
  EXPECT_NE(r.headers.get("set-cookie").value_or("").find("Max-Age=0"), std::string::npos);
  alice.cookie = old;
  EXPECT_EQ(alice.get("/api/packages").status, 401);
}

TEST_F(WebTest, LoginThrottled) {
  auto b = browser();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.login("alice", "not-the-password"), 401);
  EXPECT_EQ(b.login("alice", kAlicePw), 429);  // even the right password, for now
  EXPECT_EQ(b.login("bob", kBobPw), 429);      // and from this address
  clock_offset += 15 * 60 + 1;
  EXPECT_EQ(b.login("alice", kAlicePw), 303);
}

TEST_F(WebTest, PasswordsNeverStoredOrLoggedInClear) {
  auto b = browser();
  ASSERT_EQ(b.login("alice", kAlicePw), 303);
  std::string sid = b.cookie;
  ASSERT_EQ(b.login("alice", "typo-" + kAlicePw), 401);
  b.form("/logout", "");
  server->stop();
  app.reset();  // closes the store (WAL checkpoint)
  std::string db = slurp(dir / "web.db");
  if (fs::exists(dir / "web.db-wal")) db += slurp(dir / "web.db-wal");
  ASSERT_FALSE(db.empty());
  for (const auto& pw : {kAlicePw, kBobPw, kVictorPw, kVeraPw}) {
    EXPECT_EQ(db.find(pw), std::string::npos) << "password in the store";
    EXPECT_EQ(log_text.find(pw), std::string::npos) << "password in the log";
  }
  EXPECT_EQ(db.find("typo-"), std::string::npos);
  EXPECT_EQ(log_text.find("typo-"), std::string::npos);
  EXPECT_NE(db.find("$argon2id$"), std::string::npos);
  // Only the session id's hash is stored.
  EXPECT_EQ(db.find(sid), std::string::npos);
  EXPECT_EQ(db.find(to_string(from_hex(sid))), std::string::npos);
  // The log says who signed in, and that a sign-in failed.
  EXPECT_NE(log_text.find("sign-in user=alice"), std::string::npos) << log_text;
  EXPECT_NE(log_text.find("sign-in failed user=alice"), std::string::npos);
}

TEST_F(WebTest, BadFormInputRejectedWithAMessage) {
  auto victor = browser(), alice = browser();
  ASSERT_EQ(victor.login("victor", kVictorPw), 303);
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  struct Case {
    std::string body, message;
  };
  std::string ok = offer_form("BAD-1");
  auto with = [&](const std::string& key, const std::string& value) {
    return std::regex_replace(ok, std::regex("(^|&)" + key + "=[^&]*"), "$1" + key + "=" + url_encode(value));
  };
  std::vector<Case> cases = {
      {with("coverage", "2080"), "'2080' is not a PLMN: MCC (3 digits) + MNC (2 or 3 digits)"},
      {with("coverage", "2080123"), "'2080123' is not a PLMN"},
      {with("coverage", "20A01"), "'20A01' is not a PLMN"},
      {with("coverage", ""), "Coverage must name at least one PLMN."},
      {with("price", "ten"), "Price must be an SDRt amount with at most 6 decimals"},
      {with("price", "1.1234567"), "Price must be an SDRt amount"},
      {with("price", "-1"), "Price must be an SDRt amount"},
      {with("price", "0"), "Price must be more than 0 SDRt."},
      {with("stock", "0"), "Stock must be a whole number from 1 to 1000000."},
      {with("stock", "2.5"), "Stock must be a whole number"},
      {with("data_mb", "-5"), "Data (MB) must be a whole number"},
      {with("valid_until", "2026-02-30"), "Can be bought until must be a date (YYYY-MM-DD)."},
      {with("valid_until", "next week"), "Can be bought until must be a date"},
      {with("valid_until", "2001-01-01"), "Can be bought until must not be in the past."},
      {with("offer_id", ""), "Offer id must be 1 to 32 printable characters."},
  };
  for (const auto& c : cases) {
    auto r = victor.form("/my-offers", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_NE(r.body.find(html_escape(c.message)), std::string::npos) << c.message << "\n" << c.body;
  }
  EXPECT_EQ(victor.get("/my-offers").body.find("BAD-1"), std::string::npos);  // none was published

  auto s1 = alice.form("/settings", "currency=eur&rate=1.2&margin=10");
  EXPECT_EQ(s1.status, 400);
  EXPECT_NE(s1.body.find("Currency must be an ISO 4217 code"), std::string::npos);
  auto s2 = alice.form("/settings", "currency=EUR&rate=0&margin=abc");
  EXPECT_NE(s2.body.find("Rate must be a positive number"), std::string::npos);
  EXPECT_NE(s2.body.find("Margin must be a percentage"), std::string::npos);
  ASSERT_EQ(alice.form("/settings", "currency=EUR&rate=1.2&margin=10").status, 303);
  ASSERT_EQ(victor.form("/my-offers", ok).status, 303);
  auto p = alice.form("/packages", "offer=BAD-1&name=&valid_until=" + date_in_days(-2));
  EXPECT_EQ(p.status, 400);
  EXPECT_NE(p.body.find("Name must be 1 to 80 characters."), std::string::npos);
  EXPECT_NE(p.body.find("Valid until must not be in the past."), std::string::npos);
  auto p2 = alice.form("/packages", "offer=NO-SUCH&name=x&valid_until=" + date_in_days(5));
  EXPECT_NE(p2.body.find("Offer &#39;NO-SUCH&#39; is not on the ledger"), std::string::npos);
  auto p3 = alice.form("/packages", "offer=BAD-1&name=x&valid_until=" + date_in_days(90));
  EXPECT_NE(p3.body.find("can be bought only until"), std::string::npos);
  auto f = alice.get("/offers?plmn=208&max_price=x");
  EXPECT_EQ(f.status, 400);
  EXPECT_NE(f.body.find("PLMN must be MCC (3 digits) + MNC (2 or 3 digits)"), std::string::npos);
  EXPECT_NE(f.body.find("Maximum price must be an SDRt amount"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(alice.get("/api/packages").body).size(), 0u);
}

TEST_F(WebTest, OffersFiltersPricingAndEscaping) {
  auto victor = browser(), alice = browser();
  ASSERT_EQ(victor.login("victor", kVictorPw), 303);
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  ASSERT_EQ(victor.form("/my-offers", offer_form("FR-DATA", "20801,20810", "10")).status, 303);
  ASSERT_EQ(victor.form("/my-offers", offer_form("DE-DATA", "26201", "4.5")).status, 303);
  ASSERT_EQ(victor.form("/my-offers", offer_form("<i>X\"", "26202", "1")).status, 303);
  auto all = alice.get("/offers").body;
  EXPECT_NE(all.find("&lt;i&gt;X&quot;"), std::string::npos);
  EXPECT_EQ(all.find("<i>X"), std::string::npos);  // never raw
  auto fr = alice.get("/offers?mcc=208").body;
  EXPECT_NE(fr.find("FR-DATA"), std::string::npos);
  EXPECT_EQ(fr.find("DE-DATA"), std::string::npos);
  auto plmn = alice.get("/offers?plmn=26201").body;
  EXPECT_NE(plmn.find("DE-DATA"), std::string::npos);
  EXPECT_EQ(plmn.find("FR-DATA"), std::string::npos);
  auto cheap = alice.get("/offers?max_price=5").body;
  EXPECT_NE(cheap.find("DE-DATA"), std::string::npos);
  EXPECT_EQ(cheap.find("FR-DATA"), std::string::npos);
  EXPECT_EQ(alice.get("/offers?min_term_days=31").body.find("DE-DATA"), std::string::npos);
  // 10 + 4.5 SDRt at 1.2 EUR/SDRt + 15 %: 14.5 * 1.2 * 1.15 = 20.01 EUR.
  ASSERT_EQ(alice.form("/settings", "currency=EUR&rate=1.2&margin=15").status, 303);
  ASSERT_EQ(alice.form("/packages", "offer=FR-DATA&offer=DE-DATA&name=Europe&valid_until=" + date_in_days(30)).status, 303);
  auto j = nlohmann::json::parse(alice.get("/api/packages").body);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["price"], "20.01");
  EXPECT_EQ(j[0]["currency"], "EUR");
  EXPECT_EQ(j[0]["sdrt"], "14.500000");
  // The visited operator sees its own Offers only.
  ASSERT_EQ(victor.get("/my-offers").status, 200);
  // The statement as CSV: the mint that credited HOME-B.
  auto csv = alice.get("/account/statement.csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers.get("content-type").value_or(""), "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find(",mint,"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find("closing,,,,1000.000000,0.000000"), std::string::npos) << csv.body;
}

TEST_F(WebTest, StorefrontDeclinedPaymentCreatesNoRequest) {
  auto victor = browser(), alice = browser(), shopper = browser();
  ASSERT_EQ(victor.login("victor", kVictorPw), 303);
  ASSERT_EQ(alice.login("alice", kAlicePw), 303);
  std::string id = make_package(victor, alice);
  ASSERT_EQ(alice.form("/packages/" + id + "/publish", "").status, 303);
  const std::string path = "/storefront/HOME-B/packages/" + id;
  const std::string eid = "89049032123451234512345678901235";
  auto page = shopper.get(path);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Pay 13.20 EUR"), std::string::npos);  // 10 SDRt x 1.2 x 1.10
  auto buy = [&](const std::string& e, const std::string& card, const std::string& exp, bool origin = true) {
    return shopper.post(path, "eid=" + e + "&card_number=" + url_encode(card) + "&expiry=" + url_encode(exp) + "&cvc=123", origin);
  };
  auto escrowed = [&] {
    auto b = alice.get("/account").body;
    auto at = b.find(" SDRt</strong> in escrow");
    return b.substr(b.rfind('>', at) + 1, at - b.rfind('>', at) - 1);
  };
  // Bad input: refused with its message, no payment attempted.
  auto bad = buy("8904", "4242 4242 4242 4242", "12/30");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("The EID must be 32 digits."), std::string::npos);
  EXPECT_NE(buy(eid, "4242", "12/30").body.find("The card number must be 12 to 19 digits."), std::string::npos);
  EXPECT_NE(buy(eid, "4242424242424242", "13/30").body.find("The expiry must be MM/YY"), std::string::npos);
  // Declined by the processor: no Request, nothing escrowed, nothing held.
  auto declined = buy(eid, "4000 0000 0000 0002", "12/30");
  EXPECT_EQ(declined.status, 402);
  EXPECT_NE(declined.body.find("Payment declined: The card was declined."), std::string::npos);
  EXPECT_EQ(buy(eid, "4000000000009995", "12/30").status, 402);
  EXPECT_NE(buy(eid, "4242424242424242", "01/20").body.find("The card has expired."), std::string::npos);
  EXPECT_NE(buy(eid, "4242424242424241", "12/30").body.find("The card number is incorrect."), std::string::npos);
  EXPECT_EQ(buy(eid, "4242424242424242", "12/30", false).status, 403);  // no Origin: refused before anything
  EXPECT_EQ(escrowed(), "0.000000");
  EXPECT_EQ(victor.get("/my-offers").body.find("WEB-"), std::string::npos);
  EXPECT_EQ(processor->held_total() + processor->captured_total(), 0);
  // Approved: one Request on the ledger for the subscriber, escrow = the Offer's price, card captured.
  auto ok = buy(eid, "4242 4242 4242 4242", "12/30");
  ASSERT_EQ(ok.status, 303) << ok.body;
  auto loc = ok.headers.get("location").value_or("");
  ASSERT_TRUE(std::regex_match(loc, std::regex("/storefront/HOME-B/orders/[0-9a-f]{32}"))) << loc;
  auto order = shopper.get(loc);
  EXPECT_NE(order.body.find("Order state: <strong>paid</strong>"), std::string::npos) << order.body;
  EXPECT_NE(order.body.find("<td>open</td>"), std::string::npos);
  EXPECT_EQ(escrowed(), "10.000000");
  auto mine = victor.get("/my-offers").body;
  EXPECT_NE(mine.find("WEB-"), std::string::npos);
  EXPECT_NE(mine.find("<td>HOME-B</td><td>open</td>"), std::string::npos);
  EXPECT_EQ(processor->captured_total(), 1320);
  EXPECT_EQ(processor->held_total(), 0);
  // Another tenant's storefront does not know the order.
  EXPECT_EQ(shopper.get(std::regex_replace(loc, std::regex("HOME-B"), "HOME-C")).status, 404);
  // The processor's webhook: signed, it confirms the order; unsigned, refused.
  std::string captured_id;
  for (const auto& pid : processor->payment_ids())
    if (processor->webhook_event(pid).first.find("payment.captured") != std::string::npos) captured_id = pid;
  ASSERT_FALSE(captured_id.empty());
  auto [event, signature] = processor->webhook_event(captured_id);
  http::Headers h;
  h.set("Content-Type", "application/json");
  h.set("X-Signature", std::string(64, '0'));
  EXPECT_EQ(shopper.client.post(base + "/payments/webhook", event, h).status, 401);
  h.set("X-Signature", signature);
  EXPECT_EQ(shopper.client.post(base + "/payments/webhook", event, h).status, 200);
  EXPECT_NE(shopper.get(loc).body.find("Order state: <strong>confirmed</strong>"), std::string::npos);
  // Neither the card number nor the EID is stored or logged in clear.
  server->stop();
  app.reset();
  std::string db = slurp(dir / "web.db");
  if (fs::exists(dir / "web.db-wal")) db += slurp(dir / "web.db-wal");
  std::string ledger_file = slurp(dir / "ledger.db");
  if (fs::exists(dir / "ledger.db-wal")) ledger_file += slurp(dir / "ledger.db-wal");
  for (const std::string& secret : {std::string("4242424242424242"), std::string("4000000000000002"), eid}) {
    EXPECT_EQ(db.find(secret), std::string::npos) << secret;
    EXPECT_EQ(log_text.find(secret), std::string::npos) << secret;
    EXPECT_EQ(ledger_file.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
