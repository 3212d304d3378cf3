// chain_bench: transactions per second on the chain backend, from one client,
// next to the node's ceiling for that client (plain 0-wei transfers) and the
// published Besu QBFT figures (../shared/FIELD-NOTES.md), all but the target
// measured in the same run.
//
// It starts its own anvil (free gas, one-second blocks like a QBFT network),
// deploys SDRt + Marketplace, and sets up one active subscription through
// ChainMarket (register, mint, Offer, Request with an escrow large enough for
// every report, Accept, Activation). Then, N transactions per case, signed
// locally and sent as fast as one client can (Sender::send, no preflight: a
// report_no still pending would fail an eth_call against the latest block),
// while a second connection polls the new blocks' receipts:
//   1. baseline: 0-wei value transfers (21,000 gas: the node's ceiling)
//   2. SDRt ERC-20 transfers
//   3. Marketplace.reportUsage on one Request, report_no 1..N in nonce order,
//      checked at the end against the Request's charged amount and report count
//   4. Marketplace.reportUsageBatch, B reports per transaction (B = 1, 10, 50),
//      N reports per case (N/B transactions), pipelined the same way: reports/s
//      and gas per report next to case 3's one report per transaction
//   5. ChainMarket::report_usage one at a time, each waiting for its receipt
//      (what an agent that waits gets with 1 s blocks; M reports, default 30)
//   6. ChainMarket::report_usage_batch of 50, each waiting for its receipt
//      (3 batches: what a visited agent with reports ready gets)
// and, without a node, the local EIP-1559 signing rate (the client's floor).
// tx/s runs from the first send to the last receipt seen; latency is send to
// receipt seen.
//   chain_bench [N per case (default 2000)] [M waited reports (default 30)]
#include <algorithm>
#include <cctype>
#include <atomic>
#include <CLI/CLI.hpp>
#include "rsp/cli.hpp"
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chain_abi.hpp"
#include "rsp/eth/abi.hpp"
#include "rsp/eth/json_rpc.hpp"
#include "rsp/eth/key.hpp"
#include "rsp/eth/sender.hpp"
#include "rsp/eth/transaction.hpp"
#include "rsp/ledger/chain_deploy.hpp"
#include "rsp/ledger/chain_market.hpp"
#include "rsp/ledger/chain_testnode.hpp"

using namespace rsp;
using namespace rsp::ledger;
using Clock = std::chrono::steady_clock;

namespace {

double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// Field notes, "Ledger engines": Hyperledger Besu QBFT, 4 validators.
const double kTargetLow = 500.0, kTargetHigh = 1200.0;
const char* kRequestId = "REQ-BENCH-1";
const Tariff kTariff{1, 2, 3};

Allowance used_in(std::int64_t report_no) { return {1 + report_no % 5, report_no % 3, report_no % 2}; }

// The usage period every report claims: set once the Request is active (the
// rules want a period ending after the activation and not in the future).
std::int64_t g_period_end = 1767225660;  // (the client-floor case only signs, nothing checks it)

Bytes report_call(std::int64_t report_no) {
  Allowance u = used_in(report_no);
  eth::AbiValue::List used{eth::U256(u.data_mb), eth::U256(u.voice_minutes), eth::U256(u.sms)};
  // Each report its own record id and the same zero-length period: periods may not overlap.
  return eth::encode_call(chain_abi::kReportUsage, {record_id_word(kRequestId),
                                                    record_id_word("report-" + std::to_string(report_no)),
                                                    eth::U256(report_no), eth::AbiValue::list(std::move(used)),
                                                    eth::U256(g_period_end), eth::U256(g_period_end)});
}

// B reports, report_no first..first+B-1, as one reportUsageBatch call.
Bytes batch_call(std::int64_t first, int b) {
  eth::AbiValue::List items;
  for (std::int64_t no = first; no < first + b; ++no) {
    Allowance u = used_in(no);
    eth::AbiValue::List used{eth::U256(u.data_mb), eth::U256(u.voice_minutes), eth::U256(u.sms)};
    items.push_back(eth::AbiValue::list({record_id_word(kRequestId), record_id_word("report-" + std::to_string(no)),
                                         eth::U256(no), eth::AbiValue::list(std::move(used)), eth::U256(g_period_end),
                                         eth::U256(g_period_end)}));
  }
  return eth::encode_call(chain_abi::kReportUsageBatch, {eth::AbiValue::list(std::move(items))});
}

struct Result {
  int n = 0;
  double tx_per_s = 0, p50_ms = 0, p99_ms = 0, gas_per_tx = 0;
  std::size_t blocks = 0, max_per_block = 0;
  int failed = 0, missing = 0;
  double send_s = 0;  // first send to last send
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<std::size_t>(k, 1, v.size()) - 1];
}

