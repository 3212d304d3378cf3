#include "rsp/otad/campaign_runner.hpp"

#include <algorithm>
#include <cmath>

#include "rsp/log.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/command_script.hpp"
#include "rsp/ota/scp81_protocol.hpp"
#include "rsp/ota/status.hpp"

namespace rsp::otad {

namespace {
// The PoR deadline the runner keeps is the sender's plus this margin, so the
// sender has given up on the card (and moved its queue on) before a retry.
constexpr std::chrono::milliseconds kDeadlineMargin{1000};

// SMS a packet takes (TS 31.115 4.2: 140 bytes of user data, less the CPI
// header, less the concatenation header when there are several): the unit
// the throttle counts, approximately.
std::size_t sms_count(std::size_t packet_bytes) {
  if (packet_bytes <= 137) return 1;
  return (packet_bytes + 131) / 132;
}
}  // namespace

std::int64_t CampaignRunner::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CampaignRunner::CampaignRunner(CampaignStore& jobs, ota::CardStore& cards, ota::SmsCommandSender& sender,
                               CampaignPacing pacing, std::chrono::milliseconds por_timeout,
                               double default_sms_per_second)
    : jobs_(jobs),
      cards_(cards),
      sender_(sender),
      pacing_(pacing),
      por_timeout_(por_timeout),
      default_rate_(default_sms_per_second) {}

CampaignRunner::~CampaignRunner() { stop(); }

void CampaignRunner::set_scp81(Scp81Sessions* sessions, std::chrono::milliseconds session_wait) {
  scp81_ = sessions;
  session_wait_ = session_wait;
}

ota::CommandRequest CampaignRunner::request(const JobCard& c, const ota::Tar& tar) const {
  ota::CommandRequest r;
  r.iccid = c.iccid;
  r.tar = tar;
  r.spi = c.spi;
  if (c.transport == Transport::Scp81) {
    // The push SMS: the trigger at the security domain's TAR (the job's). A
    // new trigger per attempt, with a new counter: the card ran the last
    // one (its PoR said so) and would answer the same bytes '02' (counter
    // low) without starting a session.
    if (!scp81_) throw std::runtime_error("SCP81 is not configured");
    r.secured_data = scp81_->trigger(c.iccid);
    r.command_id = CampaignStore::command_id(c.job_id, c.iccid) + ":trigger-" + std::to_string(c.attempts + 1);
    return r;
  }
  r.secured_data = c.script;
  r.command_id = CampaignStore::command_id(c.job_id, c.iccid);
  return r;
}

bool CampaignRunner::scp81_outcome(JobCard& c, std::chrono::steady_clock::time_point& deadline,
                                   std::chrono::steady_clock::time_point steady, std::int64_t now) {
  if (auto r = scp81_->take(c.iccid, c.job_id, c.attempts)) {
    c.script_status = r->script_status;
    // The push SMS's PoR, when it is in already (the session can end first).
    if (auto o = sender_.outcome(c.iccid, c.key_version, c.cntr); o && o->por_status) c.por_status = *o->por_status;
    using O = ota::scp81::SessionOutcome;
    if (r->outcome == O::Completed && r->response) {
      c.state = CardState::Done;
      c.response = ota::encode_response_script(*r->response);
    } else if (r->outcome == O::ScriptStatusError) {
      c.state = CardState::PorError;  // the card would not run it (unknown application, security error)
    } else {
      log::info("otad", "SCP81 session of card " + c.iccid + " (job " + c.job_id + ", attempt " +
                            std::to_string(c.attempts) + ") failed: " + ota::scp81::outcome_name(r->outcome));
      retry_or_expire(c, now);
    }
    return true;
  }
  auto o = sender_.outcome(c.iccid, c.key_version, c.cntr);
  if (o && o->state == ota::CommandOutcome::State::PorReceived && o->por_status && *o->por_status != 0) {
    c.por_status = *o->por_status;  // the card refused the push SMS: no session will come
    c.state = CardState::PorError;
  } else if (o && o->state == ota::CommandOutcome::State::SubmitFailed) {
    c.submit_status = o->submit_status;
    retry_or_expire(c, now);
  } else if (o && o->state == ota::CommandOutcome::State::Submitted) {
    deadline = std::chrono::steady_clock::time_point::max();
    return false;
  } else if (deadline == std::chrono::steady_clock::time_point::max()) {
    // Taken by the SMSC: the card has the PoR timeout to take the trigger
    // and the session wait to open its session and end it.
    deadline = steady + por_timeout_ + session_wait_ + kDeadlineMargin;
    if (o && o->por_status) c.por_status = *o->por_status;
    return false;
  } else if (steady > deadline) {
    log::info("otad", "no SCP81 session from card " + c.iccid + " (job " + c.job_id + ", attempt " +
                          std::to_string(c.attempts) + ")");
    retry_or_expire(c, now);
  } else {
    if (o && o->por_status) c.por_status = *o->por_status;  // 00: the trigger was taken
    return false;
  }
  return true;
}

std::size_t CampaignRunner::resume() {
  std::vector<JobCard> settled;
  std::size_t n = 0;
  auto deadline = std::chrono::steady_clock::now() + por_timeout_ + kDeadlineMargin;
  for (JobCard& c : jobs_.in_flight()) {
    if (c.transport == Transport::Scp81) {
      // Its session (if any) died with the last process: a new trigger.
      retry_or_expire(c, now_ms());
      settled.push_back(c);
      continue;
    }
    try {
      if (auto por = cards_.por(c.iccid, c.key_version, c.cntr)) {
        c.por_status = por->status;
        c.state = por->status == 0 ? CardState::PorOk : CardState::PorError;
        settled.push_back(c);
        continue;
      }
      // Whether or not the store had marked it sent, the packet may have
      // reached the card (the crash can fall between the SMSC taking it and
      // the mark): wait for its PoR first, which the SMSC delivers again
      // after the bind. Only when none comes within the PoR timeout does
      // the runner send it again (the same bytes, as a retry).
      Job job = jobs_.job(c.job_id);
      ota::ReservedPacket p = cards_.reserve_command_packet(request(c, job.tar));  // the stored packet, no new counter
      sender_.await_por(c.msisdn, c.iccid, p, ota::script_format(c.script));
      flights_[c.iccid] = Flight{c, deadline};
      ++n;
    } catch (const std::exception& e) {
      log::warn("otad", "cannot resume card " + c.iccid + " of job " + c.job_id + ": " + e.what());
      c.state = CardState::Failed;
      settled.push_back(c);
    }
  }
  jobs_.update(settled);
  return n;
}

void CampaignRunner::start() {
  std::lock_guard l(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void CampaignRunner::stop() {
  {
    std::lock_guard l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CampaignRunner::wake() {
  {
    std::lock_guard l(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void CampaignRunner::loop() {
  std::unique_lock l(mu_);
  int pause_ms = pacing_.tick_ms;
  while (!stop_) {
    l.unlock();
    try {
      tick();
      pause_ms = pacing_.tick_ms;
    } catch (const std::exception& e) {
      // A store error (disk full...) must not end the daemon's campaigns:
      // nothing was lost (the state is written after the fact). Try again,
      // backing off to 5 s so a lasting fault does not flood the log.
      log::error("otad", std::string("campaign runner: ") + e.what());
      pause_ms = std::min(5000, pause_ms * 2);
    }
    l.lock();
    cv_.wait_for(l, std::chrono::milliseconds(pause_ms), [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

void CampaignRunner::retry_or_expire(JobCard& c, std::int64_t now) {
  if (c.attempts >= pacing_.max_attempts) {
    c.state = CardState::Expired;
    return;
  }
  c.state = CardState::Retrying;
  double backoff = pacing_.retry_backoff_ms * std::pow(2.0, std::max(0, c.attempts - 1));
  c.next_at_ms = now + static_cast<std::int64_t>(std::min<double>(backoff, pacing_.max_retry_backoff_ms));
}

void CampaignRunner::tick() {
  auto steady = std::chrono::steady_clock::now();
  std::int64_t now = now_ms();
  std::vector<JobCard> updates;

  // 1. Outcomes of the commands out.
  for (auto it = flights_.begin(); it != flights_.end();) {
    JobCard& c = it->second.card;
    if (c.transport == Transport::Scp81) {
      if (scp81_outcome(c, it->second.deadline, steady, now)) {
        if (c.state == CardState::Retrying || c.state == CardState::Expired || c.state == CardState::PorError)
          scp81_->forget(c.iccid, c.job_id);
        updates.push_back(c);
        it = flights_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    auto o = sender_.outcome(c.iccid, c.key_version, c.cntr);
    bool finished = true;
    if (o && o->state == ota::CommandOutcome::State::PorReceived && o->por_status) {
      c.por_status = *o->por_status;
      c.state = *o->por_status == 0 ? CardState::PorOk : CardState::PorError;
    } else if (o && o->state == ota::CommandOutcome::State::SubmitFailed) {
      c.submit_status = o->submit_status;
      retry_or_expire(c, now);
    } else if (o && o->state == ota::CommandOutcome::State::Submitted) {
      // Still in the ESME's queue (throttled, link down): not late yet.
      it->second.deadline = std::chrono::steady_clock::time_point::max();
      finished = false;
    } else if (it->second.deadline == std::chrono::steady_clock::time_point::max()) {
      // Taken by the SMSC since the last look: the PoR clock starts.
      it->second.deadline = steady + por_timeout_ + kDeadlineMargin;
      finished = false;
    } else if (steady > it->second.deadline) {
      log::info("otad", "no PoR from card " + c.iccid + " (job " + c.job_id + ", attempt " +
                            std::to_string(c.attempts) + ")");
      retry_or_expire(c, now);
    } else {
      finished = false;
    }
    if (finished) {
      updates.push_back(c);
      it = flights_.erase(it);
    } else {
      ++it;
    }
  }

  // 2. New commands, within the in-flight cap and each job's SMS/s.
  std::vector<std::pair<JobCard, ota::CommandRequest>> to_send;
  if (flights_.size() < pacing_.max_in_flight) {
    std::map<std::string, Job> jobs;
    for (auto& j : jobs_.running_jobs()) jobs.emplace(j.id, j);
    std::erase_if(buckets_, [&](const auto& kv) { return !jobs.count(kv.first); });
    for (auto& [id, j] : jobs) {
      double rate = j.sms_per_second > 0 ? j.sms_per_second : default_rate_;
      double burst = std::max(1.0, rate * pacing_.tick_ms / 1000.0 * 2);
      auto [b, fresh] = buckets_.try_emplace(id, Bucket{burst, steady});
      if (!fresh) {
        b->second.tokens = std::min(burst, b->second.tokens + std::chrono::duration<double>(steady - b->second.at).count() * rate);
        b->second.at = steady;
      }
    }
    std::size_t room = pacing_.max_in_flight - flights_.size();
    for (JobCard& c : jobs_.due(now, room + flights_.size())) {
      if (to_send.size() >= room) break;
      if (flights_.count(c.iccid)) continue;  // one command out per card
      bool busy = false;
      for (auto& s : to_send) busy = busy || s.first.iccid == c.iccid;
      if (busy) continue;
      auto j = jobs.find(c.job_id);
      if (j == jobs.end()) continue;
      Bucket& b = buckets_[c.job_id];
      if (b.tokens < 1) continue;
      ota::CommandRequest req;
      try {
        req = request(c, j->second.tar);
        // Durable before anything leaves: the packet and its counter in the
        // card store, then the card as sent with that counter (below).
        ota::ReservedPacket p = cards_.reserve_command_packet(req);
        b.tokens -= static_cast<double>(sms_count(p.packet.size()));
        c.key_version = p.key_version;
        c.cntr = p.cntr;
        c.state = CardState::Sent;
        ++c.attempts;
        c.next_at_ms = 0;
        to_send.emplace_back(c, std::move(req));
      } catch (const std::exception& e) {
        log::warn("otad", "card " + c.iccid + " of job " + c.job_id + " refused by the card store: " + e.what());
        c.state = CardState::Failed;
        updates.push_back(c);
      }
    }
  }
  for (auto& s : to_send) updates.push_back(s.first);
  jobs_.update(updates);

  // 3. Hand them to the sender, now that their state is on disk.
  // The PoR clock starts once the SMSC has taken the packet (tick above).
  auto deadline = std::chrono::steady_clock::time_point::max();
  std::vector<JobCard> refused;
  for (auto& [c, req] : to_send) {
    try {
      // The script waits before the trigger leaves: the card may connect
      // before the PoR is back.
      if (c.transport == Transport::Scp81) scp81_->expect(c.iccid, Scp81Attempt{c.job_id, c.attempts, c.script, c.targeted});
      ota::ReservedPacket sent = sender_.send(c.msisdn, req);
      flights_[c.iccid] = Flight{c, deadline};
      if (on_sent_) on_sent_(c.transport, c.attempts, sms_count(sent.packet.size()));
    } catch (const std::exception& e) {
      log::warn("otad", "card " + c.iccid + " of job " + c.job_id + " not sent: " + e.what());
      c.state = CardState::Failed;
      refused.push_back(c);
    }
  }
  jobs_.update(refused);
  if (!updates.empty() || !refused.empty()) {
    for (const auto& id : jobs_.settle(now)) log::info("otad", "job " + id + " done");
  } else if (now % 1000 < pacing_.tick_ms) {
    jobs_.settle(now);  // deadlines pass without any card changing
  }
}

}  // namespace rsp::otad
