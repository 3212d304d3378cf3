#include "rsp/ledger/chain_market.hpp"

#include <algorithm>

#include "chain_abi.hpp"
#include "rsp/eth/abi.hpp"
#include "rsp/ledger/chain_deploy.hpp"

namespace rsp::ledger {

namespace chain_abi {

eth::U256 int_word(std::int64_t v) {
  if (v >= 0) return eth::U256(v);
  std::array<std::uint8_t, 32> be;
  be.fill(0xff);
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) be[31 - i] = static_cast<std::uint8_t>(u >> (8 * i));
  return eth::U256::from_be(be);
}

std::int64_t word_int(const eth::U256& v) {
  auto be = v.to_be32();
  std::uint64_t u = 0;
  for (int i = 24; i < 32; ++i) u = (u << 8) | be[i];
  return static_cast<std::int64_t>(u);
}

}  // namespace chain_abi

using namespace chain_abi;
using eth::AbiValue;

Bytes record_id_word(const std::string& id) {
  Bytes w(32, 0);
  if (id.size() > 32 || id.find('\0') != std::string::npos) {
    w[0] = 0x01;  // not printable: the contract's id check refuses it where its rules say
    return w;
  }
  std::copy(id.begin(), id.end(), w.begin());
  return w;
}

std::string record_id_from_word(ByteView word) {
  std::string s(word.begin(), word.end());
  auto end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

namespace {

const Bytes& topic(const char* signature) {
  // Topics are keccak256 of constant strings: computed once each.
  static std::mutex mu;
  static std::map<std::string, Bytes> cache;
  std::lock_guard lock(mu);
  auto [it, fresh] = cache.try_emplace(signature);
  if (fresh) it->second = eth::event_topic(signature);
  return it->second;
}

std::int64_t position_of(const eth::Log& log) {
  return static_cast<std::int64_t>(log.block_number) * kChainPositionsPerBlock + static_cast<std::int64_t>(log.log_index);
}

std::int64_t u64(const AbiValue& v) { return word_int(v.as_uint()); }

bool is_zero(const eth::Address& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

// The coverage list as the contract takes it: PLMNs joined by ','. An entry
// that would change meaning when joined (empty, or holding a comma) turns the
// whole string into one the contract refuses, as the embedded ledger would.
std::string join_coverage(const std::vector<std::string>& coverage) {
  std::string out;
  for (const auto& c : coverage) {
    if (c.empty() || c.find(',') != std::string::npos) return ",";
    if (!out.empty()) out += ',';
    out += c;
  }
  return out;
}

std::vector<std::string> split_coverage(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (!s.empty()) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string plmn_from_bytes6(const Bytes& b) {
  std::string s(b.begin(), b.end());
  auto end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

RequestState state_of(std::uint64_t s) {
  switch (s) {
    case S_OPEN: return RequestState::Open;
    case S_ACCEPTED: return RequestState::Accepted;
    case S_ACTIVE: return RequestState::Active;
    case S_CLOSED: return RequestState::Closed;
    case S_DISPUTED: return RequestState::Disputed;
    default: throw std::runtime_error("Marketplace returned an unknown request state " + std::to_string(s));
  }
}

}  // namespace

// ---- construction ----

ChainMarket::ChainMarket(ChainConfig config, eth::Secp256k1Key key) : config_(std::move(config)) {
  rpc_ = std::make_unique<eth::JsonRpc>(config_.rpc_url);
  eth::SenderConfig sc;
  sc.chain_id = config_.chain_id;
  sc.max_fee_per_gas = config_.max_fee_per_gas;
  sc.max_priority_fee_per_gas = config_.max_priority_fee_per_gas;
  sc.receipt_timeout = config_.receipt_timeout;
  sender_config_ = sc;
  sender_ = std::make_shared<eth::Sender>(*rpc_, std::move(key), sc);
  if (rpc_->get_code(config_.marketplace).empty())
    throw std::runtime_error("no contract at the Marketplace address " + eth::checksum_address(config_.marketplace));
  if (rpc_->get_code(config_.sdrt).empty())
    throw std::runtime_error("no contract at the SDRt address " + eth::checksum_address(config_.sdrt));
  deployed_at_ = eth::decode("(uint256)", view(config_.marketplace, eth::encode_call(kDeployedAt, {})))[0].as_uint().as_u64();
  issuer_ = eth::decode("(address)", view(config_.sdrt, eth::encode_call(kIssuer, {})))[0].as_address();
  me_ = name_of(sender_->address());
}

std::shared_ptr<eth::Sender> ChainMarket::sender() const {
  std::lock_guard lock(sender_mu_);
  return sender_;
}

ChainMarket::~ChainMarket() = default;

eth::Address ChainMarket::address() const { return sender()->address(); }

Bytes ChainMarket::ledger_id() {
  Bytes id{0x02};
  const std::uint64_t chain = sender()->chain_id();  // eth_chainId, checked when the handle was made
  for (int i = 7; i >= 0; --i) id.push_back(static_cast<std::uint8_t>(chain >> (8 * i)));
  append(id, ByteView(config_.marketplace.data(), config_.marketplace.size()));
  return id;
}

std::unique_ptr<ChainMarket> make_chain_market(const std::string& rpc_url, const std::string& marketplace,
                                               const std::string& sdrt, const eth::Secp256k1Key& key,
                                               std::optional<std::uint64_t> chain_id, bool free_gas) {
  ChainConfig c;
  c.rpc_url = rpc_url;
  c.chain_id = chain_id;
  c.marketplace = eth::parse_address(marketplace);
  c.sdrt = eth::parse_address(sdrt);
  if (free_gas) c.max_fee_per_gas = c.max_priority_fee_per_gas = eth::U256(0);
  return std::make_unique<ChainMarket>(std::move(c), key);
}

// ---- plumbing ----

Bytes ChainMarket::view(const eth::Address& to, const Bytes& data) {
  eth::CallRequest call;
  call.from = address();
  call.to = to;
  call.data = data;
  return rpc_->eth_call(call);
}

eth::Receipt ChainMarket::send(const eth::Address& to, const Bytes& data) {
  try {
    return sender()->send_and_wait(to, data);
  } catch (const std::exception&) {
    rethrow_chain_failure("chain write");
  }
}

Receipt ChainMarket::receipt_for(const eth::Receipt& r, const eth::Address& contract, const Bytes& t) const {
  for (const auto& log : r.logs)
    if (log.address == contract && !log.topics.empty() && log.topics[0] == t)
      return {position_of(log), eth::hex0x(r.tx_hash)};
  throw std::runtime_error("transaction " + eth::hex0x(r.tx_hash) + " succeeded but emitted no record event");
}

std::vector<eth::Log> ChainMarket::logs_at(std::uint64_t block, const Bytes& t, const Bytes& id_topic) {
  eth::LogFilter f;
  f.from_block = f.to_block = block;
  f.addresses = {config_.marketplace};
  f.topics = {{t}, {id_topic}};
  auto logs = rpc_->get_logs(f);
  std::erase_if(logs, [](const eth::Log& l) { return l.removed; });
  return logs;
}

std::optional<std::string> ChainMarket::participant_id(const eth::Address& a) {
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = id_of_.find(a); it != id_of_.end()) return it->second;
  }
  auto out = eth::decode("(string,uint8,bool)", view(config_.marketplace, eth::encode_call(kParticipantOf, {a})));
  // A revoked key keeps its id (registered false): its records still name it.
  if (!out[2].as_bool() && out[0].as_string().empty()) return std::nullopt;
  std::string id = out[0].as_string();
  std::lock_guard lock(cache_mu_);
  id_of_[a] = id;
  return id;
}

std::optional<eth::Address> ChainMarket::participant_address(const std::string& id) {
  // Not cached: a key rotation (any participant's, from any handle) changes it.
  auto out = eth::decode("(address)", view(config_.marketplace, eth::encode_call(kAddressOf, {id})));
  eth::Address a = out[0].as_address();
  if (is_zero(a)) return std::nullopt;
  return a;
}

std::string ChainMarket::participant_at(std::uint32_t n) {
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = id_at_.find(n); it != id_at_.end()) return it->second;
  }
  auto out = eth::decode("(string,uint8,bool,address)", view(config_.marketplace, eth::encode_call(kParticipantAt, {n})));
  std::string id = out[0].as_string();
  if (id.empty()) throw std::runtime_error("Marketplace has no participant number " + std::to_string(n));
  std::lock_guard lock(cache_mu_);
  id_at_[n] = id;
  return id;
}

