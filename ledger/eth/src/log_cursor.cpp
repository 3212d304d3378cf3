#include "rsp/eth/log_cursor.hpp"

#include <algorithm>

namespace rsp::eth {

LogCursor::LogCursor(JsonRpc& rpc, store::Db& db, LogCursorConfig config)
    : rpc_(rpc), db_(db), config_(std::move(config)) {
  if (config_.max_range == 0) throw std::invalid_argument("LogCursor: max_range must be > 0");
  db_.exec("CREATE TABLE IF NOT EXISTS eth_log_cursor (name TEXT PRIMARY KEY, next_block INTEGER NOT NULL)");
  // A new cursor starts at start_block; an existing one keeps its position.
  db_.run("INSERT OR IGNORE INTO eth_log_cursor (name, next_block) VALUES (?, ?)",
          {config_.name, static_cast<std::int64_t>(config_.start_block)});
}

std::uint64_t LogCursor::next_block() const {
  std::int64_t v = -1;
  db_.query("SELECT next_block FROM eth_log_cursor WHERE name = ?", {config_.name},
            [&](const store::Row& r) { v = r.i64(0); });
  if (v < 0) throw store::StoreError("eth_log_cursor: no row for " + config_.name);
  return static_cast<std::uint64_t>(v);
}

std::optional<LogCursor::Batch> LogCursor::fetch() {
  // Re-read every time: the position lives in the Db (another process, or a
  // rolled-back caller transaction, may have left it elsewhere).
  std::uint64_t from = next_block();
  std::uint64_t head = rpc_.block_number();
  if (head < config_.confirmations) return std::nullopt;
  std::uint64_t last = head - config_.confirmations;
  if (from > last) return std::nullopt;
  Batch b;
  b.from_block = from;
  b.to_block = std::min(last, from + config_.max_range - 1);
  LogFilter f;
  f.from_block = b.from_block;
  f.to_block = b.to_block;
  f.addresses = config_.addresses;
  f.topics = config_.topics;
  b.logs = rpc_.get_logs(f);
  // Nodes return chain order already; sort anyway so callers can rely on it.
  std::stable_sort(b.logs.begin(), b.logs.end(), [](const Log& x, const Log& y) {
    return x.block_number != y.block_number ? x.block_number < y.block_number : x.log_index < y.log_index;
  });
  return b;
}

void LogCursor::ack(const Batch& batch) {
  // Compare-and-set: only moves a cursor that is still where the batch began.
  int n = db_.run("UPDATE eth_log_cursor SET next_block = ? WHERE name = ? AND next_block = ?",
                  {static_cast<std::int64_t>(batch.to_block + 1), config_.name,
                   static_cast<std::int64_t>(batch.from_block)});
  if (n != 1)
    throw store::StoreError("eth_log_cursor " + config_.name + ": not at block " + std::to_string(batch.from_block) +
                            " any more (acknowledged elsewhere?)");
}

std::size_t LogCursor::poll(const std::function<void(const Batch&)>& handle, std::size_t max_batches) {
  std::size_t handled = 0;
  for (std::size_t i = 0; i < max_batches; ++i) {
    std::optional<Batch> b = fetch();
    if (!b) break;
    handle(*b);
    ack(*b);
    handled += b->logs.size();
  }
  return handled;
}

}  // namespace rsp::eth
