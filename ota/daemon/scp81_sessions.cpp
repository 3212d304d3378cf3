#include "rsp/otad/scp81_sessions.hpp"

#include <stdexcept>

#include "rsp/log.hpp"
#include "rsp/ota/scp81_trigger.hpp"

namespace rsp::otad {

namespace scp81 = ota::scp81;

std::string targeted_application(ByteView aid) {
  if (aid.size() < 5) throw std::invalid_argument("an AID has a 5-byte RID");
  return "//aid/" + to_hex(aid.first(5), true) + "/" + to_hex(aid.subspan(5), true);
}

void Scp81Sessions::set_listening_port(std::uint16_t port) {
  std::lock_guard l(mu_);
  port_ = port;
}

Bytes Scp81Sessions::trigger(const std::string& iccid) const {
  auto key = keys_.info(iccid);
  if (!key) throw std::invalid_argument("card " + iccid + " has no SCP81 keys");
  scp81::TriggeringParameters t;
  scp81::ConnectionParameters c;
  c.transport_protocol = scp81::kTransportTcpClientRemote;
  {
    std::lock_guard l(mu_);
    c.port = config_.public_port ? config_.public_port : port_;
  }
  const std::string& address = config_.public_address.empty() ? config_.listen : config_.public_address;
  c.address_type = scp81::kAddressIpv4;
  std::size_t i = 0;
  while (i <= address.size()) {
    std::size_t j = address.find('.', i);
    if (j == std::string::npos) j = address.size();
    c.address.push_back(static_cast<std::uint8_t>(std::stoi(address.substr(i, j - i))));
    i = j + 1;
  }
  t.connection = c;
  t.security = scp81::SecurityParameters{to_bytes(key->psk_identity), key->key_version, key->key_id};
  scp81::HttpPostParameters h;
  h.admin_uri = config_.admin_path;
  t.http_post = h;
  return scp81::encode_triggering_parameters(t);
}

void Scp81Sessions::expect(const std::string& iccid, Scp81Attempt a) {
  std::lock_guard l(mu_);
  results_.erase(iccid);
  waiting_[iccid] = std::move(a);
}

void Scp81Sessions::forget(const std::string& iccid, const std::string& job_id) {
  std::lock_guard l(mu_);
  if (auto it = waiting_.find(iccid); it != waiting_.end() && it->second.job_id == job_id) waiting_.erase(it);
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.iccid == iccid && it->second.job_id == job_id ? sessions_.erase(it) : std::next(it);
  if (auto it = results_.find(iccid); it != results_.end() && it->second.job_id == job_id) results_.erase(it);
}

std::optional<scp81::AdminScript> Scp81Sessions::next_script(const scp81::SessionView& v) {
  if (v.round > 0) return std::nullopt;  // one script per job: its response ends the session
  std::lock_guard l(mu_);
  auto it = waiting_.find(v.card_id);
  if (it == waiting_.end()) {
    log::info("otad", "SCP81 session of card " + v.card_id + ": nothing waiting for it");
    return std::nullopt;
  }
  scp81::AdminScript s;
  try {
    s.script = ota::decode_command_script(it->second.script);
  } catch (const DecodeError&) {
    log::warn("otad", "SCP81 job " + it->second.job_id + ": its script does not parse");
    return std::nullopt;
  }
  if (!it->second.targeted.empty()) s.targeted_application = it->second.targeted;
  // Taken: a second session of the card (a retry of the agent's) does not
  // run the script again.
  sessions_[v.session_id] = Bound{v.card_id, it->second.job_id, it->second.attempt};
  log::info("otad", "SCP81 session of card " + v.card_id + " takes job " + it->second.job_id);
  waiting_.erase(it);
  return s;
}

void Scp81Sessions::on_report(const scp81::SessionReport& r) {
  std::lock_guard l(mu_);
  auto it = sessions_.find(r.session_id);
  if (it == sessions_.end()) return;  // a session with nothing to do
  Scp81Result res;
  res.job_id = it->second.job_id;
  res.attempt = it->second.attempt;
  res.outcome = r.outcome;
  res.script_status = r.script_status;
  res.detail = r.detail;
  res.rounds = r.rounds;
  if (!r.responses.empty()) res.response = r.responses.front();
  log::info("otad", "SCP81 session of card " + it->second.iccid + " for job " + res.job_id + ": " +
                        scp81::outcome_name(r.outcome) + (r.detail.empty() ? "" : " (" + r.detail + ")"));
  results_[it->second.iccid] = std::move(res);
  sessions_.erase(it);
}

std::optional<Scp81Result> Scp81Sessions::take(const std::string& iccid, const std::string& job_id, int attempt) {
  std::lock_guard l(mu_);
  auto it = results_.find(iccid);
  if (it == results_.end() || it->second.job_id != job_id || it->second.attempt != attempt) return std::nullopt;
  Scp81Result r = std::move(it->second);
  results_.erase(it);
  return r;
}

}  // namespace rsp::otad