std::string ChainMarket::name_at(const eth::AbiValue& number) {
  return participant_at(static_cast<std::uint32_t>(number.as_uint().as_u64()));
}

std::string ChainMarket::name_at_topic(const Bytes& topic) {
  std::array<std::uint8_t, 32> be{};
  if (topic.size() != 32) throw std::runtime_error("event topic is not 32 bytes");
  std::copy(topic.begin(), topic.end(), be.begin());
  return participant_at(static_cast<std::uint32_t>(eth::U256::from_be(be).as_u64()));
}

std::string ChainMarket::name_of(const eth::Address& a) {
  if (auto id = participant_id(a)) return *id;
  return eth::checksum_address(a);
}

// ---- writes ----

Receipt ChainMarket::mint(const std::string& to, Amount amount) {
  // Checked here first only to give the rules' order (not-issuer before
  // not-registered); SDRt.mint refuses other senders itself.
  // The issuer is read at each mint: it moves with the admin's key rotation.
  const eth::Address issuer = eth::decode("(address)", view(config_.sdrt, eth::encode_call(kIssuer, {})))[0].as_address();
  if (issuer != address()) {
    // A key no admin registered is refused as such first, like any other
    // write of an unregistered key (the embedded ledger's entry check).
    // A revoked key too (its id stays, so ask the registry, not the cache).
    auto me = eth::decode("(string,uint8,bool)", view(config_.marketplace, eth::encode_call(kParticipantOf, {address()})));
    if (!me[2].as_bool()) throw MarketError("not-registered", "this key is not a registered participant");
    throw MarketError("not-issuer", "only the SDRt issuer mints");
  }
  // An unknown id goes as the zero address: SDRt refuses it (not-registered)
  // after its own earlier rules (paused), in the same order as the embedded ledger.
  auto to_address = participant_address(to);
  auto r = send(config_.sdrt, eth::encode_call(kMint, {to_address.value_or(eth::Address{}), int_word(amount)}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.sdrt, topic(kTransferEvent));
}

Receipt ChainMarket::publish_offer(const OfferTerms& t) {
  AbiValue::List terms{int_word(t.allowance.data_mb), int_word(t.allowance.voice_minutes), int_word(t.allowance.sms),
                       int_word(t.tariff.per_mb),     int_word(t.tariff.per_minute),        int_word(t.tariff.per_sms),
                       int_word(t.price),             int_word(t.term_seconds),             int_word(t.valid_until),
                       int_word(t.stock),             int_word(static_cast<std::int64_t>(t.kind))};
  Bytes data = eth::encode_call(kPublishOffer, {record_id_word(t.offer_id), t.service, join_coverage(t.coverage),
                                                AbiValue::list(std::move(terms)), t.seal_key});
  auto r = send(config_.marketplace, data);
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kOfferEvent));
}

