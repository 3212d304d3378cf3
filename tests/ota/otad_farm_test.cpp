// Issue 10, must-show 4: a campaign over 1,000 simulated cards (in this
// process: the simulated SMSC, 1,000 handsets, each card the library's
// receiving entity with an RFM application over a fake file system) run by
// otad as a separate process, killed with SIGKILL in the middle and
// restarted on the same store. The campaign completes: every card's PoR
// recorded, every card ran its script exactly once, no counter reused (each
// card saw strictly increasing counters), no card skipped. Prints the
// figures and a progress line as it goes.
#include <gtest/gtest.h>

#include <cstdlib>

#include "otad_harness.hpp"

using namespace otad_test;
using namespace std::chrono_literals;

TEST(OtadFarm, ThousandCardsSurviveKillDashNine) {
  const std::size_t n = 1000;
  auto t0 = std::chrono::steady_clock::now();
  Farm farm(n);
  OtadFiles files(farm.port, json{{"campaigns", {{"max_in_flight", 200}}}});
  auto otad = std::make_unique<OtadProcess>(OTAD_BINARY, files);
  ASSERT_NE(otad->port(), 0);
  auto c = files.client();
  json cards = json::array();
  for (std::size_t i = 0; i < n; ++i) {
    auto r = c.post(otad->url("/ota/v1/cards"), register_body(i).dump(), json_headers());
    ASSERT_EQ(r.status, 201) << r.body;
    cards.push_back(iccid(i));
  }
  auto t_registered = std::chrono::steady_clock::now();
  auto r = c.post(otad->url("/ota/v1/campaigns"),
                  json{{"tar", "B00010"}, {"apdus", {"00A40004022FE2", "00B000000A"}}, {"cards", cards}, {"sms_per_second", 250}}.dump(),
                  json_headers());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  std::string status_url = "/ota/v1/campaigns/" + id;

  auto progress = [&](const json& s) {
    std::size_t done = s["done"];
    int bar = static_cast<int>(40 * done / n);
    std::printf("[%-40s] %4zu/%zu ok %zu err %zu retrying %zu sent %zu\n", std::string(static_cast<std::size_t>(bar), '#').c_str(),
                done, n, s["counts"]["por_ok"].get<std::size_t>(), s["counts"]["por_error"].get<std::size_t>(),
                s["counts"]["retrying"].get<std::size_t>(), s["counts"]["sent"].get<std::size_t>());
    std::fflush(stdout);
  };
  // Kill in the middle: once between 30 % and 70 % of the cards are done.
  json s;
  for (int i = 0; i < 600; ++i) {
    s = json::parse(c.get(otad->url(status_url)).body);
    if (s["done"].get<std::size_t>() >= n * 3 / 10) break;
    if (i % 10 == 0) progress(s);
    std::this_thread::sleep_for(50ms);
  }
  progress(s);
  std::size_t done_at_kill = s["done"];
  ASSERT_LT(done_at_kill, n * 7 / 10) << "the campaign ran too fast to be killed in the middle";
  otad->kill(SIGKILL);
  auto t_killed = std::chrono::steady_clock::now();
  std::printf("otad killed with SIGKILL at %zu/%zu cards done\n", done_at_kill, n);
  std::this_thread::sleep_for(300ms);  // the cards answer what is in flight; the SMSC keeps those PoRs

  otad = std::make_unique<OtadProcess>(OTAD_BINARY, files);
  ASSERT_NE(otad->port(), 0);
  for (int i = 0; i < 1200; ++i) {
    s = json::parse(c.get(otad->url(status_url)).body);
    if (s["state"] == "done") break;
    if (i % 10 == 0) progress(s);
    std::this_thread::sleep_for(50ms);
  }
  progress(s);
  auto t_done = std::chrono::steady_clock::now();
  ASSERT_EQ(s["state"], "done") << s.dump();
  EXPECT_EQ(s["counts"]["por_ok"], n) << s.dump();

  // Every card: PoR 00 recorded with counter 1, in the state otad reports.
  json all = json::parse(c.get(otad->url(status_url + "?cards=all")).body);
  ASSERT_EQ(all["cards"].size(), n);
  std::size_t recorded = 0;
  for (const auto& card : all["cards"])
    if (card["state"] == "por_ok" && card["por_status"] == "00" && card["cntr"] == 1) ++recorded;
  EXPECT_EQ(recorded, n);

  // The cards' side: each ran exactly one packet; counters strictly
  // increasing and none repeated among the packets a card received.
  std::size_t ran_once = 0, replays = 0, skipped = 0, out_of_order = 0;
  for (auto& card : farm.cards) {
    std::lock_guard l(card->mu);
    if (card->executed == std::vector<std::uint64_t>{1}) ++ran_once;
    if (card->executed.empty()) ++skipped;
    for (std::size_t i = 1; i < card->received.size(); ++i) {
      if (card->received[i] == card->received[i - 1]) ++replays;
      else if (card->received[i] < card->received[i - 1]) ++out_of_order;
    }
  }
  EXPECT_EQ(ran_once, n);
  EXPECT_EQ(skipped, 0u);
  EXPECT_EQ(out_of_order, 0u);
  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf("cards %zu, registered in %.1f s, killed at %zu done, campaign done %.1f s after the restart, "
              "total %.1f s; PoR 00 recorded %zu, ran once %zu, skipped %zu, packets received twice %zu\n",
              n, secs(t_registered - t0), done_at_kill, secs(t_done - t_killed), secs(t_done - t0), recorded, ran_once,
              skipped, replays);
  // After the restart otad waits for the PoRs of what was out before it
  // sends anything again: no card got a packet twice.
  EXPECT_EQ(replays, 0u);
  std::ifstream log(files.dir.path / "otad.log");
  for (std::string line; std::getline(log, line);)
    if (line.find("resumed") != std::string::npos) std::printf("otad after the restart: %s\n", line.c_str());
}
