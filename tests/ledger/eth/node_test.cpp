// JsonRpc, Sender and LogCursor against a real node: anvil on 127.0.0.1, on
// a free port, started by pid and stopped at the end. Skipped when no anvil
// binary is found ($RSP_ANVIL, the RSP_ANVIL CMake cache entry, or the one
// ledger/contracts/node_modules installs).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "rsp/eth/abi.hpp"
#include "rsp/eth/json_rpc.hpp"
#include "rsp/eth/keccak.hpp"
#include "rsp/eth/log_cursor.hpp"
#include "rsp/eth/sender.hpp"
#include "rsp/eth/transaction.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::eth;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// anvil's funded dev accounts 0 and 1 (public test keys).
constexpr const char* kDevKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kDevKey1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

// The anvil binary: $RSP_ANVIL, else the one npm installed (found at configure time).
std::string anvil_path() {
  if (const char* e = std::getenv("RSP_ANVIL"); e && *e) return e;
  return ledger::AnvilNode::default_path();
}

// Free gas and room for large bursts; automine unless `block_time`.
std::unique_ptr<ledger::AnvilNode> start_anvil(bool block_time) {
  ledger::AnvilNode::Options o;
  o.anvil_path = anvil_path();
  o.free_gas = true;
  o.gas_limit = 300'000'000;
  if (block_time) o.block_time_seconds = 1;
  return std::make_unique<ledger::AnvilNode>(o);
}

// ---- hand-assembled contracts ----

// Init code that deploys `runtime`: CODECOPY it to memory, RETURN it.
Bytes deployer(const Bytes& runtime) {
  Bytes init = {0x61, static_cast<std::uint8_t>(runtime.size() >> 8), static_cast<std::uint8_t>(runtime.size()),  // PUSH2 len
                0x80,              // DUP1
                0x60, 0x0c,        // PUSH1 12 (init code length)
                0x60, 0x00,        // PUSH1 0
                0x39,              // CODECOPY(dest 0, offset 12, len)
                0x60, 0x00,        // PUSH1 0
                0xf3};             // RETURN(0, len)
  append(init, runtime);
  return init;
}

// Returns the constant 42 for any call.
Bytes constant_runtime() { return from_hex("602a60005260206000f3"); }

const char* kPing = "Ping(uint256)";

// With calldata: LOG2(topic0 = Ping(uint256), topic1 = calldata word 0,
// data = calldata). Without: revert with Error("RSP:beyond-escrow").
Bytes logger_runtime() {
  Bytes revert_data = encode_call("Error(string)", {"RSP:beyond-escrow"});
  Bytes rt = {0x36, 0x15, 0x61, 0x00, 0x00, 0x57,  // CALLDATASIZE ISZERO PUSH2 <revert> JUMPI
              0x36, 0x60, 0x00, 0x60, 0x00, 0x37,  // CALLDATACOPY(0, 0, CALLDATASIZE)
              0x60, 0x00, 0x35,                    // topic1 = CALLDATALOAD(0)
              0x7f};                               // PUSH32 topic0
  append(rt, event_topic(kPing));
  append(rt, Bytes{0x36, 0x60, 0x00, 0xa2, 0x00});  // LOG2(0, CALLDATASIZE, topic0, topic1) STOP
  std::size_t revert_at = rt.size();
  rt[3] = static_cast<std::uint8_t>(revert_at >> 8);
  rt[4] = static_cast<std::uint8_t>(revert_at);
  auto len = static_cast<std::uint8_t>(revert_data.size());
  append(rt, Bytes{0x5b,                                      // JUMPDEST
                   0x60, len, 0x61, 0x00, 0x00, 0x60, 0x00, 0x39,  // CODECOPY(0, <data>, len)
                   0x60, len, 0x60, 0x00, 0xfd});             // REVERT(0, len)
  std::size_t data_at = rt.size();
  rt[revert_at + 4] = static_cast<std::uint8_t>(data_at >> 8);
  rt[revert_at + 5] = static_cast<std::uint8_t>(data_at);
  append(rt, revert_data);
  return rt;
}

Bytes ping(std::uint64_t n) {
  auto w = U256(n).to_be32();
  return Bytes(w.begin(), w.end());
}

}  // namespace

class NodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ledger::AnvilNode::unavailable_reason(anvil_path())) return;
    try {
      anvil_ = start_anvil(false).release();
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete anvil_;
    anvil_ = nullptr;
  }
  void SetUp() override {
    // Absent: skip. Present but broken: a failure, not a silent skip.
    if (!start_error_.empty()) FAIL() << start_error_;
    if (!anvil_) GTEST_SKIP() << "no anvil binary: set RSP_ANVIL to the anvil executable, or run `npm ci` in "
                                 "ledger/contracts";
    rpc_ = std::make_unique<JsonRpc>(anvil_->url());
  }

  Address deploy(Sender& s, const Bytes& runtime) {
    Receipt r = s.send_and_wait(std::nullopt, deployer(runtime));
    EXPECT_TRUE(r.contract_address.has_value());
    return r.contract_address.value_or(Address{});
  }

  static inline ledger::AnvilNode* anvil_ = nullptr;
  static inline std::string start_error_;
  std::unique_ptr<JsonRpc> rpc_;
};

TEST_F(NodeTest, RpcBasics) {
  EXPECT_EQ(rpc_->chain_id(), 31337u);  // anvil's default
  auto dev = Secp256k1Key::from_hex(kDevKey0);
  EXPECT_GT(rpc_->get_balance(dev.address()), ether(1000));
  EXPECT_GE(rpc_->get_latest_block_timestamp(), 1'600'000'000u);
  EXPECT_EQ(rpc_->base_fee(), std::optional<U256>(U256(0)));
  try {
    rpc_->call("no_such_method");
    FAIL() << "expected RpcError";
  } catch (const RpcError& e) {
    EXPECT_NE(e.code, 0);
  }
  EXPECT_EQ(rpc_->get_transaction_receipt(Bytes(32, 0x11)), std::nullopt);
}

TEST_F(NodeTest, ValueTransferAndContractCreation) {
  auto key = Secp256k1Key::from_hex(kDevKey0);
  Sender s(*rpc_, key, SenderConfig{.chain_id = 31337});
  auto to = Secp256k1Key::generate().address();
  std::uint64_t nonce0 = s.next_nonce();

  Receipt r = s.send_and_wait(to, {}, ether(2), 21000);
  EXPECT_TRUE(r.status);
  EXPECT_EQ(r.gas_used, 21000u);
  EXPECT_EQ(r.from, key.address());
  EXPECT_EQ(rpc_->get_balance(to), ether(2));
  EXPECT_EQ(s.next_nonce(), nonce0 + 1);

  // Contract creation: the address is the CREATE address of (sender, nonce).
  Receipt c = s.send_and_wait(std::nullopt, deployer(constant_runtime()));
  ASSERT_TRUE(c.contract_address.has_value());
  EXPECT_EQ(*c.contract_address, contract_address(key.address(), nonce0 + 1));
  EXPECT_EQ(rpc_->get_code(*c.contract_address), constant_runtime());
  CallRequest call;
  call.to = c.contract_address;
  Bytes out = rpc_->eth_call(call);
  EXPECT_EQ(decode("(uint256)", out)[0].as_uint(), U256(42));
  EXPECT_GT(rpc_->estimate_gas(call), 21000u);
  // The receipt's hash is keccak of the raw bytes we sent.
  EXPECT_EQ(r.tx_hash.size(), 32u);
}

TEST_F(NodeTest, RefusesChainIdMismatch) {
  EXPECT_THROW(Sender(*rpc_, Secp256k1Key::from_hex(kDevKey0), SenderConfig{.chain_id = 1}), SenderError);
}

TEST_F(NodeTest, RevertReasonsReachTheCaller) {
  Sender s(*rpc_, Secp256k1Key::from_hex(kDevKey0));
  Address logger = deploy(s, logger_runtime());

  // eth_call: RpcError with the decoded reason.
  CallRequest call;
  call.from = s.address();
  call.to = logger;
  try {
    rpc_->eth_call(call);
    FAIL() << "expected a revert";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.revert_reason, std::optional<std::string>("RSP:beyond-escrow"));
    EXPECT_EQ(decode_revert_reason(e.revert_data()), std::optional<std::string>("RSP:beyond-escrow"));
  }

  // Preflight (default on): refused before signing, no nonce spent.
  std::uint64_t n = s.next_nonce();
  try {
    s.send(logger, {}, 0, 100000);
    FAIL() << "expected TxReverted";
  } catch (const TxReverted& e) {
    EXPECT_EQ(e.reason, std::optional<std::string>("RSP:beyond-escrow"));
    EXPECT_TRUE(e.tx_hash.empty());
    EXPECT_FALSE(e.receipt.has_value());
  }
  EXPECT_EQ(s.next_nonce(), n);
  // Without a gas limit, eth_estimateGas is the preflight.
  EXPECT_THROW(s.send(logger, {}), TxReverted);
  EXPECT_EQ(s.next_nonce(), n);

  // Without preflight: mined with status 0; the reason comes from replaying
  // the call at the receipt's block.
  Sender raw(*rpc_, Secp256k1Key::from_hex(kDevKey0), SenderConfig{.preflight = false});
  try {
    raw.send_and_wait(logger, {}, 0, 100000);
    FAIL() << "expected TxReverted";
  } catch (const TxReverted& e) {
    EXPECT_EQ(e.reason, std::optional<std::string>("RSP:beyond-escrow"));
    EXPECT_FALSE(e.tx_hash.empty());
    ASSERT_TRUE(e.receipt.has_value());
    EXPECT_FALSE(e.receipt->status);
    EXPECT_EQ(std::string(e.what()), "transaction reverted: RSP:beyond-escrow");
  }
  EXPECT_EQ(raw.next_nonce(), n + 1);  // a mined failure spends its nonce
}