Receipt ChainMarket::withdraw_offer(const std::string& offer_id) {
  auto r = send(config_.marketplace, eth::encode_call(kWithdrawOffer, {record_id_word(offer_id)}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kOfferWithdrawnEvent));
}

Receipt ChainMarket::edit_offer(const OfferEdit& e) {
  auto r = send(config_.marketplace, eth::encode_call(kEditOffer, {record_id_word(e.offer_id), int_word(e.price),
                                                                   int_word(e.stock), int_word(e.valid_until)}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kOfferEditedEvent));
}

Receipt ChainMarket::request(const RequestTerms& t) {
  Bytes data = eth::encode_call(kRequest, {record_id_word(t.request_id), record_id_word(t.offer_id), t.subscriber,
                                           t.sealed_target, int_word(t.escrow), t.reply_key});
  std::lock_guard lock(request_mu_);
  // A refused request must leave nothing behind, approval included: try it
  // first. Without the allowance it can only fail as insufficient-funds
  // (the last rule but bad-terms), so every earlier rule is settled here.
  try {
    view(config_.marketplace, data);
  } catch (const eth::RpcError&) {
    try {
      rethrow_chain_failure("request");
    } catch (const MarketError& m) {
      if (m.code != "insufficient-funds") throw;
    }
    auto bal = eth::decode("(uint256,uint256)", view(config_.marketplace, eth::encode_call(kBalances, {address()})));
    if (bal[0].as_uint() < int_word(t.escrow)) throw MarketError("insufficient-funds", "request refused by the contract");
  }
  auto approved = send(config_.sdrt, eth::encode_call(kApprove, {config_.marketplace, int_word(t.escrow)}));
  eth::Receipt r;
  try {
    r = send(config_.marketplace, data);
  } catch (const MarketError&) {
    // Refused after all (bad-terms, or a race): withdraw the approval.
    try {
      send(config_.sdrt, eth::encode_call(kApprove, {config_.marketplace, 0}));
    } catch (const std::exception&) {
      // The refusal is what the caller needs to hear; a leftover allowance
      // is overwritten by the next request's approve.
    }
    throw;
  }
  last_gas_used_ = approved.gas_used + r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kRequestEvent));
}

