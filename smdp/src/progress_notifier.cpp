#include "rsp/smdp/progress_notifier.hpp"

#include "rsp/time_text.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "rsp/crypto.hpp"
#include "rsp/log.hpp"

namespace rsp::smdp {

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::string utc_timestamp() { return time_text::iso8601_utc(static_cast<std::int64_t>(std::time(nullptr))); }
}  // namespace

ProgressNotifier::ProgressNotifier(store::Db& db, std::map<std::string, std::string> endpoints,
                                   http::ClientConfig client, std::string smdp_id)
    : db_(db), endpoints_(std::move(endpoints)), client_config_(std::move(client)), smdp_id_(std::move(smdp_id)) {
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS es2_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      owner TEXT NOT NULL, body TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
      delivered_at INTEGER, failed INTEGER NOT NULL DEFAULT 0);
    -- The entries still to deliver, by id: the worker's poll and the count
    -- read them without scanning every delivered one (issue 12).
    CREATE INDEX IF NOT EXISTS es2_outbox_pending ON es2_outbox (id) WHERE delivered_at IS NULL AND failed = 0;
  )");
}

ProgressNotifier::~ProgressNotifier() { stop(); }

namespace {
constexpr const char* kPendingCount = "SELECT COUNT(*) FROM es2_outbox WHERE delivered_at IS NULL AND failed = 0";
constexpr const char* kDue =
    "SELECT id, owner, body, attempts, next_at FROM es2_outbox WHERE delivered_at IS NULL AND failed = 0 AND next_at <= ? "
    "ORDER BY id LIMIT 1";
// Several instances share one outbox (docs/smdp.md, "Several instances"). A
// worker claims the entry it read by moving next_at past the longest the
// delivery can take, compare-and-set on the next_at it read: the other
// instances' workers skip it meanwhile. If this instance dies mid-delivery,
// the claim lapses and another delivers it: at least once, never lost.
constexpr const char* kClaim =
    "UPDATE es2_outbox SET next_at = ? WHERE id = ? AND next_at = ? AND delivered_at IS NULL AND failed = 0";
}  // namespace

std::vector<std::string> ProgressNotifier::request_path_queries() { return {kPendingCount, kDue}; }

void ProgressNotifier::set_backoff(std::chrono::milliseconds first, int max_attempts) {
  std::lock_guard l(mu_);
  first_backoff_ = first;
  max_attempts_ = max_attempts;
}

void ProgressNotifier::enqueue(const ProgressEvent& e) {
  if (e.owner.empty() || !endpoints_.count(e.owner)) return;  // no operator to tell
  nlohmann::json status = {{"status", e.success ? "Executed-Success" : "Failed"}};
  if (!e.success)
    status["statusCodeData"] = {{"subjectCode", e.subject_code}, {"reasonCode", e.reason_code}, {"message", e.message}};
  nlohmann::json body = {
      {"header", {{"functionRequesterIdentifier", smdp_id_}, {"functionCallIdentifier", to_hex(crypto::random_bytes(16))}}},
      {"iccid", e.iccid},
      {"profileType", e.profile_type},
      {"timestamp", utc_timestamp()},
      {"notificationPointId", e.notification_point_id},
      {"notificationPointStatus", status}};
  if (!e.eid.empty()) body["eid"] = e.eid;
  if (!e.result_data.empty()) body["resultData"] = to_base64(e.result_data);
  db_.run("INSERT INTO es2_outbox (owner, body) VALUES (?, ?)", {e.owner, body.dump()});
  cv_.notify_all();
}

std::size_t ProgressNotifier::pending() const {
  std::int64_t n = 0;
  db_.query(kPendingCount, {},
            [&](const store::Row& r) { n = r.i64(0); });
  return static_cast<std::size_t>(n);
}

void ProgressNotifier::start() {
  std::lock_guard l(mu_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
}

void ProgressNotifier::stop() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ProgressNotifier::run() {
  std::unique_lock l(mu_);
  while (!stopping_) {
    l.unlock();
    bool more = false;
    try {
      more = deliver_due();
    } catch (const std::exception& e) {
      log::error("es2+", std::string("progress notifier: ") + e.what());
    }
    l.lock();
    if (!more) cv_.wait_for(l, std::chrono::milliseconds(200), [this] { return stopping_; });
  }
}

// Delivers one due entry; true if it did something (so the loop goes on at once).
bool ProgressNotifier::deliver_due() {
  std::int64_t id = 0, attempts = 0, next_at = 0;
  std::string owner, body;
  db_.query(kDue, {now_ms()}, [&](const store::Row& r) {
        id = r.i64(0);
        owner = r.text(1);
        body = r.text(2);
        attempts = r.i64(3);
        next_at = r.i64(4);
      });
  if (id == 0) return false;
  const auto lease = client_config_.connect_timeout + client_config_.timeout + std::chrono::seconds(5);
  if (db_.run(kClaim, {now_ms() + lease.count(), id, next_at}) != 1) return true;  // another instance has it
  http::Client client(client_config_);
  http::Headers h;
  h.set("Content-Type", "application/json");
  h.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
  bool ok = false;
  std::string why;
  try {
    auto r = client.post(endpoints_.at(owner), body, h);
    ok = r.status >= 200 && r.status < 300;
    if (!ok) why = "HTTP " + std::to_string(r.status);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (ok) {
    db_.run("UPDATE es2_outbox SET delivered_at = ?, attempts = ? WHERE id = ?", {now_ms(), attempts + 1, id});
    return true;
  }
  std::chrono::milliseconds first;
  int max_attempts;
  {
    std::lock_guard l(mu_);
    first = first_backoff_;
    max_attempts = max_attempts_;
  }
  std::int64_t delay = first.count() << std::min<std::int64_t>(attempts, 16);
  bool give_up = attempts + 1 >= max_attempts;
  db_.run("UPDATE es2_outbox SET attempts = ?, next_at = ?, failed = ? WHERE id = ?",
          {attempts + 1, now_ms() + delay, std::int64_t{give_up ? 1 : 0}, id});
  log::warn("es2+", "HandleDownloadProgressInfo to " + owner + " failed (" + why + ")" +
                        (give_up ? ", giving up" : ", retrying in " + std::to_string(delay) + " ms"));
  return false;
}

}  // namespace rsp::smdp
