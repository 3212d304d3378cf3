#include "rsp/ota/smpp_esme.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

namespace rsp::ota::smpp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Esme::Impl {
  struct Entry {
    std::uint64_t id;
    ShortMessage message;
  };
  struct InFlight {
    Entry entry;
    Clock::time_point deadline;
  };

  Impl(EsmeConfig c, EsmeHandlers h) : cfg(std::move(c)), handlers(std::move(h)) {}

  asio::io_context io;  // first: destroyed last
  EsmeConfig cfg;
  EsmeHandlers handlers;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::socket> socket;
  asio::steady_timer tick{io}, reconnect_timer{io};
  std::thread thread;
  std::uint64_t generation = 0;  // bumped per connection: late handlers of an old one do nothing
  bool connected = false, binding = false, stopping = false;
  Clock::time_point bind_deadline{}, last_rx{}, next_submit{}, pause_until{};
  std::optional<Clock::time_point> enquire_deadline;
  std::chrono::milliseconds backoff{0};
  std::uint32_t next_seq = 1;
  Bytes rx;
  std::array<std::uint8_t, 4096> rx_chunk{};
  std::deque<Bytes> tx;

  // Shared with callers' threads.
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::deque<Entry> queue;
  std::map<std::uint32_t, InFlight> inflight;
  bool is_bound = false;
  std::uint64_t next_id = 1;
  EsmeStats stats;

  void event(const std::string& s) {
    if (handlers.on_event) handlers.on_event(s);
  }

  std::uint32_t seq() {
    std::uint32_t s = next_seq++;
    if (next_seq > 0x7FFFFFFF) next_seq = 1;  // 5.1.4 sequence_number 1..7FFFFFFF
    return s;
  }

  void send(Pdu p) {
    tx.push_back(encode(p));
    if (tx.size() == 1) write_next();
  }

  void write_next() {
    if (tx.empty() || !socket) return;
    auto gen = generation;
    asio::async_write(*socket, asio::buffer(tx.front()), [this, gen](boost::system::error_code ec, std::size_t) {
      if (gen != generation) return;
      if (ec) return link_lost("write: " + ec.message());
      tx.pop_front();
      write_next();
    });
  }

  void connect() {
    if (stopping) return;
    socket = std::make_unique<tcp::socket>(io);
    auto gen = ++generation;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(cfg.host, std::to_string(cfg.port), ec);
    if (ec) return link_lost("resolve " + cfg.host + ": " + ec.message());
    asio::async_connect(*socket, endpoints, [this, gen](boost::system::error_code e, const tcp::endpoint&) {
      if (gen != generation) return;
      if (e) return link_lost("connect: " + e.message());
      connected = true;
      socket->set_option(tcp::no_delay(true), e);
      rx.clear();
      tx.clear();
      binding = true;
      bind_deadline = Clock::now() + cfg.response_timeout;
      last_rx = Clock::now();
      Pdu b;
      b.command_id = CommandId::BindTransceiver;
      b.sequence_number = seq();
      b.body = cfg.bind;
      send(std::move(b));
      read();
    });
  }

  void read() {
    auto gen = generation;
    socket->async_read_some(asio::buffer(rx_chunk), [this, gen](boost::system::error_code ec, std::size_t n) {
      if (gen != generation) return;
      if (ec) return link_lost("read: " + ec.message());
      rx.insert(rx.end(), rx_chunk.begin(), rx_chunk.begin() + static_cast<std::ptrdiff_t>(n));
      last_rx = Clock::now();
      try {
        while (auto len = pending_length(rx)) {
          if (rx.size() < *len) break;
          Pdu p = decode(ByteView(rx).first(*len));
          rx.erase(rx.begin(), rx.begin() + static_cast<std::ptrdiff_t>(*len));
          handle(std::move(p));
          if (gen != generation) return;
        }
      } catch (const SmppError& e) {
        return link_lost(std::string("bad PDU from the SMSC: ") + e.what());
      }
      read();
    });
  }