Receipt ChainMarket::accept(const AcceptTerms& t) {
  auto r = send(config_.marketplace,
                eth::encode_call(kAccept, {record_id_word(t.request_id), t.sealed_profile, t.package_hash}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kAcceptEvent));
}

Receipt ChainMarket::activate(const std::string& request_id, const std::string& plmn) {
  auto r = send(config_.marketplace, eth::encode_call(kActivate, {record_id_word(request_id), plmn}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kActivateEvent));
}

Receipt ChainMarket::report_usage(const UsageReport& u) {
  AbiValue::List used{int_word(u.used.data_mb), int_word(u.used.voice_minutes), int_word(u.used.sms)};
  const Bytes rid = record_id_word(u.request_id), record = record_id_word(usage_record_id(u));
  try {
    auto r = send(config_.marketplace, eth::encode_call(kReportUsage, {rid, record, int_word(u.report_no),
                                                                       AbiValue::list(std::move(used)),
                                                                       int_word(u.period_start), int_word(u.period_end)}));
    last_gas_used_ = r.gas_used;
    return receipt_for(r, config_.marketplace, topic(kUsageEvent));
  } catch (const MarketError& e) {
    if (e.code != "already-applied") throw;
  }
  // The contract found this very record applied: answer with its receipt.
  return applied_usage(u);
}

Receipt ChainMarket::applied_usage(const UsageReport& u) {
  // From its UsageReported event. A static struct comes back as its fields in a row.
  const Bytes rid = record_id_word(u.request_id), record = record_id_word(usage_record_id(u));
  auto seen = eth::decode("(bytes24,uint64)", view(config_.marketplace, eth::encode_call(kUsageRecord, {rid, record})));
  const auto block = seen[1].as_uint().as_u64();
  for (const auto& log : logs_at(block, topic(kUsageEvent), rid))
    if (eth::decode(kUsageData, log.data)[1].as_bytes() == record) return Receipt{position_of(log), eth::hex0x(log.tx_hash), true};
  throw std::runtime_error("usage record '" + usage_record_id(u) + "' is applied but its UsageReported event is missing");
}

