#include "rsp/otad/campaign_store.hpp"

#include <array>
#include <set>
#include <stdexcept>

#include "rsp/crypto.hpp"

namespace rsp::otad {

namespace {

constexpr std::array<std::string_view, 9> kCardStateNames = {"queued",  "sent",      "por_ok", "por_error", "retrying",
                                                             "expired", "cancelled", "failed", "done"};

std::string script_place(const std::string& job, const std::string& iccid) { return "otad:script:" + job + ":" + iccid; }

// The columns card_from() reads, in its order.
constexpr const char* kCardColumns =
    "job_id, seq, iccid, msisdn, spi, script, state, attempts, next_at, key_version, cntr, por_status, submit_status,"
    " transport, targeted, script_status, response";

std::string response_place(const std::string& job, const std::string& iccid) {
  return "otad:response:" + job + ":" + iccid;
}

}  // namespace

std::string_view to_string(CardState s) { return kCardStateNames.at(static_cast<std::size_t>(s)); }

CardState card_state_from(std::string_view s) {
  for (std::size_t i = 0; i < kCardStateNames.size(); ++i)
    if (kCardStateNames[i] == s) return static_cast<CardState>(i);
  throw store::StoreError("unknown card state in the store");
}

bool is_final(CardState s) {
  return s == CardState::PorOk || s == CardState::PorError || s == CardState::Expired || s == CardState::Cancelled ||
         s == CardState::Failed || s == CardState::Done;
}

std::string_view to_string(Transport t) { return t == Transport::Scp81 ? "scp81" : "sms"; }

std::string_view to_string(JobState s) {
  switch (s) {
    case JobState::Running: return "running";
    case JobState::Cancelled: return "cancelled";
    case JobState::Done: return "done";
  }
  return "?";
}

namespace {
JobState job_state_from(const std::string& s) {
  if (s == "running") return JobState::Running;
  if (s == "cancelled") return JobState::Cancelled;
  if (s == "done") return JobState::Done;
  throw store::StoreError("unknown job state in the store");
}
}  // namespace

CampaignStore::CampaignStore(store::Db& db, ByteView storage_key) : db_(db), key_(storage_key.begin(), storage_key.end()) {
  if (key_.size() != 32) throw std::invalid_argument("the storage key must be 32 bytes");
  db_.exec(
      "CREATE TABLE IF NOT EXISTS otad_msisdns (iccid TEXT PRIMARY KEY, msisdn TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS otad_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,"
      " tar BLOB NOT NULL, milli_sms_per_second INTEGER NOT NULL, created INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS otad_job_cards (job_id TEXT NOT NULL, seq INTEGER NOT NULL, iccid TEXT NOT NULL,"
      " msisdn TEXT NOT NULL, spi BLOB NOT NULL, script BLOB NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,"
      " next_at INTEGER NOT NULL, key_version INTEGER NOT NULL, cntr INTEGER NOT NULL, por_status INTEGER,"
      " submit_status INTEGER NOT NULL, PRIMARY KEY (job_id, iccid));"
      "CREATE INDEX IF NOT EXISTS otad_job_cards_state ON otad_job_cards (state, job_id, seq);");
  // The SCP81 columns came later: a database of an older otad gets them
  // (its jobs are SMS jobs).
  std::set<std::string> columns;
  db_.query("PRAGMA table_info(otad_job_cards)", {}, [&](const store::Row& r) { columns.insert(r.text(1)); });
  if (!columns.count("transport"))
    db_.exec("ALTER TABLE otad_job_cards ADD COLUMN transport TEXT NOT NULL DEFAULT 'sms';"
             "ALTER TABLE otad_job_cards ADD COLUMN targeted TEXT NOT NULL DEFAULT '';"
             "ALTER TABLE otad_job_cards ADD COLUMN script_status TEXT NOT NULL DEFAULT '';"
             "ALTER TABLE otad_job_cards ADD COLUMN response BLOB");
}

void CampaignStore::set_msisdn(const std::string& iccid, const std::string& msisdn) {
  db_.run("INSERT OR REPLACE INTO otad_msisdns (iccid, msisdn) VALUES (?, ?)", {iccid, msisdn});
}

std::optional<std::string> CampaignStore::msisdn(const std::string& iccid) const {
  std::optional<std::string> out;
  db_.query("SELECT msisdn FROM otad_msisdns WHERE iccid = ?", {iccid}, [&](const store::Row& r) { out = r.text(0); });
  return out;
}

void CampaignStore::forget_card(const std::string& iccid) { db_.run("DELETE FROM otad_msisdns WHERE iccid = ?", {iccid}); }

void CampaignStore::create(const Job& job, const std::vector<JobCard>& cards) {
  store::Transaction t(db_);
  db_.run("INSERT INTO otad_jobs (id, kind, state, tar, milli_sms_per_second, created, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          {job.id, job.kind, std::string(to_string(JobState::Running)), Bytes(job.tar.begin(), job.tar.end()),
           static_cast<std::int64_t>(job.sms_per_second * 1000), job.created_ms, job.expires_at_ms});
  std::int64_t seq = 0;
  for (const auto& c : cards) {
    auto spi = c.spi.encode();
    Bytes iv = crypto::random_bytes(12);
    Bytes sealed = crypto::aes_gcm_encrypt(key_, iv, to_bytes(script_place(job.id, c.iccid)), c.script);
    sealed.insert(sealed.begin(), iv.begin(), iv.end());
    db_.run("INSERT INTO otad_job_cards (job_id, seq, iccid, msisdn, spi, script, state, attempts, next_at,"
            " key_version, cntr, por_status, submit_status, transport, targeted, script_status, response)"
            " VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, 0, 0, 0, NULL, 0, ?, ?, '', NULL)",
            {job.id, seq++, c.iccid, c.msisdn, Bytes(spi.begin(), spi.end()), sealed, std::string(to_string(c.transport)),
             c.targeted});
  }
  t.commit();
}

