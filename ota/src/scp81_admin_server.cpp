// SCP81 admin sessions on the OTA server (GlobalPlatform Amendment B 3.3-3.7,
// ETSI TS 102 226 annex B); see scp81_admin_server.hpp.
#include "rsp/ota/scp81_admin_server.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "rsp/crypto.hpp"
#include "rsp/ota/scp81_protocol.hpp"

namespace rsp::ota::scp81 {

using Clock = std::chrono::steady_clock;

std::optional<CardPsk> StaticPskKeySource::lookup(std::string_view psk_identity) const {
  auto it = keys_.find(psk_identity);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

const char* outcome_name(SessionOutcome o) {
  switch (o) {
    case SessionOutcome::Completed: return "completed";
    case SessionOutcome::ScriptStatusError: return "script status error";
    case SessionOutcome::MalformedResponse: return "malformed response";
    case SessionOutcome::TimedOut: return "timed out";
    case SessionOutcome::Stopped: return "stopped";
  }
  return "?";
}

namespace {

struct Session {
  std::mutex m;
  SessionView view;
  std::string expected_path;  // the Next-URI the card must post to
  Clock::time_point last_seen;
  std::string last_status;
  bool ended = false;
};

http::Response admin_response(int status) {
  http::Response r = http::Response::empty(status);
  r.headers.set(kHeaderProtocol, kProtocol);
  return r;
}

http::Response admin_error(int status, std::string text) {
  http::Response r = http::Response::text(status, std::move(text));
  r.headers.set(kHeaderProtocol, kProtocol);
  return r;
}

}  // namespace

struct AdminServer::Impl {
  AdminServerConfig cfg;
  std::shared_ptr<const PskKeySource> keys;
  ScriptSource scripts;
  ReportSink report;
  std::unique_ptr<http::Server> server;

  mutable std::mutex m;  // sessions
  std::map<std::string, std::shared_ptr<Session>> sessions;

  std::mutex reaper_m;
  std::condition_variable reaper_cv;
  bool stopping = false;
  std::thread reaper;

  void emit(SessionReport r) {
    if (report) report(r);
  }

  SessionReport make_report(Session& s, SessionOutcome o, std::string detail) {
    SessionReport r;
    r.session_id = s.view.session_id;
    r.card_id = s.view.card_id;
    r.outcome = o;
    r.detail = std::move(detail);
    r.script_status = s.last_status;
    r.rounds = s.view.round;
    r.responses = s.view.responses;
    return r;
  }

  void drop(const std::string& id) {
    std::lock_guard lk(m);
    sessions.erase(id);
  }

  // The next script, or the end of the session (204). Holds s.m.
  http::Response next_or_end(Session& s, std::optional<SessionReport>& done) {
    std::optional<AdminScript> next;
    if (scripts) next = scripts(s.view);
    if (!next) {
      s.ended = true;
      done = make_report(s, SessionOutcome::Completed, "");
      return admin_response(204);
    }
    ++s.view.round;
    s.expected_path = cfg.admin_path + "/" + s.view.session_id + "/" + std::to_string(s.view.round);
    http::Response r;
    r.status = 200;
    r.headers.set(kHeaderProtocol, kProtocol);
    r.headers.set("Content-Type", kMediaCommand);
    r.headers.set(kHeaderNextUri, s.expected_path);
    if (next->targeted_application) r.headers.set(kHeaderTargetedApplication, *next->targeted_application);
    // Expanded format only: the HTTP transport carries TS 102 226 5.2 scripts.
    CommandScript script = next->script;
    script.format = ScriptFormat::Expanded;
    r.body = to_string(encode_command_script(script));
    return r;
  }

  http::Response open_session(const http::Request& req, const CardPsk& card) {
    auto s = std::make_shared<Session>();
    s->view.session_id = to_hex(crypto::random_bytes(8));
    s->view.card_id = card.card_id;
    s->view.psk_identity = *req.psk_identity;
    s->view.admin_from = req.headers.get_or(kHeaderFrom, "");
    s->last_seen = Clock::now();
    {
      std::lock_guard lk(m);
      if (sessions.size() >= cfg.max_sessions) return admin_error(503, "too many admin sessions\n");
      sessions[s->view.session_id] = s;
    }
    std::optional<SessionReport> done;
    http::Response r;
    {
      std::lock_guard lk(s->m);
      r = next_or_end(*s, done);
    }
    if (done) {
      drop(s->view.session_id);
      emit(std::move(*done));
    }
    return r;
  }

  http::Response continue_session(const http::Request& req, const std::string& id) {
    std::shared_ptr<Session> s;
    {
      std::lock_guard lk(m);
      auto it = sessions.find(id);
      if (it != sessions.end()) s = it->second;
    }
    if (!s) return admin_error(404, "no such admin session\n");
    std::optional<SessionReport> done;
    http::Response r;
    {
      std::lock_guard lk(s->m);
      if (s->ended) return admin_error(404, "no such admin session\n");
      // Only the card that opened the session continues it.
      if (*req.psk_identity != s->view.psk_identity) return admin_error(404, "no such admin session\n");
      if (req.path() != s->expected_path) return admin_error(409, "not the X-Admin-Next-URI of this session\n");
      s->last_seen = Clock::now();
      auto status_text = req.headers.get(kHeaderScriptStatus);
      auto status = status_text ? parse_script_status(*status_text) : std::nullopt;
      s->last_status = status_text.value_or("");
      if (!status) {
        s->ended = true;
        done = make_report(*s, SessionOutcome::MalformedResponse, "missing or unknown X-Admin-Script-Status");
        r = admin_error(400, "missing or unknown X-Admin-Script-Status\n");
      } else if (*status != ScriptStatus::Ok) {
        // Amendment B 3.5.2: no response script comes with an error status.
        s->ended = true;
        done = make_report(*s, SessionOutcome::ScriptStatusError,
                           "card answered " + std::string(script_status_name(*status)));
        r = admin_response(204);
      } else if (!same_media_type(req.headers.get_or("Content-Type", ""), kMediaResponse)) {
        s->ended = true;
        done = make_report(*s, SessionOutcome::MalformedResponse, "response script of another media type");
        r = admin_error(415, "expected " + std::string(kMediaResponse) + "\n");
      } else {
        std::optional<ResponseScript> rs;
        try {
          Bytes body = to_bytes(req.body);
          if (body.empty() || (body[0] != kTagResponseScriptDefinite && body[0] != kTagResponseScriptIndefinite))
            throw DecodeError("not a Response Scripting template ('AB'/'AF')");
          rs = decode_response_script(ScriptFormat::Expanded, body);
        } catch (const DecodeError& e) {
          s->ended = true;
          done = make_report(*s, SessionOutcome::MalformedResponse, std::string("response script: ") + e.what());
          r = admin_error(400, "response script does not parse\n");
        }
        if (rs) {
          s->view.responses.push_back(std::move(*rs));
          r = next_or_end(*s, done);
        }
      }
    }
    if (done) {
      drop(id);
      emit(std::move(*done));
    }
    return r;
  }

  http::Response handle(const http::Request& req) {
    if (!req.psk_identity) return admin_error(403, "PSK-TLS only\n");
    if (req.method != "POST") return admin_error(405, "POST only\n");
    if (req.headers.get_or(kHeaderProtocol, "") != kProtocol)
      return admin_error(400, "X-Admin-Protocol must be " + std::string(kProtocol) + "\n");
    auto card = keys->lookup(*req.psk_identity);
    if (!card) return admin_error(403, "unknown PSK identity\n");
    const std::string path(req.path());
    if (path == cfg.admin_path) {
      // The card names itself in X-Admin-From (Amendment B 3.4.1); it must be
      // the card the PSK belongs to, or one card's key would open sessions
      // in another card's name.
      auto from = parse_admin_from(req.headers.get_or(kHeaderFrom, ""));
      if (!from) return admin_error(400, "missing or malformed X-Admin-From\n");
      if (!http::iequals(from->id, card->card_id)) return admin_error(403, "X-Admin-From is not this key's card\n");
      return open_session(req, *card);
    }
    const std::string prefix = cfg.admin_path + "/";
    if (path.rfind(prefix, 0) == 0) {
      std::string rest = path.substr(prefix.size());
      return continue_session(req, rest.substr(0, rest.find('/')));
    }
    return admin_error(404, "not an admin URI\n");
  }

  void expire(bool all) {
    std::vector<std::shared_ptr<Session>> gone;
    const auto now = Clock::now();
    {
      std::lock_guard lk(m);
      for (auto it = sessions.begin(); it != sessions.end();) {
        bool idle;
        {
          std::lock_guard slk(it->second->m);
          idle = all || now - it->second->last_seen > cfg.session_timeout;
          if (idle) it->second->ended = true;
        }
        if (idle) {
          gone.push_back(it->second);
          it = sessions.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& s : gone) {
      std::lock_guard slk(s->m);
      emit(make_report(*s, all ? SessionOutcome::Stopped : SessionOutcome::TimedOut,
                       all ? "server stopped" : "no POST within the session timeout"));
    }
  }
};

AdminServer::AdminServer(AdminServerConfig config, std::shared_ptr<const PskKeySource> keys, ScriptSource scripts,
                         ReportSink report)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->keys = std::move(keys);
  impl_->scripts = std::move(scripts);
  impl_->report = std::move(report);
  if (!impl_->keys) throw std::invalid_argument("AdminServer needs a PSK key source");
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() {
  Impl& I = *impl_;
  http::ServerConfig hc;
  hc.bind_address = I.cfg.bind_address;
  hc.port = I.cfg.port;
  hc.threads = I.cfg.threads;
  hc.max_body_bytes = I.cfg.max_body_bytes;
  hc.handshake_timeout = I.cfg.handshake_timeout;
  hc.header_timeout = I.cfg.header_timeout;
  hc.log = I.cfg.log;
  hc.tls.emplace();
  hc.tls->cipher_suites = I.cfg.cipher_suites;
  std::shared_ptr<const PskKeySource> keys = I.keys;
  hc.tls->psk_lookup = [keys](std::string_view identity) -> std::optional<SecretBytes> {
    auto k = keys->lookup(identity);
    if (!k) return std::nullopt;
    return k->psk;
  };
  I.server = std::make_unique<http::Server>(hc, [this](const http::Request& r) { return impl_->handle(r); });
  I.server->start();
  {
    std::lock_guard lk(I.reaper_m);
    I.stopping = false;
  }
  I.reaper = std::thread([&I] {
    const auto period = std::max<std::chrono::milliseconds>(I.cfg.session_timeout / 4, std::chrono::milliseconds(10));
    std::unique_lock lk(I.reaper_m);
    while (!I.stopping) {
      I.reaper_cv.wait_for(lk, period, [&I] { return I.stopping; });
      if (I.stopping) break;
      lk.unlock();
      I.expire(false);
      lk.lock();
    }
  });
}

void AdminServer::stop() {
  Impl& I = *impl_;
  {
    std::lock_guard lk(I.reaper_m);
    I.stopping = true;
  }
  I.reaper_cv.notify_all();
  if (I.reaper.joinable()) I.reaper.join();
  if (I.server) I.server->stop();
  I.expire(true);
}

std::uint16_t AdminServer::port() const { return impl_->server ? impl_->server->port() : 0; }

std::size_t AdminServer::open_sessions() const {
  std::lock_guard lk(impl_->m);
  return impl_->sessions.size();
}

void AdminServer::expire_sessions() { impl_->expire(false); }

http::Response AdminServer::handle(const http::Request& req) { return impl_->handle(req); }

}  // namespace rsp::ota::scp81