std::vector<Receipt> ChainMarket::report_usage_batch(const std::vector<UsageReport>& reports) {
  std::vector<Receipt> out(reports.size());
  if (reports.empty()) return out;  // the contract refuses an empty batch: nothing to write
  AbiValue::List items;
  items.reserve(reports.size());
  std::vector<std::pair<Bytes, Bytes>> keys;  // (request id word, record id word) per report
  keys.reserve(reports.size());
  for (const auto& u : reports) {
    keys.emplace_back(record_id_word(u.request_id), record_id_word(usage_record_id(u)));
    AbiValue::List used{int_word(u.used.data_mb), int_word(u.used.voice_minutes), int_word(u.used.sms)};
    items.push_back(AbiValue::list({keys.back().first, keys.back().second, int_word(u.report_no),
                                    AbiValue::list(std::move(used)), int_word(u.period_start), int_word(u.period_end)}));
  }
  eth::Receipt r;
  try {
    r = send(config_.marketplace, eth::encode_call(kReportUsageBatch, {AbiValue::list(std::move(items))}));
  } catch (const MarketError& e) {
    // "RSP:<code>@<index>" for a report the rules refused; a plain code
    // (not-registered, paused) refuses the author before any report: the first.
    std::string code = e.code;
    std::size_t index = 0;
    if (auto at = code.rfind('@'); at != std::string::npos) {
      try {
        index = static_cast<std::size_t>(std::stoull(code.substr(at + 1)));
      } catch (const std::exception&) {
        throw std::runtime_error("usage batch: unreadable revert reason 'RSP:" + e.code + "'");
      }
      code.resize(at);
    }
    if (index >= reports.size()) throw std::runtime_error("usage batch: revert names report " + std::to_string(index) +
                                                          " of " + std::to_string(reports.size()));
    const auto& u = reports[index];
    throw UsageBatchError(code, "report " + std::to_string(index) + " (record '" + usage_record_id(u) + "' on '" +
                                    u.request_id + "') refused by the contract", index);
  }
  last_gas_used_ = r.gas_used;
  // The UsageReported events, in report order; a report without one was
  // skipped as already applied.
  std::vector<bool> done(reports.size(), false);
  const Bytes& usage_topic = topic(kUsageEvent);
  for (const auto& log : r.logs) {
    if (log.address != config_.marketplace || log.topics.size() < 2 || log.topics[0] != usage_topic) continue;
    const Bytes record = eth::decode(kUsageData, log.data)[1].as_bytes();
    for (std::size_t i = 0; i < reports.size(); ++i) {
      if (done[i] || keys[i].first != log.topics[1] || keys[i].second != record) continue;
      out[i] = Receipt{position_of(log), eth::hex0x(r.tx_hash)};
      done[i] = true;
      break;
    }
  }
  for (std::size_t i = 0; i < reports.size(); ++i)
    if (!done[i]) out[i] = applied_usage(reports[i]);
  return out;
}

Receipt ChainMarket::refund(const std::string& request_id) {
  auto r = send(config_.marketplace, eth::encode_call(kRefund, {record_id_word(request_id)}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kRefundEvent));
}

Receipt ChainMarket::dispute(const std::string& request_id, const std::string& reason) {
  auto r = send(config_.marketplace, eth::encode_call(kDispute, {record_id_word(request_id), reason}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kDisputeEvent));
}

Receipt ChainMarket::resolve(const std::string& request_id, Resolution how) {
  auto r = send(config_.marketplace,
                eth::encode_call(kResolve, {record_id_word(request_id), how == Resolution::RefundHome}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kResolveEvent));
}

Receipt ChainMarket::revoke(const std::string& participant) {
  auto who = participant_address(participant);
  if (!who) throw MarketError("not-registered", "'" + participant + "' is not a registered participant");
  auto r = send(config_.marketplace, eth::encode_call(kRevoke, {*who}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kRevokedEvent));
}

Receipt ChainMarket::rotate_key(const std::string& participant, std::shared_ptr<crypto::EcKey> new_key) {
  // The chain's keys are its accounts: only a secp256k1 key with its private
  // part can write after the rotation.
  if (!new_key || new_key->curve() != crypto::Curve::Secp256k1 || !new_key->has_private())
    throw MarketError("bad-terms", "the new key must be a secp256k1 private key (an account) on the chain backend");
  auto scalar = new_key->private_scalar();
  auto next = eth::Secp256k1Key::from_private(ByteView(scalar.data(), scalar.size()));
  auto r = send(config_.marketplace, eth::encode_call(kRotateKey, {participant, next.address()}));
  last_gas_used_ = r.gas_used;
  auto receipt = receipt_for(r, config_.marketplace, topic(kKeyRotatedEvent));
  // From now on this handle writes with the new key (the old one is refused
  // by the contract, not-registered).
  auto fresh = std::make_shared<eth::Sender>(*rpc_, std::move(next), sender_config_);
  {
    std::lock_guard lock(sender_mu_);
    sender_ = std::move(fresh);
  }
  return receipt;
}

