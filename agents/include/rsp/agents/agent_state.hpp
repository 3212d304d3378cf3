// What an agent remembers across restarts, in its own SQLite file: the
// ledger cursor (the last event it handled) and its orders. The cursor is
// advanced only after an event is handled, so a restart repeats nothing
// handled and misses nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsp/store.hpp"

namespace rsp::agents {

struct Order {
  std::string request_id;
  std::string subscriber;   // home side: its pseudonym; visited side: empty
  std::string iccid;
  std::string status;       // accepted, delivered, active, closed (no activation code is kept)
  std::int64_t usage_reports = 0;
};

// The home side of an account order on a multi-account SIM: the card's
// applet slot chosen for it and the otad command in flight (empty: none).
struct OtaJob {
  std::string request_id, iccid;
  int slot = 0;
  std::string command_id;
};

class AgentState {
 public:
  explicit AgentState(store::Db& db);
  std::int64_t cursor();
  void set_cursor(std::int64_t position);
  void put(const Order& o);
  std::optional<Order> order(const std::string& request_id);
  std::optional<Order> order_by_iccid(const std::string& iccid);
  std::vector<Order> orders_with_status(const std::string& status);

  void put_ota(const OtaJob& j);
  std::optional<OtaJob> ota(const std::string& request_id);
  // The next free applet slot of a card: one above the highest given out.
  int next_slot(const std::string& iccid);

 private:
  store::Db& db_;
};

}  // namespace rsp::agents
