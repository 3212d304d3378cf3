#include "rsp/agents/agent_state.hpp"

namespace rsp::agents {

AgentState::AgentState(store::Db& db) : db_(db) {
  db_.exec(R"SQL(
CREATE TABLE IF NOT EXISTS agent_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS agent_orders (
  request_id TEXT PRIMARY KEY, subscriber TEXT NOT NULL, iccid TEXT NOT NULL,
  status TEXT NOT NULL, usage_reports INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS agent_ota (
  request_id TEXT PRIMARY KEY, iccid TEXT NOT NULL, slot INTEGER NOT NULL, command_id TEXT NOT NULL);
)SQL");
}

std::int64_t AgentState::cursor() {
  std::int64_t c = 0;
  db_.query("SELECT v FROM agent_meta WHERE k = 'cursor'", {}, [&](const store::Row& r) { c = r.i64(0); });
  return c;
}

void AgentState::set_cursor(std::int64_t p) {
  db_.run("INSERT OR REPLACE INTO agent_meta (k, v) VALUES ('cursor', ?)", {p});
}

void AgentState::put(const Order& o) {
  db_.run("INSERT OR REPLACE INTO agent_orders (request_id, subscriber, iccid, status, usage_reports) "
          "VALUES (?,?,?,?,?)",
          {o.request_id, o.subscriber, o.iccid, o.status, o.usage_reports});
}

namespace {
Order from_row(const store::Row& r) { return Order{r.text(0), r.text(1), r.text(2), r.text(3), r.i64(4)}; }
}  // namespace

std::optional<Order> AgentState::order(const std::string& id) {
  std::optional<Order> o;
  db_.query("SELECT request_id, subscriber, iccid, status, usage_reports FROM agent_orders WHERE request_id = ?",
            {id}, [&](const store::Row& r) { o = from_row(r); });
  return o;
}

std::optional<Order> AgentState::order_by_iccid(const std::string& iccid) {
  std::optional<Order> o;
  db_.query("SELECT request_id, subscriber, iccid, status, usage_reports FROM agent_orders WHERE iccid = ?",
            {iccid}, [&](const store::Row& r) { o = from_row(r); });
  return o;
}

std::vector<Order> AgentState::orders_with_status(const std::string& status) {
  std::vector<Order> out;
  db_.query("SELECT request_id, subscriber, iccid, status, usage_reports FROM agent_orders WHERE status = ? "
            "ORDER BY request_id",
            {status}, [&](const store::Row& r) { out.push_back(from_row(r)); });
  return out;
}

void AgentState::put_ota(const OtaJob& j) {
  db_.run("INSERT OR REPLACE INTO agent_ota (request_id, iccid, slot, command_id) VALUES (?,?,?,?)",
          {j.request_id, j.iccid, static_cast<std::int64_t>(j.slot), j.command_id});
}

std::optional<OtaJob> AgentState::ota(const std::string& id) {
  std::optional<OtaJob> j;
  db_.query("SELECT request_id, iccid, slot, command_id FROM agent_ota WHERE request_id = ?", {id},
            [&](const store::Row& r) { j = OtaJob{r.text(0), r.text(1), static_cast<int>(r.i64(2)), r.text(3)}; });
  return j;
}

int AgentState::next_slot(const std::string& iccid) {
  std::int64_t top = 0;
  db_.query("SELECT COALESCE(MAX(slot), 0) FROM agent_ota WHERE iccid = ?", {iccid},
            [&](const store::Row& r) { top = r.i64(0); });
  return static_cast<int>(top + 1);
}

}  // namespace rsp::agents