Receipt ChainMarket::set_paused(bool paused) {
  auto r = send(config_.marketplace, eth::encode_call(kSetPaused, {paused}));
  last_gas_used_ = r.gas_used;
  return receipt_for(r, config_.marketplace, topic(kPauseSetEvent));
}

bool ChainMarket::paused() {
  return eth::decode("(bool)", view(config_.marketplace, eth::encode_call(kPaused, {})))[0].as_bool();
}

// ---- reads ----

std::optional<Offer> ChainMarket::offer(const std::string& offer_id) {
  Bytes id = record_id_word(offer_id);
  auto st = eth::decode(kOfferTuple, view(config_.marketplace, eth::encode_call(kGetOffer, {id})));
  if (st[O_PROVIDER].as_uint().as_u64() == 0) return std::nullopt;
  auto logs = logs_at(st[O_BLOCK].as_uint().as_u64(), topic(kOfferEvent), id);
  if (logs.empty()) throw std::runtime_error("offer '" + offer_id + "': its OfferPublished event is missing");
  const auto& log = logs.front();
  auto ev = eth::decode(kOfferData, log.data);
  const auto& terms = ev[2].as_list();
  Offer o;
  o.offer_id = record_id_from_word(log.topics.at(1));
  o.service = ev[0].as_string();
  o.coverage = split_coverage(ev[1].as_string());
  o.allowance = {u64(terms[0]), u64(terms[1]), u64(terms[2])};
  o.tariff = {u64(terms[3]), u64(terms[4]), u64(terms[5])};
  o.term_seconds = u64(terms[7]);
  o.kind = st[O_KIND].as_uint().as_u64() == 1 ? OfferKind::Service : OfferKind::Mobile;
  // Price, stock and valid_until from storage: editOffer changes them there.
  o.price = u64(st[O_PRICE]);
  o.valid_until = u64(st[O_VALID_UNTIL]);
  o.stock = u64(st[O_STOCK]);
  o.seal_key = ev[3].as_bytes();
  o.provider = name_at(st[O_PROVIDER]);
  o.sold = u64(st[O_SOLD]);
  o.withdrawn = st[O_WITHDRAWN].as_bool();
  o.position = position_of(log);
  return o;
}

std::vector<Offer> ChainMarket::offers() {
  // By index: one view per offer plus one single-block log query, however
  // long the chain is.
  auto n = eth::decode("(uint256)", view(config_.marketplace, eth::encode_call(kOfferCount, {})))[0].as_uint().as_u64();
  std::vector<Offer> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    auto w = eth::decode("(bytes32)", view(config_.marketplace, eth::encode_call(kOfferIdAt, {i})))[0].as_bytes();
    if (auto o = offer(record_id_from_word(w))) out.push_back(std::move(*o));
  }
  return out;
}

std::optional<Request> ChainMarket::find_request(const std::string& request_id) {
  Bytes id = record_id_word(request_id);
  auto st = eth::decode(kRequestTuple, view(config_.marketplace, eth::encode_call(kGetRequest, {id})));
  auto state = st[R_STATE].as_uint().as_u64();
  if (state == S_NONE) return std::nullopt;
  auto logs = logs_at(st[R_BLOCK].as_uint().as_u64(), topic(kRequestEvent), id);
  if (logs.empty()) throw std::runtime_error("request '" + request_id + "': its RequestMade event is missing");
  const auto& log = logs.front();
  auto ev = eth::decode(kRequestData, log.data);
  Request r;
  r.request_id = record_id_from_word(log.topics.at(1));
  r.offer_id = record_id_from_word(st[R_OFFER_ID].as_bytes());
  r.subscriber = ev[1].as_string();
  r.sealed_target = ev[2].as_bytes();
  r.escrow = u64(st[R_ESCROW]);
  r.reply_key = ev[4].as_bytes();
  r.home = name_at(st[R_HOME]);
  r.provider = name_at(st[R_PROVIDER]);
  r.state = state_of(state);
  r.requested_at = u64(st[R_REQUESTED_AT]);
  r.expires_at = u64(st[R_EXPIRES_AT]);
  r.activated_at = u64(st[R_ACTIVATED_AT]);
  r.activation_plmn = plmn_from_bytes6(st[R_ACTIVATION_PLMN].as_bytes());
  r.charged = u64(st[R_CHARGED]);
  r.held = u64(st[R_HELD]);
  // What was returned on close is exactly the escrow not charged.
  r.refunded = r.state == RequestState::Closed ? r.escrow - r.charged : 0;
  r.usage_reports = u64(st[R_USAGE_REPORTS]);
  r.answer_by = u64(st[R_ANSWER_BY]);
  r.used = {u64(st[R_USED_DATA]), u64(st[R_USED_MINUTES]), u64(st[R_USED_SMS])};
  r.period_end = u64(st[R_PERIOD_END]);
  r.accepted_at = u64(st[R_ACCEPTED_AT]);
  if (st[R_ARBITER].as_uint().as_u64() != 0) r.arbiter = name_at(st[R_ARBITER]);
  r.position = position_of(log);
  return r;
}