struct Seen {
  Clock::time_point at;
  std::uint64_t block = 0, gas = 0;
  bool ok = false;
};

// Sends n transactions from `s` (data from make_data(i), i = 0..n-1) without
// waiting, while another connection polls each new block's receipts
// (eth_getBlockReceipts) and notes when each of s's transactions is seen.
template <class MakeData>
Result pipelined(const std::string& url, eth::Sender& s, const eth::Address& to, const eth::U256& value,
                 std::uint64_t gas, int n, MakeData make_data) {
  eth::JsonRpc poll_rpc(url);
  const eth::Address from = s.address();
  std::uint64_t start_block = poll_rpc.block_number();
  std::vector<std::string> hashes(static_cast<std::size_t>(n));
  std::vector<Clock::time_point> sent_at(static_cast<std::size_t>(n));
  std::map<std::string, Seen> seen;  // by tx hash, written by the poller only
  std::atomic<bool> sending_done{false};
  std::atomic<bool> abort_poll{false};
  std::string poll_error;

  std::thread poller([&] {
    try {
      std::uint64_t next = start_block + 1;
      auto last_progress = Clock::now();
      // Bounded: an absolute cap, and 30 s without a new receipt once all is sent.
      auto cap = Clock::now() + std::chrono::seconds(120) + std::chrono::milliseconds(20) * n;
      while (static_cast<int>(seen.size()) < n && !abort_poll.load()) {
        auto now = Clock::now();
        if (now > cap || (sending_done.load() && now - last_progress > std::chrono::seconds(30))) break;
        std::uint64_t head = poll_rpc.block_number();
        if (head < next) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          continue;
        }
        for (; next <= head; ++next) {
          auto j = poll_rpc.call("eth_getBlockReceipts", nlohmann::json::array({eth::U256(next).to_hex()}));
          if (j.is_null()) break;  // not served yet: ask again
          auto at = Clock::now();
          for (const auto& rj : j) {
            eth::Receipt r = eth::JsonRpc::parse_receipt(rj);
            if (r.from != from) continue;
            seen[eth::hex0x(r.tx_hash)] = Seen{at, r.block_number, r.gas_used, r.status};
            last_progress = at;
          }
        }
      }
    } catch (const std::exception& e) {
      poll_error = e.what();
    }
  });

  auto first = Clock::now();
  try {
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      std::string h = s.send(to, make_data(i), value, gas);
      std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      hashes[static_cast<std::size_t>(i)] = std::move(h);
      sent_at[static_cast<std::size_t>(i)] = t;
    }
  } catch (...) {
    abort_poll = true;
    poller.join();
    throw;
  }
  auto last_send = Clock::now();
  sending_done = true;
  poller.join();
  if (!poll_error.empty()) throw std::runtime_error("receipt poller: " + poll_error);

  Result res;
  res.n = n;
  res.send_s = secs(first, last_send);
  std::vector<double> lat;
  std::map<std::uint64_t, std::size_t> per_block;
  std::uint64_t gas_total = 0;
  Clock::time_point last_seen = first;
  for (int i = 0; i < n; ++i) {
    auto it = seen.find(hashes[static_cast<std::size_t>(i)]);
    if (it == seen.end()) {
      ++res.missing;
      continue;
    }
    const Seen& x = it->second;
    if (!x.ok) ++res.failed;
    lat.push_back(secs(sent_at[static_cast<std::size_t>(i)], x.at) * 1e3);
    gas_total += x.gas;
    ++per_block[x.block];
    last_seen = std::max(last_seen, x.at);
  }
  res.tx_per_s = n / secs(first, last_seen);
  res.p50_ms = percentile(lat, 0.50);
  res.p99_ms = percentile(lat, 0.99);
  res.gas_per_tx = lat.empty() ? 0 : static_cast<double>(gas_total) / static_cast<double>(lat.size());
  res.blocks = per_block.size();
  for (auto& [b, c] : per_block) res.max_per_block = std::max(res.max_per_block, c);
  return res;
}

