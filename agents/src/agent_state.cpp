#include "rsp/agents/agent_state.hpp"

namespace rsp::agents {

AgentState::AgentState(store::Db& db) : db_(db) {
  db_.exec(R"SQL(
CREATE TABLE IF NOT EXISTS agent_meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS agent_orders (
  request_id TEXT PRIMARY KEY, subscriber TEXT NOT NULL, iccid TEXT NOT NULL,
  status TEXT NOT NULL, usage_reports INTEGER NOT NULL);
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

}  // namespace rsp::agents