  void handle(Pdu p) {
    switch (p.command_id) {
      case CommandId::BindTransceiverResp:
        binding = false;
        if (p.command_status != status::kOk) {
          {
            std::lock_guard l(mu);
            ++stats.bind_refusals;
          }
          event("bind refused: " + status_name(p.command_status));
          return link_lost("bind refused");
        }
        {
          std::lock_guard l(mu);
          is_bound = true;
          ++stats.binds;
        }
        backoff = std::chrono::milliseconds(0);
        cv.notify_all();
        event("bound to " + cfg.host + ":" + std::to_string(cfg.port));
        pump();
        return;
      case CommandId::SubmitSmResp:
      case CommandId::GenericNack: {
        std::optional<Entry> done;
        bool retry = false;
        {
          std::lock_guard l(mu);
          auto it = inflight.find(p.sequence_number);
          if (it == inflight.end()) return;  // a response to a PDU of ours that is no longer waiting
          if (p.command_status == status::kThrottled || p.command_status == status::kMsgQFul) {
            queue.push_front(std::move(it->second.entry));
            ++stats.throttled;
            retry = true;
          } else {
            done = std::move(it->second.entry);
          }
          inflight.erase(it);
        }
        if (retry) {
          pause_until = Clock::now() + cfg.throttled_pause;
          event("SMSC says " + status_name(p.command_status) + ": pausing");
        } else if (handlers.on_submit_result) {
          SubmitResult r;
          r.id = done->id;
          r.command_status = p.command_status;
          if (auto* m = std::get_if<MessageIdResp>(&p.body)) r.message_id = m->message_id;
          handlers.on_submit_result(r);
        }
        cv.notify_all();
        pump();
        return;
      }
      case CommandId::DeliverSm: {
        Pdu resp;
        resp.command_id = CommandId::DeliverSmResp;
        resp.sequence_number = p.sequence_number;
        resp.body = MessageIdResp{};
        // Answered once handled: the sender records a PoR in the store
        // before returning, so a crash before the response leaves the SMSC
        // holding the message, to deliver again after the next bind.
        if (handlers.on_deliver) {
          if (auto* m = std::get_if<ShortMessage>(&p.body)) handlers.on_deliver(*m);
        }
        send(std::move(resp));
        return;
      }
      case CommandId::EnquireLink: {
        Pdu resp;
        resp.command_id = CommandId::EnquireLinkResp;
        resp.sequence_number = p.sequence_number;
        send(std::move(resp));
        return;
      }
      case CommandId::EnquireLinkResp:
        enquire_deadline.reset();
        return;
      case CommandId::Unbind: {
        Pdu resp;
        resp.command_id = CommandId::UnbindResp;
        resp.sequence_number = p.sequence_number;
        send(std::move(resp));
        return link_lost("the SMSC unbound");
      }
      default: {
        if (p.is_response()) return;
        Pdu nack;
        nack.command_id = CommandId::GenericNack;
        nack.command_status = status::kInvCmdId;
        nack.sequence_number = p.sequence_number;
        send(std::move(nack));
      }
    }
  }

