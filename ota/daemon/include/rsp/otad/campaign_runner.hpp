// The campaign runner: takes the cards of running jobs from the campaign
// store in order, paces them (SMS/s per job, a cap on cards with a command
// out), reserves each card's packet in the card store and records the card
// as sent (both durable) before handing it to the SMS sender, follows each
// command to its PoR, retries with backoff when no PoR came or the submit
// was refused, and writes every state change back.
//
// After a restart (kill -9 included), resume() picks up the cards recorded
// as sent: a PoR already in the card store settles them; for the others the
// runner waits for the PoR first (the SMSC keeps MO SMS, and delivers again
// a deliver_sm the dead ESME never answered), and only after the PoR
// timeout sends the packet again, byte for byte (same command id, same
// counter). So no counter is ever used for two packets, and a card sees a
// packet twice only when its PoR took longer than the timeout.
#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "rsp/ota/card_store.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "rsp/otad/campaign_store.hpp"
#include "rsp/otad/config.hpp"
#include "rsp/otad/scp81_sessions.hpp"

namespace rsp::otad {

class CampaignRunner {
 public:
  CampaignRunner(CampaignStore& jobs, ota::CardStore& cards, ota::SmsCommandSender& sender, CampaignPacing pacing,
                 std::chrono::milliseconds por_timeout, double default_sms_per_second);
  ~CampaignRunner();
  CampaignRunner(const CampaignRunner&) = delete;
  CampaignRunner& operator=(const CampaignRunner&) = delete;

  // SCP81 jobs (before start): their push SMS go through the same sender;
  // their scripts wait in `sessions` for the card's admin session, for at
  // most the PoR timeout plus `session_wait` after the push SMS was taken.
  void set_scp81(Scp81Sessions* sessions, std::chrono::milliseconds session_wait);

  // Called (before start) for each card's command handed to the sender:
  // its transport, attempt (1 = first) and how many SMS its packet takes.
  void on_sent(std::function<void(Transport, int attempt, std::size_t sms)> f) { on_sent_ = std::move(f); }

  // Before the sender starts: the cards with a packet out. Returns how many.
  std::size_t resume();
  void start();
  void stop();
  void wake();  // a job was created or cancelled

  static std::int64_t now_ms();

 private:
  struct Flight {
    JobCard card;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at{};
  };
  void loop();
  void tick();
  void retry_or_expire(JobCard& c, std::int64_t now);
  ota::CommandRequest request(const JobCard& c, const ota::Tar& tar) const;
  // An SCP81 card's flight: false while it waits.
  bool scp81_outcome(JobCard& c, std::chrono::steady_clock::time_point& deadline,
                     std::chrono::steady_clock::time_point steady, std::int64_t now);

  CampaignStore& jobs_;
  ota::CardStore& cards_;
  ota::SmsCommandSender& sender_;
  CampaignPacing pacing_;
  std::chrono::milliseconds por_timeout_;
  double default_rate_;
  Scp81Sessions* scp81_ = nullptr;
  std::chrono::milliseconds session_wait_{0};
  std::function<void(Transport, int, std::size_t)> on_sent_;
  std::map<std::string, Flight> flights_;  // by ICCID: one command out per card
  std::map<std::string, Bucket> buckets_;  // by job
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, woken_ = false;
  std::thread thread_;
};

}  // namespace rsp::otad
