#include "rsp/sim/smsc.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "rsp/ota/sms_deliver.hpp"
#include "rsp/ota/sms_submit.hpp"
#include "rsp/ota/smpp_pdu.hpp"

namespace rsp::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace smpp = rsp::ota::smpp;
using Clock = std::chrono::steady_clock;

namespace {

std::uint8_t bcd2(int v) { return static_cast<std::uint8_t>((v % 10) << 4 | (v / 10 % 10)); }

// TS 23.040 9.2.3.11: YY MM DD hh mm ss TZ, semi-octets swapped; UTC.
std::array<std::uint8_t, 7> scts_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return {bcd2(tm.tm_year % 100), bcd2(tm.tm_mon + 1), bcd2(tm.tm_mday), bcd2(tm.tm_hour), bcd2(tm.tm_min),
          bcd2(tm.tm_sec), 0x00};
}

std::string receipt_date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M", &tm);
  return buf;
}

}  // namespace

struct Smsc::Impl {
  struct Session {
    std::uint64_t id;
    tcp::socket socket;
    Bytes rx;
    std::array<std::uint8_t, 4096> chunk{};
    std::deque<Bytes> tx;
    bool bound = false, receives = false, closed = false;
    bool dropping = false;  // the drop fault: close once what is queued is written, read nothing more
    std::uint32_t next_seq = 1;
    // deliver_sm written and not yet answered: an ESME that goes away before
    // its deliver_sm_resp has not taken the message (SMPP 3.4 4.6.2); it is
    // delivered again to the next receiving bind, as an SMSC retries.
    std::map<std::uint32_t, smpp::ShortMessage> unacked;
    explicit Session(std::uint64_t i, tcp::socket s) : id(i), socket(std::move(s)) {}
  };

  explicit Impl(SmscConfig c) : cfg(std::move(c)) {}

  asio::io_context io;
  SmscConfig cfg;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions;
  std::uint64_t next_session = 1, next_message = 1;
  std::deque<smpp::ShortMessage> pending_deliver;  // MO and receipts waiting for a receiving ESME
  Clock::time_point last_accepted{};

  mutable std::mutex mu;  // what other threads set or read
  std::map<std::string, MobileStation*> handsets;
  bool refuse = false;
  std::uint64_t drop_at = 0;
  SmscStats stats;