Job CampaignStore::job(const std::string& id) const {
  std::optional<Job> out;
  db_.query("SELECT id, kind, state, tar, milli_sms_per_second, created, expires_at FROM otad_jobs WHERE id = ?", {id},
            [&](const store::Row& r) {
              Job j;
              j.id = r.text(0);
              j.kind = r.text(1);
              j.state = job_state_from(r.text(2));
              Bytes tar = r.blob(3);
              if (tar.size() == 3) std::copy(tar.begin(), tar.end(), j.tar.begin());
              // SMS/s kept in thousandths: Row reads integers, and the throttle needs no more.
              j.sms_per_second = static_cast<double>(r.i64(4)) / 1000.0;
              j.created_ms = r.i64(5);
              j.expires_at_ms = r.i64(6);
              out = j;
            });
  if (!out) throw UnknownJob("no job " + id);
  return *out;
}

std::vector<Job> CampaignStore::running_jobs() const {
  std::vector<std::string> ids;
  db_.query("SELECT id FROM otad_jobs WHERE state = 'running' ORDER BY created, id", {},
            [&](const store::Row& r) { ids.push_back(r.text(0)); });
  std::vector<Job> out;
  for (const auto& id : ids) out.push_back(job(id));
  return out;
}

JobCounts CampaignStore::counts(const std::string& id) const {
  job(id);  // UnknownJob
  JobCounts c;
  db_.query("SELECT state, COUNT(*) FROM otad_job_cards WHERE job_id = ? GROUP BY state", {id},
            [&](const store::Row& r) {
              auto n = static_cast<std::size_t>(r.i64(1));
              c.total += n;
              switch (card_state_from(r.text(0))) {
                case CardState::Queued: c.queued += n; break;
                case CardState::Sent: c.sent += n; break;
                case CardState::PorOk: c.por_ok += n; break;
                case CardState::PorError: c.por_error += n; break;
                case CardState::Retrying: c.retrying += n; break;
                case CardState::Expired: c.expired += n; break;
                case CardState::Cancelled: c.cancelled += n; break;
                case CardState::Failed: c.failed += n; break;
                case CardState::Done: c.done += n; break;
              }
            });
  return c;
}

JobCard CampaignStore::card_from(const store::Row& r) const {
  JobCard c;
  c.job_id = r.text(0);
  c.seq = r.i64(1);
  c.iccid = r.text(2);
  c.msisdn = r.text(3);
  Bytes spi = r.blob(4);
  if (spi.size() != 2) throw store::StoreError("bad SPI in the store");
  c.spi = ota::Spi::decode(spi[0], spi[1]);
  Bytes sealed = r.blob(5);
  if (sealed.size() < 12) throw store::StoreError("sealed script too short");
  try {
    c.script = crypto::aes_gcm_decrypt(key_, ByteView(sealed).first(12), to_bytes(script_place(c.job_id, c.iccid)),
                                       ByteView(sealed).subspan(12));
  } catch (const std::exception&) {
    throw store::StoreError("a job's script does not open with this storage key");
  }
  c.state = card_state_from(r.text(6));
  c.attempts = static_cast<int>(r.i64(7));
  c.next_at_ms = r.i64(8);
  c.key_version = static_cast<std::uint8_t>(r.i64(9));
  c.cntr = static_cast<std::uint64_t>(r.i64(10));
  if (!r.is_null(11)) c.por_status = static_cast<std::uint8_t>(r.i64(11));
  c.submit_status = static_cast<std::uint32_t>(r.i64(12));
  c.transport = r.text(13) == "scp81" ? Transport::Scp81 : Transport::Sms;
  c.targeted = r.text(14);
  c.script_status = r.text(15);
  if (!r.is_null(16)) {
    // A response script may carry file contents: sealed like the PoRs.
    Bytes sealed_response = r.blob(16);
    if (sealed_response.size() < 12) throw store::StoreError("sealed response too short");
    try {
      c.response = crypto::aes_gcm_decrypt(key_, ByteView(sealed_response).first(12),
                                           to_bytes(response_place(c.job_id, c.iccid)), ByteView(sealed_response).subspan(12));
    } catch (const std::exception&) {
      throw store::StoreError("a job's response does not open with this storage key");
    }
  }
  return c;
}

