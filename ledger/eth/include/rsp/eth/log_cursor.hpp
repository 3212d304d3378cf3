// Reads a contract's events with eth_getLogs from a block cursor kept in
// SQLite, in bounded block ranges. The cursor moves only when the caller
// acknowledges a batch, so after a restart no event is missed and no
// acknowledged batch is delivered again (at-least-once for an
// unacknowledged batch; exactly-once when the caller acknowledges inside
// the same SQLite transaction as its own writes, see ack()).
#pragma once
#include <cstdint>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rsp/eth/json_rpc.hpp"
#include "rsp/store.hpp"

namespace rsp::eth {

struct LogCursorConfig {
  std::string name = "default";   // row key: several cursors may share one Db
  std::vector<Address> addresses; // contracts watched (empty = all)
  std::vector<std::vector<Bytes>> topics;  // eth_getLogs topic filter
  std::uint64_t start_block = 0;  // where a new cursor starts
  std::uint64_t max_range = 1'000;  // blocks per eth_getLogs (nodes cap ranges)
  std::uint64_t confirmations = 0;  // stay this many blocks behind the head (0 for QBFT: final)
};

class LogCursor {
 public:
  // One batch: the logs of blocks [from_block, to_block], in chain order.
  struct Batch {
    std::uint64_t from_block = 0;
    std::uint64_t to_block = 0;
    std::vector<Log> logs;
  };

  // Creates table eth_log_cursor(name TEXT PRIMARY KEY, next_block INTEGER)
  // if needed and reads this cursor's row (start_block if none).
  // `rpc` and `db` must outlive the cursor.
  LogCursor(JsonRpc& rpc, store::Db& db, LogCursorConfig config);

  // The next unread range, up to max_range blocks and not past
  // head - confirmations; nullopt when there is nothing new. Does not move
  // the cursor: fetching again returns the same range.
  std::optional<Batch> fetch();
  // Moves the cursor past `batch` (one UPDATE). Called inside the caller's
  // store::Transaction on the same Db, it commits with the caller's writes.
  // Throws StoreError when the cursor is no longer at batch.from_block
  // (another process acknowledged it).
  void ack(const Batch& batch);
  // fetch + handle + ack, repeated until caught up or max_batches done.
  // If `handle` throws, the batch is not acknowledged and the exception
  // propagates. Returns the number of logs handled.
  std::size_t poll(const std::function<void(const Batch&)>& handle, std::size_t max_batches = SIZE_MAX);

  // The first block not yet acknowledged (read from the Db).
  std::uint64_t next_block() const;

 private:
  JsonRpc& rpc_;
  store::Db& db_;
  LogCursorConfig config_;
};

}  // namespace rsp::eth
