#include "rsp/ota/sms_sender.hpp"

#include "rsp/log.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/sms_deliver.hpp"

namespace rsp::ota {

SmsCommandSender::SmsCommandSender(CardStore& store, smpp::EsmeConfig esme, SmsSenderConfig config)
    : store_(store), cfg_(std::move(config)) {
  smpp::EsmeHandlers h;
  h.on_submit_result = [this](const smpp::SubmitResult& r) { on_submit_result(r); };
  h.on_deliver = [this](const smpp::ShortMessage& m) { on_deliver(m); };
  esme_ = std::make_unique<smpp::Esme>(std::move(esme), std::move(h));
  watcher_ = std::thread([this] { watch(); });
}

SmsCommandSender::~SmsCommandSender() {
  {
    std::lock_guard l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watcher_.join();
  esme_->stop();
}

void SmsCommandSender::watch() {
  std::unique_lock l(mu_);
  while (!stopping_) {
    cv_.wait_for(l, std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    std::vector<Key> expired;
    for (auto& [msisdn, q] : cards_)
      if (q.active && now > pending_[*q.active].deadline) expired.push_back(*q.active);
    for (const auto& k : expired) {
      log::warn("ota", "no PoR from card " + std::get<0>(k) + " within " + std::to_string(cfg_.por_timeout.count()) +
                           " ms; its next command goes");
      done(k);
    }
  }
}

ReservedPacket SmsCommandSender::send(const std::string& msisdn, const CommandRequest& r) {
  ReservedPacket p = store_.reserve_command_packet(r);  // durable before anything leaves
  Pending pe;
  pe.outcome.iccid = r.iccid;
  pe.outcome.msisdn = msisdn;
  pe.outcome.key_version = p.key_version;
  pe.outcome.cntr = p.cntr;
  pe.header = read_command_packet(p.packet).header;
  pe.format = script_format(r.secured_data);
  pe.packet = p.packet;
  std::lock_guard l(mu_);
  enqueue(Key{r.iccid, p.key_version, p.cntr}, msisdn, std::move(pe));
  return p;
}

std::size_t SmsCommandSender::resend_unsent(const std::string& iccid, const std::string& msisdn, const Tar& tar,
                                            ScriptFormat format) {
  std::size_t n = 0;
  for (auto& p : store_.unsent(iccid)) {
    CommandHeader h = read_command_packet(p.packet).header;
    if (h.tar != tar) continue;
    Pending pe;
    pe.outcome.iccid = iccid;
    pe.outcome.msisdn = msisdn;
    pe.outcome.key_version = p.key_version;
    pe.outcome.cntr = p.cntr;
    pe.header = h;
    pe.format = format;
    pe.packet = p.packet;
    std::lock_guard l(mu_);
    enqueue(Key{iccid, p.key_version, p.cntr}, msisdn, std::move(pe));
    ++n;
  }
  return n;
}

void SmsCommandSender::await_por(const std::string& msisdn, const std::string& iccid, const ReservedPacket& p,
                                 ScriptFormat format) {
  Key k{iccid, p.key_version, p.cntr};
  Pending pe;
  pe.outcome.iccid = iccid;
  pe.outcome.msisdn = msisdn;
  pe.outcome.key_version = p.key_version;
  pe.outcome.cntr = p.cntr;
  pe.outcome.state = CommandOutcome::State::Sent;
  pe.header = read_command_packet(p.packet).header;
  pe.format = format;
  pe.packet = p.packet;
  pe.deadline = std::chrono::steady_clock::now() + cfg_.por_timeout;
  std::lock_guard l(mu_);
  CardQueue& q = cards_[msisdn];
  // Only before anything new for this card: the older command's PoR first.
  if (q.active || !q.waiting.empty()) throw std::logic_error("await_por after a send to card " + iccid);
  iccid_of_[msisdn] = iccid;
  pending_[k] = std::move(pe);
  q.active = k;
}

void SmsCommandSender::enqueue(const Key& k, const std::string& msisdn, Pending p) {
  iccid_of_[msisdn] = std::get<0>(k);
  pending_[k] = std::move(p);  // a retry of a command (same bytes) starts afresh
  cards_[msisdn].waiting.push_back(k);
  dispatch(msisdn);
}

void SmsCommandSender::dispatch(const std::string& msisdn) {
  CardQueue& q = cards_[msisdn];
  while (!q.active && !q.waiting.empty() && !stopping_) {
    Key k = q.waiting.front();
    q.waiting.pop_front();
    Pending& pe = pending_[k];
    std::vector<Bytes> tpdus;
    try {
      // The SMS-DELIVERs the card will see; the SMSC builds them again from
      // what we submit (the user data, PID, DCS, UDHI).
      tpdus = command_packet_to_sms(pe.packet, SmsDeliver{}, reference_[msisdn]++);
    } catch (const SmsError& e) {
      // More than 255 SMS: it cannot go by SMS at all (this runs on the
      // ESME's thread too, so it must not throw). The card's next command goes.
      pe.outcome.state = CommandOutcome::State::SubmitFailed;
      pe.outcome.submit_status = smpp::status::kInvMsgLen;
      log::warn("ota", "command to card " + std::get<0>(k) + " not sent: " + e.what());
      cv_.notify_all();
      continue;
    }
    q.active = k;
    pe.outcome.state = CommandOutcome::State::Submitted;
    // The PoR clock starts when the SMSC has taken every segment (below): a
    // command waiting in the ESME's queue (throttled, link down) is not late.
    pe.deadline = std::chrono::steady_clock::time_point::max();
    pe.segments = tpdus.size();
    pe.segments_ok = 0;
    for (const auto& t : tpdus) {
      SmsDeliver d = decode_sms_deliver(t);
      smpp::ShortMessage m;
      m.source_addr_ton = cfg_.originator_ton;
      m.source_addr_npi = cfg_.originator_npi;
      m.source_addr = cfg_.originator;
      m.dest_addr_ton = 1;
      m.dest_addr_npi = 1;
      m.destination_addr = msisdn;
      m.esm_class = smpp::kEsmClassUdhi;
      m.protocol_id = kTpPidSimDataDownload;
      m.data_coding = kTpDcsClass2Data;
      m.registered_delivery = cfg_.receipts ? 1 : 0;
      m.short_message = std::move(d.tp_ud);
      // Under mu_: the result may come back before by_submit_ knows the id otherwise.
      by_submit_[esme_->submit(std::move(m))] = k;
    }
  }
}

void SmsCommandSender::done(const Key& k) {
  const std::string& msisdn = pending_[k].outcome.msisdn;
  auto q = cards_.find(msisdn);
  if (q == cards_.end() || q->second.active != k) return;
  q->second.active.reset();
  dispatch(msisdn);
}

void SmsCommandSender::on_submit_result(const smpp::SubmitResult& r) {
  std::optional<Key> sent;
  {
    std::lock_guard l(mu_);
    auto it = by_submit_.find(r.id);
    if (it == by_submit_.end()) return;
    Key k = it->second;
    by_submit_.erase(it);
    Pending& p = pending_[k];
    if (r.command_status != smpp::status::kOk) {
      p.outcome.state = CommandOutcome::State::SubmitFailed;
      p.outcome.submit_status = r.command_status;
      log::warn("ota", "submit_sm for " + std::get<0>(k) + " refused: " + smpp::status_name(r.command_status));
      done(k);
    } else if (++p.segments_ok == p.segments) {
      sent = k;
      if (p.outcome.state == CommandOutcome::State::Submitted) {
        p.outcome.state = CommandOutcome::State::Sent;
        p.deadline = std::chrono::steady_clock::now() + cfg_.por_timeout;
        // Without a PoR to wait for, the card's next command may go now.
        if (p.header.spi.por != PorRequest::Always) done(k);
      }
    }
  }
  if (sent) store_.mark_sent(std::get<0>(*sent), std::get<1>(*sent), std::get<2>(*sent));
  cv_.notify_all();
}

void SmsCommandSender::on_deliver(const smpp::ShortMessage& m) {
  try {
    if ((m.esm_class & smpp::kEsmClassTypeMask) == smpp::kEsmClassDeliveryReceipt) {
      // A PoR by SMS-DELIVER-REPORT rides in message_payload (our SMSC's convention).
      if (const smpp::Tlv* ud = m.find(smpp::kTagMessagePayload)) {
        if (auto por = reassembler_.add(m.source_addr, ud->value)) on_por(m.source_addr, *por);
      }
      return;
    }
    if (!(m.esm_class & smpp::kEsmClassUdhi)) return;  // not a PoR
    if (auto por = reassembler_.add(m.source_addr, m.short_message)) on_por(m.source_addr, *por);
  } catch (const DecodeError& e) {
    log::warn("ota", std::string("MO SMS from ") + m.source_addr + " is not a PoR: " + e.what());
    std::lock_guard l(mu_);
    ++unmatched_;
  }
}

void SmsCommandSender::on_por(const std::string& msisdn, ByteView por) {
  // RPL(2) RHL(1) TAR(3): the TAR is in clear.
  if (por.size() < 6) throw SmsError("PoR of " + std::to_string(por.size()) + " bytes");
  Tar tar{por[3], por[4], por[5]};
  std::vector<std::pair<Key, CommandHeader>> candidates;
  std::string iccid;
  {
    std::lock_guard l(mu_);
    auto ic = iccid_of_.find(msisdn);
    if (ic == iccid_of_.end()) {
      ++unmatched_;
      return;
    }
    iccid = ic->second;
    for (auto& [k, p] : pending_)
      if (std::get<0>(k) == iccid && p.header.tar == tar &&
          (p.outcome.state == CommandOutcome::State::Submitted || p.outcome.state == CommandOutcome::State::Sent))
        candidates.emplace_back(k, p.header);
  }
  for (const auto& [k, h] : candidates) {
    OpenedResponsePacket o;
    try {
      o = store_.open_response_packet(iccid, std::get<1>(k), h, por);
    } catch (const PacketError&) {
      continue;  // not this command's key set or SPI
    }
    // A PoR names its command by CNTR. A refusal before the card could
    // read the CNTR (01, 09, 0A, 06...) carries none of it: that one goes
    // to the oldest command still waiting at this TAR and key set
    // (candidates are in CNTR order).
    Key match = k;
    bool found = false;
    for (const auto& [k2, h2] : candidates)
      if (std::get<1>(k2) == std::get<1>(k) && std::get<2>(k2) == o.packet.cntr && h2 == h) {
        match = k2;
        found = true;
      }
    if (!found && o.packet.status == static_cast<std::uint8_t>(ResponseStatus::PorOk)) continue;
    CardStore::PorRecord rec{o.packet.status, o.packet.additional_data};
    store_.record_por(iccid, std::get<1>(match), std::get<2>(match), rec);
    {
      std::lock_guard l(mu_);
      Pending& p = pending_[match];
      p.outcome.state = CommandOutcome::State::PorReceived;
      p.outcome.por_status = o.packet.status;
      p.outcome.additional_data = o.packet.additional_data;
      if (!o.packet.additional_data.empty()) {
        try {
          p.outcome.response = decode_response_script(p.format, o.packet.additional_data);
        } catch (const DecodeError&) {
          // recorded as it came
        }
      }
      done(match);
    }
    cv_.notify_all();
    if (cfg_.on_por) cfg_.on_por(o.packet.status);
    return;
  }
  log::warn("ota", "PoR from " + msisdn + " for TAR " + to_hex(tar, true) + " matches no command sent");
  std::lock_guard l(mu_);
  ++unmatched_;
}

std::optional<CommandOutcome> SmsCommandSender::outcome(const std::string& iccid, std::uint8_t key_version,
                                                        std::uint64_t cntr) const {
  std::lock_guard l(mu_);
  auto it = pending_.find(Key{iccid, key_version, cntr});
  if (it == pending_.end()) return std::nullopt;
  return it->second.outcome;
}

bool SmsCommandSender::wait(const std::string& iccid, std::uint8_t key_version, std::uint64_t cntr,
                            std::chrono::milliseconds timeout) const {
  std::unique_lock l(mu_);
  return cv_.wait_for(l, timeout, [&] {
    auto it = pending_.find(Key{iccid, key_version, cntr});
    return it != pending_.end() && (it->second.outcome.state == CommandOutcome::State::PorReceived ||
                                    it->second.outcome.state == CommandOutcome::State::SubmitFailed);
  });
}

std::size_t SmsCommandSender::unmatched_pors() const {
  std::lock_guard l(mu_);
  return unmatched_;
}

}  // namespace rsp::ota