std::optional<Accept> ChainMarket::find_accept(const std::string& request_id) {
  Bytes id = record_id_word(request_id);
  auto st = eth::decode(kRequestTuple, view(config_.marketplace, eth::encode_call(kGetRequest, {id})));
  auto block = st[R_ACCEPT_BLOCK].as_uint().as_u64();
  if (st[R_STATE].as_uint().as_u64() == S_NONE || block == 0) return std::nullopt;
  auto logs = logs_at(block, topic(kAcceptEvent), id);
  if (logs.empty()) throw std::runtime_error("request '" + request_id + "': its Accepted event is missing");
  const auto& log = logs.front();
  auto ev = eth::decode(kAcceptData, log.data);
  Accept a;
  a.request_id = record_id_from_word(log.topics.at(1));
  a.sealed_profile = ev[2].as_bytes();
  a.package_hash = ev[1].as_bytes();
  a.provider = name_at_topic(log.topics.at(2));
  a.position = position_of(log);
  return a;
}

Balance ChainMarket::balance(const std::string& participant) {
  // By id: the balance of the participant's current key and its escrow.
  auto out = eth::decode("(uint256,uint256)", view(config_.marketplace, eth::encode_call(kBalancesOf, {participant})));
  return {word_int(out[0].as_uint()), word_int(out[1].as_uint())};
}

