// otad's durable jobs: a campaign is one job over many cards with a script
// per card and a state per card; a single command from the API is a job of
// one card (kind "command"), so both are resumed after a restart the same
// way (docs/ota.md, "Campaigns").
//
// Tables otad_jobs, otad_job_cards and otad_msisdns in the card store's
// SQLite file. Scripts are sealed at rest like the card store's packets
// (AES-256-GCM under the storage key, the row's place as associated data):
// an account installation carries a Ki and an OPc.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/bytes.hpp"
#include "rsp/ota/security_parameters.hpp"
#include "rsp/store.hpp"

namespace rsp::otad {

// A card's state in a job. Final: PorOk, PorError, Expired, Cancelled,
// Failed (refused before anything was sent: the card, its TAR or key set is
// gone from the store, or the SPI is below the TAR's MSL), Done (SCP81: the
// admin session ran the script and returned its response script; an SCP81
// job's PorError is a refused trigger or a script status other than "ok").
enum class CardState { Queued, Sent, PorOk, PorError, Retrying, Expired, Cancelled, Failed, Done };
std::string_view to_string(CardState s);  // "queued", "sent", "por_ok", ...
CardState card_state_from(std::string_view s);
bool is_final(CardState s);

// How a job's script reaches the card: in the SMS's secured packet (SCP80),
// or over the card's HTTPS admin session (SCP81) that a push SMS triggers.
enum class Transport { Sms, Scp81 };
std::string_view to_string(Transport t);  // "sms", "scp81"

enum class JobState { Running, Cancelled, Done };
std::string_view to_string(JobState s);

struct JobCard {
  std::string job_id;
  std::int64_t seq = 0;  // order within the job
  std::string iccid, msisdn;
  ota::Spi spi;
  Bytes script;  // the secured data (a TS 102 226 command script), opened
  CardState state = CardState::Queued;
  int attempts = 0;
  std::int64_t next_at_ms = 0;  // a retrying card goes again at this time (ms since the epoch)
  std::uint8_t key_version = 0;
  std::uint64_t cntr = 0;  // of the command's packet, once reserved
  std::optional<std::uint8_t> por_status;
  std::uint32_t submit_status = 0;  // the last refused submit_sm's command_status
  // SCP81: the packet above is the push SMS (the trigger at the security
  // domain's TAR); the script goes in the admin session.
  Transport transport = Transport::Sms;
  std::string targeted;        // X-Admin-Targeted-Application, "" = none
  std::string script_status;   // X-Admin-Script-Status of the session's response
  Bytes response;              // the response script (expanded), empty until done
};

struct Job {
  std::string id;
  std::string kind;  // "campaign" or "command"
  JobState state = JobState::Running;
  ota::Tar tar{};
  double sms_per_second = 0;     // 0: the configured default
  std::int64_t created_ms = 0;
  std::int64_t expires_at_ms = 0;  // 0: never; cards not final then become expired
};

struct JobCounts {
  std::size_t total = 0, queued = 0, sent = 0, por_ok = 0, por_error = 0, retrying = 0, expired = 0, cancelled = 0,
              failed = 0, done = 0;
  std::size_t final() const { return por_ok + por_error + expired + cancelled + failed + done; }
};

struct UnknownJob : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CampaignStore {
 public:
  CampaignStore(store::Db& db, ByteView storage_key);

  // The MSISDN the SMSC reaches a card at (registered with the card).
  void set_msisdn(const std::string& iccid, const std::string& msisdn);
  std::optional<std::string> msisdn(const std::string& iccid) const;
  void forget_card(const std::string& iccid);

  // A job and its cards in one transaction (all or nothing).
  void create(const Job& job, const std::vector<JobCard>& cards);
  Job job(const std::string& id) const;  // UnknownJob
  std::vector<Job> running_jobs() const;
  JobCounts counts(const std::string& id) const;
  std::vector<JobCard> cards(const std::string& id, std::size_t limit = SIZE_MAX) const;
  // Cards of running jobs ready to go (queued, or retrying and due), in job
  // and card order; at most `limit`.
  std::vector<JobCard> due(std::int64_t now_ms, std::size_t limit) const;
  // Cards with a packet out and no final state (after a restart: the ones to resume).
  std::vector<JobCard> in_flight() const;

  // Writes the state columns of many cards in one transaction.
  void update(const std::vector<JobCard>& cards);
  // Running -> Cancelled; its queued and retrying cards become cancelled.
  // Returns false when it had ended already.
  bool cancel(const std::string& id);
  // Cards not final past the job's deadline become expired; jobs with only
  // final cards become done. Returns the jobs that just ended.
  std::vector<std::string> settle(std::int64_t now_ms);

  // The command id a card's packet is reserved under in the card store: the
  // same for every attempt, so a retry sends the same bytes (docs/ota.md).
  static std::string command_id(const std::string& job_id, const std::string& iccid) {
    return "otad:" + job_id + ":" + iccid;
  }

 private:
  JobCard card_from(const store::Row& r) const;
  store::Db& db_;
  SecretBytes key_;
};

}  // namespace rsp::otad
