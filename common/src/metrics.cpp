#include "rsp/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

namespace rsp::metrics {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Counts are the common case: no ".0", no exponent below 2^53.
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    throw std::invalid_argument("metrics: histogram bounds must be strictly increasing");
  if (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();  // +Inf is always there
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
}

void Histogram::observe(double v) {
  std::size_t i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = total += counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

namespace {

bool valid_metric_name(const std::string& n) {
  static const std::regex re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(n, re);
}
bool valid_label_name(const std::string& n) {
  // "__" names are reserved for Prometheus; "le" is the histogram's own.
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(n, re) && n.rfind("__", 0) != 0 && n != "le";
}

// {a="x",b="y"} (empty when there are no labels), with `extra` (le="...") last.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = {}) {
  if (names.empty() && extra.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + escape_label_value(values[i]) + '"';
  }
  if (!extra.empty()) out += (names.empty() ? "" : ",") + extra;
  return out + '}';
}

}  // namespace

Registry::Entry& Registry::entry(const std::string& name, Type type, const std::string& help,
                                 const std::vector<std::string>& labels) {
  if (!valid_metric_name(name)) throw std::invalid_argument("metrics: '" + name + "' is not a metric name");
  for (const auto& l : labels)
    if (!valid_label_name(l)) throw std::invalid_argument("metrics: '" + l + "' is not a label name of " + name);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second.type != type || it->second.label_names != labels)
      throw std::invalid_argument("metrics: " + name + " registered before with another type or labels");
    return it->second;
  }
  Entry& e = families_[name];
  e.type = type;
  e.help = help;
  e.label_names = labels;
  return e;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Type::Counter, help, label_names);
  if (!e.counter)
    e.counter = std::make_unique<Family<Counter>>(std::move(label_names), [] { return std::make_unique<Counter>(); });
  return *e.counter;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Type::Gauge, help, label_names);
  if (!e.gauge)
    e.gauge = std::make_unique<Family<Gauge>>(std::move(label_names), [] { return std::make_unique<Gauge>(); });
  return *e.gauge;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  Histogram check(upper_bounds);  // bad bounds throw here, at registration
  std::lock_guard lock(mu_);
  Entry& e = entry(name, Type::Histogram, help, label_names);
  if (!e.histogram)
    e.histogram = std::make_unique<Family<Histogram>>(
        std::move(label_names), [b = std::move(upper_bounds)] { return std::make_unique<Histogram>(b); });
  return *e.histogram;
}

void Registry::on_scrape(std::function<void()> collect) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() {
  std::lock_guard scrape(scrape_mu_);
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (const auto& c : collectors) {
    try {
      c();
    } catch (const std::exception&) {
      counter("rsp_metrics_collect_errors_total", "Scrape-time collectors that failed (the store did not answer)")
          .with()
          .inc();
    }
  }
  std::lock_guard lock(mu_);
  std::string out;
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (const auto& family : families_) {
    const std::string& name = family.first;
    const auto& e = family.second;
    out += "# HELP " + name + ' ' + escape_help(e.help) + '\n';
    switch (e.type) {
      case Type::Counter:
        out += "# TYPE " + name + " counter\n";
        e.counter->each([&](const auto& values, const Counter& c) {
          out += name + label_set(e.label_names, values) + ' ' + format_value(c.value()) + '\n';
        });
        break;
      case Type::Gauge:
        out += "# TYPE " + name + " gauge\n";
        e.gauge->each([&](const auto& values, const Gauge& g) {
          out += name + label_set(e.label_names, values) + ' ' + format_value(g.value()) + '\n';
        });
        break;
      case Type::Histogram:
        out += "# TYPE " + name + " histogram\n";
        e.histogram->each([&](const auto& values, const Histogram& h) {
          auto counts = h.cumulative_counts();
          const auto& bounds = h.upper_bounds();
          for (std::size_t i = 0; i < counts.size(); ++i) {
            std::string le = i < bounds.size() ? format_value(bounds[i]) : "+Inf";
            out += name + "_bucket" + label_set(e.label_names, values, "le=\"" + le + '"') + ' ' +
                   format_value(static_cast<double>(counts[i])) + '\n';
          }
          out += name + "_sum" + label_set(e.label_names, values) + ' ' + format_value(h.sum()) + '\n';
          out += name + "_count" + label_set(e.label_names, values) + ' ' +
                 format_value(static_cast<double>(counts.back())) + '\n';
        });
        break;
    }
  }
  return out;
}

}  // namespace rsp::metrics