  void pump() {
    auto now = Clock::now();
    std::lock_guard l(mu);
    if (!is_bound) return;
    while (!queue.empty() && inflight.size() < cfg.window && now >= pause_until && now >= next_submit) {
      Entry e = std::move(queue.front());
      queue.pop_front();
      Pdu p;
      p.command_id = CommandId::SubmitSm;
      p.sequence_number = seq();
      p.body = e.message;
      tx.push_back(encode(p));
      if (tx.size() == 1) write_next();
      inflight.emplace(p.sequence_number, InFlight{std::move(e), now + cfg.response_timeout});
      ++stats.submits_written;
      if (cfg.max_submits_per_second > 0)
        next_submit = now + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(1.0 / cfg.max_submits_per_second));
    }
  }

  void link_lost(const std::string& why) {
    if (socket) {
      boost::system::error_code ignored;
      socket->close(ignored);
    }
    ++generation;
    bool was_connected = connected;
    connected = binding = false;
    enquire_deadline.reset();
    tx.clear();
    std::size_t back = 0;
    {
      std::lock_guard l(mu);
      is_bound = false;
      // Waiting submits go back, oldest first, ahead of the rest: same messages, same order.
      for (auto it = inflight.rbegin(); it != inflight.rend(); ++it) queue.push_front(std::move(it->second.entry));
      back = inflight.size();
      inflight.clear();
      stats.resubmits += back;
      if (was_connected) ++stats.link_losses;
    }
    cv.notify_all();
    if (stopping) return;
    event("link lost (" + why + "); " + std::to_string(back) + " submits to send again; reconnecting");
    backoff = backoff.count() == 0 ? cfg.reconnect_delay : std::min(backoff * 2, cfg.max_reconnect_delay);
    reconnect_timer.expires_after(backoff);
    reconnect_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) connect();
    });
  }

  void on_tick() {
    if (stopping) return;
    auto now = Clock::now();
    if (connected) {
      bool expired = false;
      {
        std::lock_guard l(mu);
        for (auto& [s, f] : inflight)
          if (now > f.deadline) expired = true;
      }
      if (binding && now > bind_deadline) expired = true;
      if (enquire_deadline && now > *enquire_deadline) expired = true;
      if (expired) {
        link_lost("no response within " + std::to_string(cfg.response_timeout.count()) + " ms");
      } else if (!binding) {
        if (!enquire_deadline && now - last_rx > cfg.enquire_link_interval) {
          Pdu e;
          e.command_id = CommandId::EnquireLink;
          e.sequence_number = seq();
          send(std::move(e));
          enquire_deadline = now + cfg.response_timeout;
          last_rx = now;
        }
        pump();
      }
    }
    tick.expires_after(std::chrono::milliseconds(5));
    tick.async_wait([this](boost::system::error_code ec) {
      if (!ec) on_tick();
    });
  }
};

Esme::Esme(EsmeConfig config, EsmeHandlers handlers)
    : impl_(std::make_shared<Impl>(std::move(config), std::move(handlers))) {}

Esme::~Esme() { stop(); }

void Esme::start() {
  Impl& i = *impl_;
  if (i.thread.joinable()) return;
  i.work.emplace(i.io.get_executor());
  asio::post(i.io, [&i] {
    i.connect();
    i.on_tick();
  });
  i.thread = std::thread([&i] { i.io.run(); });
}

void Esme::stop() {
  Impl& i = *impl_;
  if (!i.thread.joinable()) return;
  asio::post(i.io, [&i] {
    i.stopping = true;
    if (i.is_bound && i.socket) {
      // 4.2.1: unbind; we do not wait for unbind_resp past the write.
      Pdu u;
      u.command_id = CommandId::Unbind;
      u.sequence_number = i.seq();
      boost::system::error_code ec;
      asio::write(*i.socket, asio::buffer(encode(u)), ec);
    }
    i.link_lost("stopped");
    i.tick.cancel();
    i.reconnect_timer.cancel();
    i.work.reset();
    i.io.stop();
  });
  i.thread.join();
}

std::uint64_t Esme::submit(ShortMessage m) {
  Impl& i = *impl_;
  std::uint64_t id;
  {
    std::lock_guard l(i.mu);
    id = i.next_id++;
    i.queue.push_back({id, std::move(m)});
  }
  asio::post(i.io, [&i] { i.pump(); });
  return id;
}

bool Esme::bound() const {
  std::lock_guard l(impl_->mu);
  return impl_->is_bound;
}

std::size_t Esme::outstanding() const {
  std::lock_guard l(impl_->mu);
  return impl_->queue.size() + impl_->inflight.size();
}

bool Esme::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock l(impl_->mu);
  return impl_->cv.wait_for(l, timeout, [&] { return impl_->queue.empty() && impl_->inflight.empty(); });
}

bool Esme::wait_bound(std::chrono::milliseconds timeout) const {
  std::unique_lock l(impl_->mu);
  return impl_->cv.wait_for(l, timeout, [&] { return impl_->is_bound; });
}

EsmeStats Esme::stats() const {
  std::lock_guard l(impl_->mu);
  return impl_->stats;
}

}  // namespace rsp::ota::smpp
