// rsp::metrics against the Prometheus text exposition format 0.0.4
// (prometheus.io/docs/instrumenting/exposition_formats): the exact text of a
// small registry, label-value escaping, cumulative histogram buckets.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "rsp/metrics.hpp"

using namespace rsp::metrics;

TEST(Metrics, SmallRegistryRendersExactly) {
  Registry r;
  auto& req = r.counter("smdp_es9plus_requests_total", "ES9+ calls by function and result", {"function", "result"});
  req.with({"initiateAuthentication", "executed-success"}).inc();
  req.with({"initiateAuthentication", "executed-success"}).inc();
  req.with({"authenticateClient", "8.1.1/3.8"}).inc();
  r.gauge("smdp_profiles", "Profiles by type and state", {"type", "state"}).with({"default", "available"}).set(7);
  auto& lat = r.histogram("smdp_request_duration_seconds", "Latency", {"function"}, {0.01, 0.1, 1});
  auto& h = lat.with({"getBoundProfilePackage"});
  h.observe(0.005);  // <= 0.01
  h.observe(0.01);   // == bound: le is "less or equal"
  h.observe(0.5);    // <= 1
  h.observe(3);      // +Inf only
  r.counter("up_total", "no labels").with().inc(3);

  // Families sorted by name, children by label values; buckets cumulative,
  // _count equal to the +Inf bucket.
  EXPECT_EQ(r.render(),
            "# HELP smdp_es9plus_requests_total ES9+ calls by function and result\n"
            "# TYPE smdp_es9plus_requests_total counter\n"
            "smdp_es9plus_requests_total{function=\"authenticateClient\",result=\"8.1.1/3.8\"} 1\n"
            "smdp_es9plus_requests_total{function=\"initiateAuthentication\",result=\"executed-success\"} 2\n"
            "# HELP smdp_profiles Profiles by type and state\n"
            "# TYPE smdp_profiles gauge\n"
            "smdp_profiles{type=\"default\",state=\"available\"} 7\n"
            "# HELP smdp_request_duration_seconds Latency\n"
            "# TYPE smdp_request_duration_seconds histogram\n"
            "smdp_request_duration_seconds_bucket{function=\"getBoundProfilePackage\",le=\"0.01\"} 2\n"
            "smdp_request_duration_seconds_bucket{function=\"getBoundProfilePackage\",le=\"0.1\"} 2\n"
            "smdp_request_duration_seconds_bucket{function=\"getBoundProfilePackage\",le=\"1\"} 3\n"
            "smdp_request_duration_seconds_bucket{function=\"getBoundProfilePackage\",le=\"+Inf\"} 4\n"
            "smdp_request_duration_seconds_sum{function=\"getBoundProfilePackage\"} 3.515\n"
            "smdp_request_duration_seconds_count{function=\"getBoundProfilePackage\"} 4\n"
            "# HELP up_total no labels\n"
            "# TYPE up_total counter\n"
            "up_total 3\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  // The three characters the format escapes in label values: \ " and LF.
  r.counter("x_total", "a \\ help\nline", {"v"}).with({"C:\\dir \"q\"\nnext"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP x_total a \\\\ help\\nline\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"C:\\\\dir \\\"q\\\"\\nnext\"} 1\n");
}

TEST(Metrics, ValuesAndBadNames) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(12345678), "12345678");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  Registry r;
  EXPECT_THROW(r.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "x", {"le"}), std::invalid_argument);  // reserved for histograms
  EXPECT_THROW(r.counter("ok_total", "x", {"__x"}), std::invalid_argument);
  r.counter("dup_total", "x", {"a"});
  EXPECT_THROW(r.gauge("dup_total", "x", {"a"}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("dup_total", "x", {"a"}));
  EXPECT_THROW(r.counter("dup_total", "x", {"a"}).with({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "x", {}, {1, 0.5}), std::invalid_argument);
}

TEST(Metrics, ScrapeCollectorsSetGaugesAndClearOldLabels) {
  Registry r;
  auto& g = r.gauge("depth", "outbox depth", {"state"});
  int scrapes = 0;
  r.on_scrape([&] {
    g.clear();
    if (++scrapes == 1) g.with({"pending"}).set(3);
    else g.with({"failed"}).set(1);
  });
  EXPECT_NE(r.render().find("depth{state=\"pending\"} 3\n"), std::string::npos);
  std::string second = r.render();
  EXPECT_EQ(second.find("pending"), std::string::npos) << second;
  EXPECT_NE(second.find("depth{state=\"failed\"} 1\n"), std::string::npos);
  r.on_scrape([] { throw std::runtime_error("store gone"); });
  EXPECT_NE(r.render().find("rsp_metrics_collect_errors_total 1\n"), std::string::npos);
}

TEST(Metrics, CountersFromManyThreadsAddUp) {
  Registry r;
  auto& f = r.counter("n_total", "x", {"t"});
  auto& h = r.histogram("h_seconds", "x", {}, {1}).with();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        f.with({std::to_string(t % 2)}).inc();
        h.observe(0.5);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(f.with({"0"}).value() + f.with({"1"}).value(), 40000);
  EXPECT_EQ(h.cumulative_counts().back(), 40000u);
  EXPECT_DOUBLE_EQ(h.sum(), 20000);
}