TEST_F(NodeTest, TwoSendersOnOneKeyResyncTheNonce) {
  auto key = Secp256k1Key::from_hex(kDevKey1);
  Sender a(*rpc_, key);
  Sender b(*rpc_, key);
  ASSERT_EQ(a.next_nonce(), b.next_nonce());
  std::uint64_t n = a.next_nonce();
  auto to = Secp256k1Key::generate().address();
  EXPECT_TRUE(a.send_and_wait(to, {}, 1, 21000).status);
  // b still holds nonce n: "nonce too low", resync, retried once with n + 1.
  Receipt rb = b.send_and_wait(to, {}, 2, 21000);
  EXPECT_TRUE(rb.status);
  EXPECT_EQ(b.next_nonce(), n + 2);
  // a is now behind: same story the other way.
  EXPECT_TRUE(a.send_and_wait(to, {}, 3, 21000).status);
  EXPECT_EQ(a.next_nonce(), n + 3);
  EXPECT_EQ(rpc_->get_transaction_count(key.address(), "latest"), n + 3);
  EXPECT_EQ(rpc_->get_balance(to), U256(6));
}

TEST_F(NodeTest, ConcurrentSendsFromOneSender) {
  auto key = Secp256k1Key::from_hex(kDevKey1);
  Sender s(*rpc_, key, SenderConfig{.max_fee_per_gas = U256(0), .max_priority_fee_per_gas = U256(0)});
  std::uint64_t n0 = s.next_nonce();
  auto to = Secp256k1Key::generate().address();
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> hashes;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        std::string h = s.send(to, {}, 1, 21000);
        std::lock_guard lock(mu);
        hashes.push_back(h);
      }
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(hashes.size(), 40u);
  for (const auto& h : hashes) EXPECT_TRUE(s.wait_for_receipt(h).status);
  EXPECT_EQ(s.next_nonce(), n0 + 40);
  EXPECT_EQ(rpc_->get_balance(to), U256(40));
}