double g_base = 0;

void header() {
  std::printf("%-46s %9s %7s %9s %9s %8s %7s %10s %8s   %s\n", "case", "tx/s", "x base", "p50 ms", "p99 ms", "gas/tx",
              "blocks", "reports/s", "gas/rep", "note");
}

// `per_tx`: usage reports per transaction (0: not a usage case); reports/s
// and gas per report follow from it.
void row(const char* label, double tps, const Result* r, const std::string& note, int per_tx = 0) {
  char base[16] = "-";
  if (g_base > 0) std::snprintf(base, sizeof base, tps / g_base < 0.01 ? "%.4f" : "%.2f", tps / g_base);
  char rate[24];
  std::snprintf(rate, sizeof rate, tps < 10 ? "%.2f" : "%.0f", tps);
  char reports[24] = "-", per_report[24] = "-";
  if (per_tx > 0) {
    const double rps = tps * per_tx;
    std::snprintf(reports, sizeof reports, rps < 10 ? "%.2f" : "%.0f", rps);
    if (r) std::snprintf(per_report, sizeof per_report, "%.0f", r->gas_per_tx / per_tx);
  }
  if (r)
    std::printf("%-46s %9s %7s %9.0f %9.0f %8.0f %7zu %10s %8s   %s\n", label, rate, base, r->p50_ms, r->p99_ms,
                r->gas_per_tx, r->blocks, reports, per_report, note.c_str());
  else
    std::printf("%-46s %9s %7s %9s %9s %8s %7s %10s %8s   %s\n", label, rate, base, "-", "-", "-", "-", reports,
                per_report, note.c_str());
  std::fflush(stdout);
}

const int kBatchSizes[] = {1, 10, 50};
const int kWaitedBatch = 50, kWaitedBatches = 3;

std::string pipelined_note(const Result& r, std::uint64_t gas_limit) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "(sent in %.2f s = %.0f tx/s; max %zu tx/block; gas limit %" PRIu64 ")", r.send_s,
                r.n / r.send_s, r.max_per_block, gas_limit);
  std::string s = buf;
  if (r.failed) s += " FAILED (status 0): " + std::to_string(r.failed);
  if (r.missing) s += " MISSING receipts: " + std::to_string(r.missing);
  return s;
}

std::uint64_t with_margin(std::uint64_t est) { return est + est / 10; }

