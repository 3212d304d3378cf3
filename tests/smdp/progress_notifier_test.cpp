// The ES2+ progress outbox shared by several smdpd instances (issue 12,
// docs/smdp.md "Several instances"): each entry is delivered once, not once
// per instance, and none is lost.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "../common/pg_cluster.hpp"
#include "rsp/http_server.hpp"
#include "rsp/smdp/progress_notifier.hpp"
#include "rsp/store.hpp"

using namespace rsp;

TEST(ProgressNotifier, TwoInstancesDeliverEachEntryOnce) {
  // A slow operator endpoint: each call takes 20 ms, so both workers poll
  // while the other's delivery is in flight.
  std::mutex mu;
  std::map<std::string, int> calls;  // iccid -> deliveries
  http::ServerConfig sc;
  http::Server endpoint(sc, [&](const http::Request& r) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::lock_guard l(mu);
    ++calls[nlohmann::json::parse(r.body).at("iccid").get<std::string>()];
    return http::Response::json(R"({"header":{"functionExecutionStatus":{"status":"Executed-Success"}}})");
  });
  endpoint.start();
  const std::map<std::string, std::string> endpoints{
      {"op1", "http://127.0.0.1:" + std::to_string(endpoint.port()) + "/gsma/rsp2/es2plus/handleDownloadProgressInfo"}};

  auto dir = std::filesystem::temp_directory_path() / ("rsp-outbox-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = test::test_store((dir / "smdp.db").string());
  store::Db db_a(path), db_b(path);
  smdp::ProgressNotifier a(db_a, endpoints, http::ClientConfig{}, "smdp.example");
  smdp::ProgressNotifier b(db_b, endpoints, http::ClientConfig{}, "smdp.example");
  constexpr int kEntries = 24;
  for (int i = 0; i < kEntries; ++i) {
    smdp::ProgressEvent e;
    e.owner = "op1";
    e.iccid = "89000000000000000" + std::to_string(100 + i);
    e.profile_type = "test";
    e.notification_point_id = 1;
    e.success = true;
    (i % 2 ? a : b).enqueue(e);
  }
  a.start();
  b.start();
  for (int i = 0; i < 500 && a.pending() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  a.stop();
  b.stop();
  EXPECT_EQ(a.pending(), 0u);
  std::lock_guard l(mu);
  EXPECT_EQ(calls.size(), static_cast<std::size_t>(kEntries)) << "an entry was lost";
  for (auto& [iccid, n] : calls) EXPECT_EQ(n, 1) << iccid << " delivered " << n << " times";
  endpoint.stop();
  std::filesystem::remove_all(dir);
}