TEST_F(NodeTest, LogCursorSurvivesReopen) {
  Sender s(*rpc_, Secp256k1Key::from_hex(kDevKey0));
  Address logger = deploy(s, logger_runtime());
  std::uint64_t start = rpc_->block_number();
  for (std::uint64_t i = 1; i <= 7; ++i) {
    Receipt r = s.send_and_wait(logger, ping(i));
    ASSERT_EQ(r.logs.size(), 1u);
    EXPECT_EQ(r.logs[0].address, logger);
    EXPECT_EQ(r.logs[0].topics[0], event_topic(kPing));
    EXPECT_EQ(topic_uint(r.logs[0].topics[1]), U256(i));
  }

  fs::path db_path = fs::temp_directory_path() / ("rsp-eth-cursor-" + std::to_string(::getpid()) + ".db");
  fs::remove(db_path);
  LogCursorConfig cfg;
  cfg.name = "logger";
  cfg.addresses = {logger};
  cfg.topics = {{event_topic(kPing)}};
  cfg.start_block = start;
  cfg.max_range = 2;  // several batches for 7 one-tx blocks

  std::vector<std::uint64_t> seen;
  auto collect = [&](const LogCursor::Batch& b) {
    for (const auto& l : b.logs) seen.push_back(topic_uint(l.topics[1]).as_u64());
  };
  {
    store::Db db(db_path.string());
    LogCursor cur(*rpc_, db, cfg);
    // A handler that fails leaves the batch unacknowledged.
    EXPECT_THROW(cur.poll([](const LogCursor::Batch&) { throw std::runtime_error("crash"); }), std::runtime_error);
    EXPECT_EQ(cur.next_block(), start);
    cur.poll(collect, 2);  // two batches, then the "process" stops
    EXPECT_EQ(cur.next_block(), start + 4);
    // A fetched but unacknowledged batch is delivered again after restart.
    auto pending = cur.fetch();
    ASSERT_TRUE(pending.has_value());
  }
  {
    store::Db db(db_path.string());  // restart: a new connection on the same file
    LogCursor cur(*rpc_, db, cfg);
    EXPECT_EQ(cur.next_block(), start + 4);
    cur.poll(collect);
    EXPECT_EQ(cur.next_block(), rpc_->block_number() + 1);
    EXPECT_FALSE(cur.fetch().has_value());  // caught up
    // Acknowledging a stale batch is refused (compare-and-set).
    LogCursor::Batch stale{start, start + 1, {}};
    EXPECT_THROW(cur.ack(stale), store::StoreError);
  }
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));  // none missed, none twice
  fs::remove(db_path);
  fs::remove(db_path.string() + "-wal");
  fs::remove(db_path.string() + "-shm");
}

// Block-time mode, as production runs: a burst of signed transactions from
// one Sender, then every receipt. Prints the rate for the report.
TEST_F(NodeTest, BurstInBlockTimeMode) {
  auto chain = start_anvil(true);
  JsonRpc rpc(chain->url());
  Sender s(rpc, Secp256k1Key::from_hex(kDevKey0),
           SenderConfig{.preflight = false, .max_fee_per_gas = U256(0), .max_priority_fee_per_gas = U256(0)});
  auto to = Secp256k1Key::generate().address();
  const int n = 500;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> hashes;
  for (int i = 0; i < n; ++i) hashes.push_back(s.send(to, {}, 1, 21000));
  auto t1 = std::chrono::steady_clock::now();
  std::set<std::uint64_t> blocks;
  for (const auto& h : hashes) {
    Receipt r = s.wait_for_receipt(h);
    EXPECT_TRUE(r.status);
    blocks.insert(r.block_number);
  }
  auto t2 = std::chrono::steady_clock::now();
  double send_s = std::chrono::duration<double>(t1 - t0).count();
  double all_s = std::chrono::duration<double>(t2 - t0).count();
  std::printf("[ speed    ] %d tx sent in %.2f s (%.0f tx/s accepted), all mined in %.2f s over %zu blocks\n", n,
              send_s, n / send_s, all_s, blocks.size());
  EXPECT_EQ(rpc.get_balance(to), U256(n));

  // Two Senders on one key while their transactions are still pending (not
  // mined): the second one's nonce collides in the pool, it re-reads the
  // "pending" count and retries.
  Sender a(rpc, Secp256k1Key::from_hex(kDevKey1), SenderConfig{.preflight = false});
  Sender b(rpc, Secp256k1Key::from_hex(kDevKey1), SenderConfig{.preflight = false});
  std::string ha = a.send(to, {}, 5, 21000);
  std::string hb = b.send(to, {}, 7, 21000);
  EXPECT_NE(ha, hb);
  EXPECT_EQ(b.next_nonce(), a.next_nonce() + 1);
  EXPECT_TRUE(a.wait_for_receipt(ha).status);
  EXPECT_TRUE(b.wait_for_receipt(hb).status);
  EXPECT_EQ(rpc.get_balance(to), U256(n + 12));
}