int run(int n, int m, std::uint64_t gas_limit) {
  if (auto why = AnvilNode::unavailable_reason()) {
    std::printf("chain_bench: skipped, anvil is unavailable: %s\n", why->c_str());
    return 0;
  }

  // ---- client floor: local signing, no node ----
  double sign_per_s = 0;
  {
    auto k = eth::Secp256k1Key::generate();
    eth::Eip1559Tx t;
    t.chain_id = 31337;
    t.gas_limit = 200'000;
    t.to = k.address();
    t.data = report_call(1);
    int cn = std::max(n, 2000);
    std::size_t total = 0;
    auto a = Clock::now();
    for (int i = 0; i < cn; ++i) {
      t.nonce = static_cast<std::uint64_t>(i);
      total += t.signed_raw(k).size();
    }
    sign_per_s = cn / secs(a, Clock::now());
    if (total == 0) std::abort();
  }

  AnvilNode::Options opt;
  opt.block_time_seconds = 1;  // interval mining, one block a second, like QBFT's block period
  opt.free_gas = true;
  if (gas_limit) opt.gas_limit = gas_limit;
  std::unique_ptr<AnvilNode> node;
  try {
    node = std::make_unique<AnvilNode>(opt);
  } catch (const std::exception& e) {
    std::printf("chain_bench: skipped, anvil did not start: %s\n", e.what());
    return 0;
  }
  pid_t pid = node->pid();
  int rc = 0;
  {
    eth::JsonRpc rpc(node->url());
    std::string client = rpc.call("web3_clientVersion").get<std::string>();
    auto latest = rpc.call("eth_getBlockByNumber", nlohmann::json::array({"latest", false}));
    std::uint64_t block_gas = eth::JsonRpc::quantity_u64(latest.at("gasLimit"));

    // ---- set-up (each step waits for its receipt) ----
    auto setup_start = Clock::now();
    auto admin_key = eth::Secp256k1Key::generate();
    auto visited_key = eth::Secp256k1Key::generate();
    auto home_key = eth::Secp256k1Key::generate();
    auto payer_key = eth::Secp256k1Key::generate();   // ERC-20 sender (case 2)
    auto alice_key = eth::Secp256k1Key::generate();   // 0-wei sender (case 1), no ether: free gas
    auto bob = eth::Secp256k1Key::generate().address();
    ChainDeployment free_gas;
    free_gas.free_gas = true;
    free_gas.chain_id = node->chain_id();
    ChainDeployment d;
    {
      eth::Sender admin_sender(rpc, admin_key, sender_config(free_gas));
      d = deploy_marketplace(admin_sender, "admin");
      d.free_gas = true;
      register_participant(admin_sender, d, visited_key.address(), "VISITED-A", ChainRole::VisitedOperator);
      register_participant(admin_sender, d, home_key.address(), "HOME-B", ChainRole::HomeOperator);
      // SDRt moves only between registered participants: the payer and bob are registered.
      register_participant(admin_sender, d, payer_key.address(), "PAYER", ChainRole::HomeOperator);
      register_participant(admin_sender, d, bob, "BOB", ChainRole::HomeOperator);
      admin_sender.send_and_wait(d.sdrt, eth::encode_call(chain_abi::kMint, {payer_key.address(), eth::U256(n + 1)}));
    }
    std::int64_t batched_reports = 0;
    for (int b : kBatchSizes) batched_reports += static_cast<std::int64_t>(std::max(1, n / b)) * b;
    const std::int64_t total_reports =
        static_cast<std::int64_t>(n) + m + batched_reports + static_cast<std::int64_t>(kWaitedBatch) * kWaitedBatches;
    Amount escrow = 0;
    for (std::int64_t i = 1; i <= total_reports; ++i) escrow += charge_for(used_in(i), kTariff);
    {
      ChainMarket admin(d.config(), admin_key), visited(d.config(), visited_key), home(d.config(), home_key);
      admin.mint("HOME-B", escrow);
      OfferTerms o;
      o.offer_id = "OFFER-BENCH-1";
      o.service = "data+voice";
      o.coverage = {"20801"};
      o.allowance = {100'000'000, 100'000'000, 100'000'000};  // every report of the run stays within it
      o.tariff = kTariff;
      o.price = escrow;
      o.term_seconds = 86'400;
      o.valid_until = static_cast<std::int64_t>(rpc.get_latest_block_timestamp()) + 86'400;
      o.stock = 1;
      o.seal_key = Bytes(65, 0x11);
      o.seal_key[0] = 0x04;
      visited.publish_offer(o);
      Bytes reply(65, 0x22);
      reply[0] = 0x04;
      home.request(RequestTerms{kRequestId, o.offer_id, "sub-bench", Bytes(97, 7), escrow, reply});
      visited.accept(AcceptTerms{kRequestId, Bytes(3000, 9), Bytes(32, 3)});
      visited.activate(kRequestId, "20801");
      g_period_end = visited.find_request(kRequestId)->activated_at + 1;
    }
    double setup_s = secs(setup_start, Clock::now());

    std::printf(
        "chain_bench: %s on 127.0.0.1 (pid %d), 1 s blocks (interval mining), block gas limit %" PRIu64
        ", free gas\n"
        "  one client: sign locally, Sender::send without waiting (no preflight), receipts polled per block on a\n"
        "  second connection; tx/s = N / (first send .. last receipt seen); latency = send .. receipt seen\n"
        "  N = %d tx per pipelined case, %d waited reports; set-up (deploy, register, mint, offer, request,\n"
        "  accept, activate) took %.1f s\n",
        client.c_str(), static_cast<int>(pid), block_gas, n, m, setup_s);
    header();
    std::printf("%-46s %9s %7s %9s %9s %8s %7s %10s %8s   %s\n", "target: Besu QBFT, 4 validators (field notes)",
                "500-1200", "-", "-", "-", "-", "-", "-", "-", "(published figures, not measured here)");
    row("client floor: EIP-1559 signed_raw (no node)", sign_per_s, nullptr, "(one core, reportUsage calldata)");

    eth::SenderConfig sc = sender_config(d);
    sc.preflight = false;

    // 1. baseline: 0-wei transfers
    {
      eth::Sender s(rpc, alice_key, sc);
      Result r = pipelined(node->url(), s, bob, eth::U256(0), 21'000, n, [](int) { return Bytes{}; });
      g_base = r.tx_per_s;
      row("baseline: 0-wei transfers, one sender", r.tx_per_s, &r, pipelined_note(r, 21'000));
      if (r.failed || r.missing) rc = 1;
    }
    // 2. SDRt ERC-20 transfers, 1 unit each
    {
      eth::Sender s(rpc, payer_key, sc);
      Bytes data = eth::encode_call("transfer(address,uint256)", {bob, eth::U256(1)});
      std::uint64_t gas = with_margin(rpc.estimate_gas(eth::CallRequest{payer_key.address(), d.sdrt, data, 0, {}}));
      Result r = pipelined(node->url(), s, d.sdrt, eth::U256(0), gas, n, [&](int) { return data; });
      row("SDRt ERC-20 transfers", r.tx_per_s, &r, pipelined_note(r, gas));
      if (r.failed || r.missing) rc = 1;
    }
    // 3. usage reports, pipelined
    Amount charged_sent = 0;
    std::int64_t reports_sent = 0;
    {
      eth::Sender s(rpc, visited_key, sc);
      std::uint64_t gas =
          with_margin(rpc.estimate_gas(eth::CallRequest{visited_key.address(), d.marketplace, report_call(1), 0, {}}));
      Result r = pipelined(node->url(), s, d.marketplace, eth::U256(0), gas, n,
                           [](int i) { return report_call(i + 1); });
      for (std::int64_t i = 1; i <= n; ++i) charged_sent += charge_for(used_in(i), kTariff);
      reports_sent = n;
      row("Marketplace.reportUsage, pipelined", r.tx_per_s, &r, pipelined_note(r, gas), 1);
      if (r.failed || r.missing) rc = 1;
    }
    // 4. usage reports in batches of b, pipelined: n reports per case
    for (int b : kBatchSizes) {
      eth::Sender s(rpc, visited_key, sc);
      const int txs = std::max(1, n / b);
      const std::int64_t first = reports_sent + 1;
      std::uint64_t gas =
          with_margin(rpc.estimate_gas(eth::CallRequest{visited_key.address(), d.marketplace, batch_call(first, b), 0, {}}));
      Result r = pipelined(node->url(), s, d.marketplace, eth::U256(0), gas, txs,
                           [&](int i) { return batch_call(first + static_cast<std::int64_t>(i) * b, b); });
      for (std::int64_t no = first; no < first + static_cast<std::int64_t>(txs) * b; ++no)
        charged_sent += charge_for(used_in(no), kTariff);
      reports_sent += static_cast<std::int64_t>(txs) * b;
      const std::string label = "Marketplace.reportUsageBatch x" + std::to_string(b) + ", pipelined";
      row(label.c_str(), r.tx_per_s, &r, pipelined_note(r, gas), b);
      if (r.failed || r.missing) rc = 1;
    }
    // 5. usage reports through ChainMarket, each waiting for its receipt
    if (m > 0) {
      ChainMarket visited(d.config(), visited_key);  // a fresh handle: its nonce from the node
      std::vector<double> lat;
      std::set<std::int64_t> blocks;
      std::uint64_t gas_total = 0;
      auto a = Clock::now();
      for (int i = 1; i <= m; ++i) {
        std::int64_t no = reports_sent + 1;
        auto t = Clock::now();
        Receipt rc4 = visited.report_usage(UsageReport{kRequestId, no, used_in(no), g_period_end, g_period_end});
        lat.push_back(secs(t, Clock::now()) * 1e3);
        gas_total += visited.last_gas_used();
        blocks.insert(rc4.position / kChainPositionsPerBlock);
        charged_sent += charge_for(used_in(no), kTariff);
        ++reports_sent;
      }
      Result r;
      r.n = m;
      r.tx_per_s = m / secs(a, Clock::now());
      r.p50_ms = percentile(lat, 0.50);
      r.p99_ms = percentile(lat, 0.99);
      r.gas_per_tx = static_cast<double>(gas_total) / m;
      r.blocks = blocks.size();
      row("ChainMarket::report_usage, waiting each", r.tx_per_s, &r,
          "(" + std::to_string(m) + " reports; estimateGas + send + receipt polled every 100 ms)", 1);
    }
    // 6. batches through ChainMarket, each waiting for its receipt
    {
      ChainMarket visited(d.config(), visited_key);
      std::vector<double> lat;
      std::set<std::int64_t> blocks;
      std::uint64_t gas_total = 0;
      auto a = Clock::now();
      for (int k = 0; k < kWaitedBatches; ++k) {
        std::vector<UsageReport> batch;
        for (int j = 0; j < kWaitedBatch; ++j) {
          std::int64_t no = reports_sent + 1 + j;
          batch.push_back(UsageReport{kRequestId, no, used_in(no), g_period_end, g_period_end});
          charged_sent += charge_for(used_in(no), kTariff);
        }
        auto t = Clock::now();
        auto receipts = visited.report_usage_batch(batch);
        lat.push_back(secs(t, Clock::now()) * 1e3);
        gas_total += visited.last_gas_used();
        blocks.insert(receipts.front().position / kChainPositionsPerBlock);
        reports_sent += kWaitedBatch;
      }
      Result r;
      r.n = kWaitedBatches;
      r.tx_per_s = kWaitedBatches / secs(a, Clock::now());
      r.p50_ms = percentile(lat, 0.50);
      r.p99_ms = percentile(lat, 0.99);
      r.gas_per_tx = static_cast<double>(gas_total) / kWaitedBatches;
      r.blocks = blocks.size();
      const std::string label = "ChainMarket::report_usage_batch x" + std::to_string(kWaitedBatch) + ", waiting";
      row(label.c_str(), r.tx_per_s, &r, "(" + std::to_string(kWaitedBatches) + " batches, each waited for)",
          kWaitedBatch);
    }

    // The Request must show exactly what was sent: a dropped or reverted
    // report cannot go unnoticed.
    ChainMarket reader(d.config(), home_key);
    auto req = reader.find_request(kRequestId);
    bool ok = req && req->usage_reports == reports_sent && req->charged == charged_sent;
    std::printf("check: Request %s usage_reports %" PRId64 " (sent %" PRId64 "), charged %" PRId64 " (sent %" PRId64
                "), escrow %" PRId64 ": %s\n",
                kRequestId, req ? req->usage_reports : -1, reports_sent, req ? req->charged : -1, charged_sent,
                req ? req->escrow : -1, ok ? "OK" : "MISMATCH");
    if (!ok) rc = 1;
  }
  node.reset();  // SIGTERM to the pid (SIGKILL after 5 s)
  std::printf("anvil (pid %d) stopped\n", static_cast<int>(pid));
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chain backend benchmark against a throwaway anvil"};
  int n = 2000, m = 30;
  std::uint64_t gas_limit = 0;
  app.add_option("n", n, "transactions per case")->check(CLI::Range(1, 10'000'000));
  app.add_option("m", m, "usage reports waited for one by one")->check(CLI::Range(0, 100'000));
  app.add_option("gas_limit", gas_limit, "block gas limit (default: anvil's 30 M)");
  if (auto rc = rsp::cli::parse(app, argc, argv, "chain_bench")) return *rc;
  try {
    return run(n, m, gas_limit);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chain_bench: %s\n", e.what());
    return 1;
  }
}