std::vector<JobCard> CampaignStore::cards(const std::string& id, std::size_t limit) const {
  std::vector<JobCard> out;
  db_.query(std::string("SELECT ") + kCardColumns + " FROM otad_job_cards WHERE job_id = ? ORDER BY seq LIMIT ?",
            {id, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX))},
            [&](const store::Row& r) { out.push_back(card_from(r)); });
  return out;
}

std::vector<JobCard> CampaignStore::due(std::int64_t now_ms, std::size_t limit) const {
  std::vector<JobCard> out;
  db_.query(std::string("SELECT ") + kCardColumns +
                " FROM otad_job_cards WHERE job_id IN (SELECT id FROM otad_jobs WHERE state = 'running') AND"
                " (state = 'queued' OR (state = 'retrying' AND next_at <= ?))"
                " ORDER BY (SELECT created FROM otad_jobs WHERE id = job_id), job_id, seq LIMIT ?",
            {now_ms, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX))},
            [&](const store::Row& r) { out.push_back(card_from(r)); });
  return out;
}

std::vector<JobCard> CampaignStore::in_flight() const {
  std::vector<JobCard> out;
  db_.query(std::string("SELECT ") + kCardColumns + " FROM otad_job_cards WHERE state = 'sent' ORDER BY job_id, seq", {},
            [&](const store::Row& r) { out.push_back(card_from(r)); });
  return out;
}

void CampaignStore::update(const std::vector<JobCard>& cards) {
  if (cards.empty()) return;
  store::Transaction t(db_);
  for (const auto& c : cards) {
    store::Value response(nullptr);
    if (!c.response.empty()) {
      Bytes iv = crypto::random_bytes(12);
      Bytes sealed = crypto::aes_gcm_encrypt(key_, iv, to_bytes(response_place(c.job_id, c.iccid)), c.response);
      sealed.insert(sealed.begin(), iv.begin(), iv.end());
      response = store::Value(sealed);
    }
    db_.run("UPDATE otad_job_cards SET state = ?, attempts = ?, next_at = ?, key_version = ?, cntr = ?, por_status = ?,"
            " submit_status = ?, script_status = ?, response = ? WHERE job_id = ? AND iccid = ?",
            {std::string(to_string(c.state)), std::int64_t{c.attempts}, c.next_at_ms, std::int64_t{c.key_version},
             static_cast<std::int64_t>(c.cntr),
             c.por_status ? store::Value(std::int64_t{*c.por_status}) : store::Value(nullptr),
             std::int64_t{c.submit_status}, c.script_status, response, c.job_id, c.iccid});
  }
  t.commit();
}

bool CampaignStore::cancel(const std::string& id) {
  store::Transaction t(db_);
  if (job(id).state != JobState::Running) return false;
  db_.run("UPDATE otad_jobs SET state = 'cancelled' WHERE id = ?", {id});
  db_.run("UPDATE otad_job_cards SET state = 'cancelled' WHERE job_id = ? AND state IN ('queued', 'retrying')", {id});
  t.commit();
  return true;
}

std::vector<std::string> CampaignStore::settle(std::int64_t now_ms) {
  std::vector<std::string> ended;
  store::Transaction t(db_);
  db_.run("UPDATE otad_job_cards SET state = 'expired' WHERE state IN ('queued', 'retrying') AND job_id IN"
          " (SELECT id FROM otad_jobs WHERE state = 'running' AND expires_at > 0 AND expires_at <= ?)",
          {now_ms});
  db_.query("SELECT id FROM otad_jobs j WHERE state = 'running' AND NOT EXISTS (SELECT 1 FROM otad_job_cards c WHERE"
            " c.job_id = j.id AND c.state IN ('queued', 'sent', 'retrying'))",
            {}, [&](const store::Row& r) { ended.push_back(r.text(0)); });
  for (const auto& id : ended) db_.run("UPDATE otad_jobs SET state = 'done' WHERE id = ?", {id});
  t.commit();
  return ended;
}

}  // namespace rsp::otad
