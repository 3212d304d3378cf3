// Metrics for the servers' /metrics endpoints: counters, gauges and
// histograms with labels, rendered in the Prometheus text exposition format
// 0.0.4 (docs/operations.md, "Metrics").
//
// The hot path is lock-free: a metric is an atomic, and a labelled child is
// found once under a short lock (Family::with) -- callers that count often
// keep the reference. Nothing is held while a request runs. Gauges that
// describe the store (inventory, outbox) are computed when scraped
// (Registry::on_scrape), not kept up to date on every change.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rsp::metrics {

// The Content-Type of the text format (Prometheus exposition format 0.0.4).
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label values are free text: backslash, double quote and line feed are
// escaped (\\, \", \n); everything else is kept as UTF-8.
std::string escape_label_value(std::string_view v);
// HELP text: backslash and line feed are escaped.
std::string escape_help(std::string_view v);
// A sample value: integers without a fraction, +Inf, -Inf, NaN, otherwise
// the shortest decimal that reads back as the same double.
std::string format_value(double v);

// Only goes up (resets when the process starts again; Prometheus' rate()
// handles that).
class Counter {
 public:
  void inc(double by = 1) { v_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1) { v_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1) { v_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Observations counted into buckets by upper bound (an observation equal to
// a bound is in that bucket, `le` = less or equal). Stored per bucket and
// made cumulative when rendered; _count is the +Inf bucket, so the two always
// agree within one scrape.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative counts, one per bound and a last one for +Inf; and the sum.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds: 1 ms to 10 s (an ES9+ call signs and verifies
// ECDSA, a few ms; a slow store or HSM shows in the upper ones).
std::vector<double> default_latency_buckets();

// All the metrics of one name: one child per combination of label values.
template <class M>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<M>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}
  // The child with these label values (in the order of the family's label
  // names), created at first use. The reference stays valid as long as the
  // registry does (clear() aside).
  M& with(const std::vector<std::string>& values = {});
  // Drops every child: for gauges recomputed at each scrape, so that a label
  // combination that is gone (a profile type with no profiles left) is not
  // reported with its last value.
  void clear();
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls f(values, metric) for each child, in label-value order.
  void each(const std::function<void(const std::vector<std::string>&, const M&)>& f) const;

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

class Registry {
 public:
  // Registers a family, or returns the one of that name registered before
  // with the same type and label names (std::invalid_argument otherwise, and
  // for names that are not Prometheus metric/label names).
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                               std::vector<double> upper_bounds);
  // Called at the start of every render(), one scrape at a time: sets the
  // gauges that are computed from elsewhere (the store). An exception from it
  // is counted in rsp_metrics_collect_errors_total and otherwise ignored (a
  // scrape still returns what is known).
  void on_scrape(std::function<void()> collect);
  // Every family, sorted by name, in the text exposition format 0.0.4.
  std::string render();

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Entry {
    Type type;
    std::string help;
    std::vector<std::string> label_names;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  Entry& entry(const std::string& name, Type type, const std::string& help, const std::vector<std::string>& labels);
  std::mutex mu_;         // the families map
  std::mutex scrape_mu_;  // one scrape (collectors + render) at a time
  std::map<std::string, Entry> families_;
  std::vector<std::function<void()>> collectors_;
};

// ---------------------------------------------------------------------------

template <class M>
M& Family<M>::with(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metrics: " + std::to_string(values.size()) + " label values for " +
                                std::to_string(label_names_.size()) + " label names");
  return *children_.emplace(values, make_()).first->second;
}

template <class M>
void Family<M>::clear() {
  std::lock_guard lock(mu_);
  children_.clear();
}

template <class M>
void Family<M>::each(const std::function<void(const std::vector<std::string>&, const M&)>& f) const {
  std::lock_guard lock(mu_);
  for (const auto& [values, m] : children_) f(values, *m);
}

}  // namespace rsp::metrics