  void accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      s.set_option(tcp::no_delay(true), ec);
      auto sess = std::make_shared<Session>(next_session++, std::move(s));
      sessions[sess->id] = sess;
      read(sess);
      accept();
    });
  }

  void close(const std::shared_ptr<Session>& s) {
    if (s->closed) return;
    s->closed = true;
    boost::system::error_code ignored;
    s->socket.close(ignored);
    sessions.erase(s->id);
    if (!s->unacked.empty()) {
      for (auto it = s->unacked.rbegin(); it != s->unacked.rend(); ++it) pending_deliver.push_front(std::move(it->second));
      s->unacked.clear();
      flush_pending();
    }
  }

  void send(const std::shared_ptr<Session>& s, const smpp::Pdu& p) {
    if (s->closed) return;
    s->tx.push_back(smpp::encode(p));
    if (s->tx.size() == 1) write_next(s);
  }

  void write_next(const std::shared_ptr<Session>& s) {
    if (s->tx.empty() || s->closed) return;
    asio::async_write(s->socket, asio::buffer(s->tx.front()), [this, s](boost::system::error_code ec, std::size_t) {
      if (ec) return close(s);
      s->tx.pop_front();
      if (s->tx.empty() && s->dropping) return close(s);
      write_next(s);
    });
  }

  void read(const std::shared_ptr<Session>& s) {
    s->socket.async_read_some(asio::buffer(s->chunk), [this, s](boost::system::error_code ec, std::size_t n) {
      if (ec || s->closed) return close(s);
      s->rx.insert(s->rx.end(), s->chunk.begin(), s->chunk.begin() + static_cast<std::ptrdiff_t>(n));
      try {
        while (auto len = smpp::pending_length(s->rx)) {
          if (s->rx.size() < *len) break;
          Bytes one(s->rx.begin(), s->rx.begin() + static_cast<std::ptrdiff_t>(*len));
          s->rx.erase(s->rx.begin(), s->rx.begin() + static_cast<std::ptrdiff_t>(*len));
          handle(s, one);
          if (s->closed || s->dropping) return;
        }
      } catch (const smpp::SmppError&) {
        return close(s);  // a length we cannot frame: no way to resynchronise
      }
      read(s);
    });
  }

  void respond(const std::shared_ptr<Session>& s, smpp::CommandId id, std::uint32_t seq, std::uint32_t st,
               decltype(smpp::Pdu::body) body = {}) {
    smpp::Pdu r;
    r.command_id = id;
    r.sequence_number = seq;
    r.command_status = st;
    r.body = std::move(body);
    send(s, r);
  }

  void handle(const std::shared_ptr<Session>& s, ByteView raw) {
    smpp::Pdu p;
    try {
      p = smpp::decode(raw);
    } catch (const smpp::SmppError& e) {
      std::uint32_t seq = raw.size() >= 16 ? static_cast<std::uint32_t>(raw[12] << 24 | raw[13] << 16 | raw[14] << 8 | raw[15]) : 0;
      return respond(s, smpp::CommandId::GenericNack, seq, e.command_status);
    }
    using smpp::CommandId;
    switch (p.command_id) {
      case CommandId::BindTransceiver:
      case CommandId::BindTransmitter:
      case CommandId::BindReceiver: {
        auto resp_id = static_cast<CommandId>(static_cast<std::uint32_t>(p.command_id) | 0x80000000u);
        const auto& b = std::get<smpp::Bind>(p.body);
        std::uint32_t st = smpp::status::kOk;
        {
          std::lock_guard l(mu);
          if (s->bound) st = smpp::status::kAlyBnd;
          else if (refuse) st = smpp::status::kBindFail;
          else if (b.system_id != cfg.system_id) st = smpp::status::kInvSysId;
          else if (b.password != cfg.password) st = smpp::status::kInvPaswd;
          if (st == smpp::status::kOk) ++stats.binds;
          else ++stats.bind_refusals;
        }
        if (st != smpp::status::kOk) return respond(s, resp_id, p.sequence_number, st);
        s->bound = true;
        s->receives = p.command_id != CommandId::BindTransmitter;
        respond(s, resp_id, p.sequence_number, st,
                smpp::BindResp{"rsp-smsc", {{smpp::kTagScInterfaceVersion, {0x34}}}});
        flush_pending();
        return;
      }
      case CommandId::EnquireLink: {
        std::lock_guard l(mu);
        ++stats.enquire_links;
      }
        return respond(s, CommandId::EnquireLinkResp, p.sequence_number, smpp::status::kOk);
      case CommandId::Unbind:
        respond(s, CommandId::UnbindResp, p.sequence_number, smpp::status::kOk);
        s->bound = false;
        return;
      case CommandId::SubmitSm:
        return submit(s, p);
      case CommandId::DeliverSmResp:
        s->unacked.erase(p.sequence_number);
        return;
      case CommandId::EnquireLinkResp:
      case CommandId::UnbindResp:
      case CommandId::GenericNack:
        return;
      default:
        if (!p.is_response()) respond(s, CommandId::GenericNack, p.sequence_number, smpp::status::kInvCmdId);
    }
  }

  void submit(const std::shared_ptr<Session>& s, const smpp::Pdu& p) {
    using smpp::CommandId;
    if (!s->bound) return respond(s, CommandId::SubmitSmResp, p.sequence_number, smpp::status::kInvBndSts);
    MobileStation* ms = nullptr;
    const auto& m = std::get<smpp::ShortMessage>(p.body);
    bool drop = false;
    {
      std::lock_guard l(mu);
      ++stats.submits;
      if (drop_at != 0 && stats.submits == drop_at) {
        ++stats.dropped_connections;
        drop_at = 0;
        drop = true;
      } else {
        auto it = handsets.find(m.destination_addr);
        if (it != handsets.end()) ms = it->second;
      }
    }
    if (drop) {
      // The fault: this submit_sm and whatever follows it are lost with the
      // link; the responses already queued still go out first.
      s->dropping = true;
      if (s->tx.empty()) close(s);
      return;
    }
    auto now = Clock::now();
    if (cfg.max_submits_per_second > 0 &&
        now - last_accepted < std::chrono::duration<double>(1.0 / cfg.max_submits_per_second)) {
      std::lock_guard l(mu);
      ++stats.throttled;
      return respond(s, CommandId::SubmitSmResp, p.sequence_number, smpp::status::kThrottled);
    }
    if (!ms) return respond(s, CommandId::SubmitSmResp, p.sequence_number, smpp::status::kInvDstAdr);
    last_accepted = now;
    std::string message_id = std::to_string(next_message++);
    respond(s, CommandId::SubmitSmResp, p.sequence_number, smpp::status::kOk, smpp::MessageIdResp{message_id});

    // The MT leg: SMS-DELIVER to the handset.
    ota::SmsDeliver d;
    d.tp_oa.digits = m.source_addr;
    d.tp_oa.type = static_cast<std::uint8_t>(0x80 | (m.source_addr_ton & 0x07) << 4 | (m.source_addr_npi & 0x0F));
    d.tp_pid = m.protocol_id;
    d.tp_dcs = m.data_coding;
    d.tp_scts = scts_now();
    d.tp_udhi = m.esm_class & smpp::kEsmClassUdhi;
    d.tp_sri = (m.registered_delivery & 0x03) != 0;
    d.tp_ud = m.short_message;
    DeliveryOutcome out;
    try {
      out = ms->deliver_mt(ota::encode_sms_deliver(d));
    } catch (const std::exception&) {
      out.delivered = false;
    }
    {
      std::lock_guard l(mu);
      ++(out.delivered ? stats.mt_delivered : stats.mt_failed);
    }
    std::uint8_t rd = m.registered_delivery & 0x03;
    if (rd == 1 || (rd == 2 && !out.delivered)) {
      smpp::ShortMessage r;
      r.source_addr = m.destination_addr;
      r.dest_addr_ton = m.source_addr_ton;
      r.dest_addr_npi = m.source_addr_npi;
      r.destination_addr = m.source_addr;
      r.esm_class = smpp::kEsmClassDeliveryReceipt;
      std::string date = receipt_date();
      std::string text = "id:" + message_id + " sub:001 dlvrd:" + (out.delivered ? "001" : "000") +
                         " submit date:" + date + " done date:" + date + " stat:" + (out.delivered ? "DELIVRD" : "UNDELIV") +
                         " err:000 text:";
      r.short_message = to_bytes(text);
      Bytes id = to_bytes(message_id);
      id.push_back(0);
      r.tlvs.push_back({smpp::kTagReceiptedMessageId, id});
      r.tlvs.push_back({smpp::kTagMessageState, {out.delivered ? smpp::kStateDelivered : smpp::kStateUndeliverable}});
      if (!out.report_user_data.empty()) r.tlvs.push_back({smpp::kTagMessagePayload, out.report_user_data});
      {
        std::lock_guard l(mu);
        ++stats.receipts;
      }
      deliver_to_esme(std::move(r));
    }
  }

  void deliver_to_esme(smpp::ShortMessage m) {
    pending_deliver.push_back(std::move(m));
    flush_pending();
  }

  void flush_pending() {
    std::shared_ptr<Session> to;
    for (auto& [id, s] : sessions)
      if (s->bound && s->receives && !s->closed) {
        to = s;
        break;
      }
    if (!to) return;  // kept until an ESME binds
    while (!pending_deliver.empty()) {
      smpp::Pdu p;
      p.command_id = smpp::CommandId::DeliverSm;
      p.sequence_number = to->next_seq++;
      to->unacked.emplace(p.sequence_number, pending_deliver.front());
      p.body = std::move(pending_deliver.front());
      pending_deliver.pop_front();
      send(to, p);
    }
  }
};