std::optional<Event> ChainMarket::to_event(const eth::Log& log) {
  if (log.topics.empty()) return std::nullopt;
  const Bytes& t0 = log.topics[0];
  Event e;
  e.position = position_of(log);
  e.reference = eth::hex0x(log.tx_hash);
  if (log.address == config_.sdrt) {
    // Only new money is a ledger event; SDRt transfers made by the
    // Marketplace (escrow, settlement, refund) have their own events.
    if (t0 != topic(kTransferEvent) || log.topics.size() < 3 || !is_zero(eth::topic_address(log.topics[1])))
      return std::nullopt;
    e.type = "mint";
    e.author = name_of(issuer_);
    e.counterparty = name_of(eth::topic_address(log.topics[2]));
    e.amount = word_int(eth::decode("(uint256)", log.data)[0].as_uint());
    // Transfer carries no time: the block's.
    e.time = static_cast<std::int64_t>(rpc_->get_block_timestamp(log.block_number));
    return e;
  }
  if (log.address != config_.marketplace || log.topics.size() < 2) return std::nullopt;
  e.id = record_id_from_word(log.topics[1]);
  if (t0 == topic(kOfferEvent)) {
    auto d = eth::decode(kOfferData, log.data);
    e.type = "offer";
    e.author = name_at_topic(log.topics.at(2));
    e.time = u64(d[4]);
  } else if (t0 == topic(kOfferWithdrawnEvent)) {
    e.type = "offer-withdrawn";
    e.author = name_at_topic(log.topics.at(2));
    e.time = u64(eth::decode(kOfferWithdrawnData, log.data)[0]);
  } else if (t0 == topic(kOfferEditedEvent)) {
    e.type = "offer-edited";
    e.author = name_at_topic(log.topics.at(2));
    e.time = u64(eth::decode(kOfferEditedData, log.data)[3]);
  } else if (t0 == topic(kRequestEvent)) {
    auto d = eth::decode(kRequestData, log.data);
    e.type = "request";
    e.author = name_at_topic(log.topics.at(3));
    e.counterparty = name_at(d[0]);
    e.amount = u64(d[3]);
    e.time = u64(d[6]);
  } else if (t0 == topic(kAcceptEvent)) {
    auto d = eth::decode(kAcceptData, log.data);
    e.type = "accept";
    e.author = name_at_topic(log.topics.at(2));
    e.counterparty = name_at(d[0]);
    e.time = u64(d[3]);
  } else if (t0 == topic(kActivateEvent)) {
    auto d = eth::decode(kActivateData, log.data);
    e.type = "activation";
    e.author = name_at_topic(log.topics.at(2));
    e.counterparty = name_at(d[0]);
    e.time = u64(d[2]);
  } else if (t0 == topic(kUsageEvent)) {
    auto d = eth::decode(kUsageData, log.data);
    e.type = "usage";
    e.author = name_at_topic(log.topics.at(2));
    e.counterparty = name_at(d[0]);
    e.amount = u64(d[6]);
    e.time = u64(d[7]);
  } else if (t0 == topic(kDisputeEvent)) {
    auto d = eth::decode(kDisputeData, log.data);
    e.type = "dispute";
    e.author = name_at_topic(log.topics.at(2));
    e.counterparty = name_at(d[0]);
    e.time = u64(d[3]);
  } else if (t0 == topic(kResolveEvent)) {
    auto d = eth::decode(kResolveData, log.data);
    e.type = "resolve";
    e.author = name_at_topic(log.topics.at(2));
    e.escrow_of = name_at(d[0]);
    e.counterparty = name_at(d[1]);
    e.amount = u64(d[2]);
    e.time = u64(d[3]);
  } else if (t0 == topic(kReleaseEvent)) {
    auto d = eth::decode(kReleaseData, log.data);
    e.type = "release";
    e.author = name_at_topic(log.topics.at(2));
    e.escrow_of = name_at(d[0]);
    e.counterparty = name_at(d[1]);
    e.amount = u64(d[2]);
    e.time = u64(d[3]);
  } else if (t0 == topic(kRefundEvent)) {
    auto d = eth::decode(kRefundData, log.data);
    e.type = "refund";
    e.author = name_at_topic(log.topics.at(2));
    e.counterparty = name_at(d[0]);
    e.amount = u64(d[1]);
    e.time = u64(d[2]);
  } else {
    return std::nullopt;
  }
  return e;
}

std::vector<Event> ChainMarket::events_after(std::int64_t position, std::size_t limit) {
  std::vector<Event> out;
  if (limit == 0) return out;
  std::uint64_t from = std::max<std::uint64_t>(deployed_at_, position < 0 ? 0 : static_cast<std::uint64_t>(position / kChainPositionsPerBlock));
  const std::uint64_t head = rpc_->block_number();
  eth::LogFilter f;
  f.addresses = {config_.sdrt, config_.marketplace};
  f.topics = {{topic(kTransferEvent), topic(kOfferEvent), topic(kOfferWithdrawnEvent), topic(kOfferEditedEvent),
               topic(kRequestEvent), topic(kAcceptEvent),
               topic(kActivateEvent), topic(kUsageEvent), topic(kRefundEvent), topic(kDisputeEvent),
               topic(kResolveEvent), topic(kReleaseEvent)}};
  const std::uint64_t range = std::max<std::uint64_t>(1, config_.max_log_range);
  while (from <= head && out.size() < limit) {
    f.from_block = from;
    f.to_block = std::min(head, from + range - 1);
    for (const auto& log : rpc_->get_logs(f)) {
      if (log.removed || position_of(log) <= position) continue;
      if (auto e = to_event(log)) out.push_back(std::move(*e));
    }
    from = f.to_block + 1;
  }
  // Nodes return logs in chain order; sorting keeps the cursor promise even
  // if one does not.
  std::stable_sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.position < b.position; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace rsp::ledger