Smsc::Smsc(SmscConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {}
Smsc::~Smsc() { stop(); }

std::uint16_t Smsc::start() {
  Impl& i = *impl_;
  i.acceptor = std::make_unique<tcp::acceptor>(i.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), i.cfg.port));
  std::uint16_t port = i.acceptor->local_endpoint().port();
  i.work.emplace(i.io.get_executor());
  i.accept();
  i.thread = std::thread([&i] { i.io.run(); });
  return port;
}

void Smsc::stop() {
  Impl& i = *impl_;
  if (!i.thread.joinable()) return;
  asio::post(i.io, [&i] {
    boost::system::error_code ec;
    i.acceptor->close(ec);
    auto all = i.sessions;
    for (auto& [id, s] : all) i.close(s);
    i.work.reset();
    i.io.stop();
  });
  i.thread.join();
}

void Smsc::register_handset(const std::string& msisdn, MobileStation* ms) {
  std::lock_guard l(impl_->mu);
  impl_->handsets[msisdn] = ms;
}

void Smsc::submit_mo(const std::string& from_msisdn, ByteView tpdu) {
  ota::SmsSubmit s = ota::decode_sms_submit(tpdu);
  smpp::ShortMessage m;
  m.source_addr_ton = 1;  // international
  m.source_addr_npi = 1;  // ISDN
  m.source_addr = from_msisdn;
  m.destination_addr = s.tp_da.digits;
  m.esm_class = s.tp_udhi ? smpp::kEsmClassUdhi : 0;
  m.protocol_id = s.tp_pid;
  m.data_coding = s.tp_dcs;
  m.short_message = s.tp_ud;
  Impl& i = *impl_;
  {
    std::lock_guard l(i.mu);
    ++i.stats.mo_forwarded;
  }
  asio::post(i.io, [&i, m = std::move(m)]() mutable { i.deliver_to_esme(std::move(m)); });
}

void Smsc::refuse_binds(bool refuse) {
  std::lock_guard l(impl_->mu);
  impl_->refuse = refuse;
}

void Smsc::drop_connection_at_submit(std::uint64_t nth) {
  std::lock_guard l(impl_->mu);
  impl_->drop_at = nth == 0 ? 0 : impl_->stats.submits + nth;
}

void Smsc::set_max_submits_per_second(double rate) {
  asio::post(impl_->io, [i = impl_.get(), rate] { i->cfg.max_submits_per_second = rate; });
}

SmscStats Smsc::stats() const {
  std::lock_guard l(impl_->mu);
  return impl_->stats;
}

}  // namespace rsp::sim
