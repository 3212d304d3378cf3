// lpac's ES10 commands (tests/interop/data/lpac-es10.json: every C-APDU lpac
// sent in a run against euicc-sim through pcscd/vpcd, with the card's
// answers; the file names the lpac commit and commands) replayed through the
// eUICC simulator's APDU entry point, Euicc::transmit, exactly as lpac sent
// them: MANAGE CHANNEL, SELECT, STORE DATA blocks. GET RESPONSE follows our
// card's 61xx, as lpac's did. BoundProfilePackage segments are ours (built by
// our SM-DP+) and are not replayed.
//
// Each complete ES10 command must decode with our module's decoder and be
// answered with its own response type and status 9000: never 6A80 (wrong
// data: the command did not decode) or 6D00/6E00. The card replays the run's
// history: the same TS.48 package installed (by our LPA, not lpac's session,
// whose signatures are bound to the run's challenges) where lpac installed it,
// so each profile and notification operation must also give the run's result.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "../e2e/world.hpp"
#include "corpus.hpp"
#include "es10_commands.hpp"
#include "rsp/apdu.hpp"
#include "rsp/lpa/download.hpp"

namespace rsp::interop {
namespace {

using nlohmann::json;

struct Apdu {
  Bytes c, r;
};
struct LpacRun {
  std::string command;
  std::vector<Apdu> apdus;
};

std::vector<LpacRun> runs(const json& v) {
  std::vector<LpacRun> out;
  for (const auto& r : v.at("runs")) {
    LpacRun run{r.at("command"), {}};
    for (const auto& a : r.at("apdus"))
      run.apdus.push_back({from_hex(a.at("c").get<std::string>()), from_hex(a.at("r").get<std::string>())});
    out.push_back(std::move(run));
  }
  return out;
}

std::uint16_t sw_of(ByteView r) {
  return r.size() < 2 ? 0 : static_cast<std::uint16_t>(r[r.size() - 2] << 8 | r[r.size() - 1]);
}
Bytes data_of(ByteView r) { return r.size() < 2 ? Bytes() : Bytes(r.begin(), r.end() - 2); }

// ISO 7816-4 5.4.1: channels 0-3 in bits 1-2, 4-19 in bits 1-4 with bit 7 set.
std::uint8_t channel_of(std::uint8_t cla) {
  return (cla & 0x40) ? static_cast<std::uint8_t>(4 + (cla & 0x0F)) : (cla & 0x03);
}
std::uint8_t with_channel(std::uint8_t cla, std::uint8_t ch) {
  if (ch < 4) return static_cast<std::uint8_t>((cla & 0xBC) | ch);
  return static_cast<std::uint8_t>((cla & 0x80) | 0x40 | (ch - 4));
}

// One ES10 command as lpac sent it and as the card answered, in the run and now.
struct Es10Exchange {
  std::string run;
  Bytes command;
  Bytes run_response, our_response;
  std::uint16_t run_sw = 0, our_sw = 0;
};

// Replays one lpac run's APDUs on `card`; returns its complete ES10
// commands with both answers. Non-ES10 APDUs must answer as they did.
std::vector<Es10Exchange> replay(apdu::Transport& card, const LpacRun& run) {
  std::vector<Es10Exchange> out;
  std::map<std::uint8_t, std::uint8_t> channel_map = {{0, 0}};  // lpac's channel -> ours
  std::map<std::uint8_t, Bytes> pending;                         // STORE DATA so far, per channel
  bool in_bpp = false;
  std::vector<std::uint8_t> opened_here;
  for (std::size_t i = 0; i < run.apdus.size(); ++i) {
    const Apdu& a = run.apdus[i];
    SCOPED_TRACE(run.command + " APDU " + std::to_string(i) + " " + to_hex(a.c));
    if (a.c.size() < 4) continue;
    std::uint8_t ins = a.c[1];
    if (ins == 0xC0) continue;  // GET RESPONSE: issued below for our own 61xx
    std::uint8_t run_ch = channel_of(a.c[0]);
    Bytes c = a.c;
    if (ins != 0x70 || c[2] == 0x80) {  // not MANAGE CHANNEL open
      if (!channel_map.count(run_ch)) {
        // lpac's PC/SC driver opened this channel and selected the ISD-R
        // below its trace: do the same (MANAGE CHANNEL, SELECT by AID).
        Bytes opened = card.transmit(from_hex("0070000001"));
        if (sw_of(opened) != 0x9000) {
          ADD_FAILURE() << "MANAGE CHANNEL answered " << std::hex << sw_of(opened);
          return out;
        }
        std::uint8_t ours = opened[0];
        apdu::Command select{with_channel(0x00, ours), 0xA4, 0x04, 0x00, sim::kIsdrAid, 256};
        Bytes selected = card.transmit(select.encode());
        while ((sw_of(selected) >> 8) == 0x61)
          selected = card.transmit(apdu::Command{with_channel(0x00, ours), 0xC0, 0, 0, {}, 256}.encode());
        if (sw_of(selected) != 0x9000) {
          ADD_FAILURE() << "SELECT ISD-R answered " << std::hex << sw_of(selected);
          return out;
        }
        channel_map[run_ch] = ours;
        opened_here.push_back(ours);
      }
      c[0] = with_channel(c[0], channel_map[run_ch]);
      if (ins == 0x70 && c[2] == 0x80) c[3] = channel_map[a.c[3]];
    }
    if (ins == 0xE2) {
      // A STORE DATA sequence starting with a BoundProfilePackage segment
      // (BF36, then A0..A3/86/87/88) is our SM-DP+'s encoding: not replayed.
      std::uint8_t first = c.size() > 5 ? c[5] : 0;
      bool starts = c[3] == 0;
      if (starts) {
        bool bpp_tag = first == 0xA0 || first == 0xA1 || first == 0xA2 || first == 0xA3 || first == 0x86 ||
                       first == 0x87 || first == 0x88;
        in_bpp = (c.size() > 6 && first == 0xBF && c[6] == 0x36) || (in_bpp && bpp_tag);
      }
      if (in_bpp) continue;
    }
    Bytes r = card.transmit(c);
    Bytes data = data_of(r);
    std::uint16_t sw = sw_of(r);
    while ((sw >> 8) == 0x61) {
      apdu::Command g{with_channel(0x00, channel_of(c[0])), 0xC0, 0, 0, {},
                      static_cast<std::size_t>((sw & 0xFF) ? (sw & 0xFF) : 256)};
      Bytes more = card.transmit(g.encode());
      append(data, data_of(more));
      sw = sw_of(more);
    }
    // The run's answer, with its GET RESPONSE continuations.
    Bytes run_data = data_of(a.r);
    std::uint16_t run_sw = sw_of(a.r);
    for (std::size_t j = i + 1; (run_sw >> 8) == 0x61 && j < run.apdus.size() && run.apdus[j].c.size() >= 2 &&
                                run.apdus[j].c[1] == 0xC0;
         ++j) {
      append(run_data, data_of(run.apdus[j].r));
      run_sw = sw_of(run.apdus[j].r);
    }
    if (ins == 0x70 && a.c[2] == 0x00) {  // MANAGE CHANNEL open: map lpac's channel to ours
      EXPECT_EQ(sw, 0x9000);
      if (!run_data.empty() && !data.empty()) channel_map[run_data[0]] = data[0];
      continue;
    }
    if (ins != 0xE2) {
      EXPECT_EQ(sw, run_sw) << "answer to " << to_hex(a.c);
      continue;
    }
    std::uint8_t ch = channel_of(c[0]);
    if (c[3] == 0) pending[ch].clear();
    std::size_t lc = c.size() > 4 ? c[4] : 0;
    append(pending[ch], ByteView(c).subspan(5, std::min(lc, c.size() - 5)));
    if (!(c[2] & 0x80)) {  // more blocks follow
      EXPECT_EQ(sw, 0x9000);
      continue;
    }
    out.push_back({run.command, pending[ch], run_data, data, run_sw, sw});
    pending[ch].clear();
  }
  for (std::uint8_t ch : opened_here) {  // and closed it when lpac ended
    Bytes closed = card.transmit(Bytes{0x00, 0x70, 0x80, ch, 0x00});
    EXPECT_EQ(sw_of(closed), 0x9000);
  }
  return out;
}

// The checks every replayed ES10 command passes, whatever the card's state.
void check_decodes_and_answers(const Es10Exchange& x) {
  SCOPED_TRACE(x.run + ": " + to_hex(x.command).substr(0, 64));
  auto t = tlv::parse_one(x.command);
  const Es10Command* cmd = es10_command(t.tag);
  ASSERT_NE(cmd, nullptr) << "lpac sent an ES10 command we have no entry for";
  EXPECT_NO_THROW(decode_as(*cmd->request, x.command)) << cmd->name << " as lpac encodes it";
  EXPECT_NE(x.our_sw, 0x6A80) << cmd->name;
  EXPECT_NE(x.our_sw, 0x6D00) << cmd->name;
  EXPECT_NE(x.our_sw, 0x6E00) << cmd->name;
  ASSERT_EQ(x.our_sw, 0x9000) << cmd->name;
  ASSERT_FALSE(x.our_response.empty()) << cmd->name;
  EXPECT_EQ(tlv::parse_one(x.our_response).tag, t.tag) << cmd->name;
  EXPECT_NO_THROW(decode_as(*cmd->response, x.our_response)) << cmd->name;
  // What the card answered lpac in the run is the same type (lpac took it).
  EXPECT_EQ(x.run_sw, 0x9000) << cmd->name;
  EXPECT_NO_THROW(decode_as(*cmd->response, x.run_response)) << cmd->name;
}

struct LpacEs10 : ::testing::Test {
  json v = load_vector("lpac-es10.json");
  std::vector<LpacRun> all = runs(v);
};

TEST_F(LpacEs10, CorpusCoversTheEs10CommandsLpacUses) {
  std::set<std::string> names;
  for (const auto& run : all) {
    // Reassemble the commands from the captured blocks only (no card).
    std::map<std::uint8_t, Bytes> pending;
    for (const auto& a : run.apdus) {
      if (a.c.size() < 5 || a.c[1] != 0xE2) continue;
      std::uint8_t ch = channel_of(a.c[0]);
      if (a.c[3] == 0) pending[ch].clear();
      append(pending[ch], ByteView(a.c).subspan(5, std::min<std::size_t>(a.c[4], a.c.size() - 5)));
      if (!(a.c[2] & 0x80)) continue;
      if (pending[ch].size() >= 2 && pending[ch][0] == 0xBF && pending[ch][1] == 0x36) continue;
      try {
        auto t = tlv::parse_one(pending[ch]);
        if (auto* c = es10_command(t.tag)) names.insert(c->name);
      } catch (const DecodeError&) {
        // a BPP segment (A0..A3/86/87/88 without its BF36 header)
      }
    }
  }
  for (const char* want :
       {"GetEuiccConfiguredAddresses", "SetDefaultDpAddress", "PrepareDownload", "GetEUICCChallenge",
        "GetEUICCInfo (EUICCInfo1)", "GetEUICCInfo (EUICCInfo2)", "ListNotification", "RetrieveNotificationsList",
        "RemoveNotificationFromList", "AuthenticateServer", "CancelSession", "GetProfilesInfo", "EnableProfile",
        "DisableProfile", "DeleteProfile", "eUICCMemoryReset", "GetEID", "SetNickname"})
    EXPECT_TRUE(names.count(want)) << want << " is not in the lpac corpus";
}

TEST_F(LpacEs10, EveryCommandDecodesAndGetsTheRunsAnswer) {
  auto profile = e2e::testdata("ts48/" + v.at("installed_upp").get<std::string>());
  if (!fs::exists(profile)) GTEST_SKIP() << "TS.48 test profiles absent";
  e2e::World w(crypto::Curve::P256, "lpac-es10");
  std::string iccid = w.stage(e2e::read_file(profile), "CORPUS");
  int commands = 0, same_result = 0, session_errors = 0;
  for (const auto& run : all) {
    SCOPED_TRACE(run.command);
    auto xs = replay(*w.euicc, run);
    bool download_session = run.command.rfind("profile download", 0) == 0;
    for (const auto& x : xs) {
      check_decodes_and_answers(x);
      ++commands;
      auto tag = tlv::parse_one(x.command).tag;
      const Es10Command* cmd = es10_command(tag);
      if (!cmd || x.our_sw != 0x9000 || x.our_response.empty()) continue;
      if (download_session) {
        // The run's RSP session cannot be replayed (its challenges are gone):
        // the session commands get their SGP.22 error, the CHOICE's [1].
        if (tag == 0xBF38 || tag == 0xBF21 || tag == 0xBF41) {
          auto choice = tlv::parse_one(tlv::parse_one(x.our_response).value).tag;
          EXPECT_TRUE(choice == 0xA1 || choice == 0x81) << cmd->name << " answered choice " << std::hex << choice;
          ++session_errors;
        }
        continue;
      }
      if (cmd->has_result) {
        EXPECT_EQ(result_of(x.our_response), result_of(x.run_response)) << cmd->name << " result";
        ++same_result;
      }
      if (tag == 0xBF2D || tag == 0xBF28) {  // profile and notification lists: the same entries
        EXPECT_EQ(tlv::parse_all(tlv::parse_one(x.our_response).value).size(),
                  tlv::parse_all(tlv::parse_one(x.run_response).value).size())
            << cmd->name;
      }
    }
    // Where lpac installed the package, our LPA installs the same one (its
    // install notification left pending, as lpac left it).
    if (run.command == v.at("install_after").get<std::string>()) {
      lpa::DownloadOptions opt;
      opt.es9.http.ca_file = w.tls_ca_pem;
      opt.notifications = lpa::DownloadOptions::Notifications::None;
      auto result = lpa::download(*w.euicc, lpa::ActivationCode::parse(w.activation_code("CORPUS")), opt);
      ASSERT_TRUE(result.installation.success);
      ASSERT_EQ(result.offer.iccid, iccid);
    }
  }
  RecordProperty("es10_commands", commands);
  RecordProperty("results_as_in_the_run", same_result);
  EXPECT_GE(commands, 20);
  EXPECT_GE(same_result, 5);
  EXPECT_EQ(session_errors, 4);  // AuthenticateServer in both downloads, PrepareDownload, CancelSession
}

}  // namespace
}  // namespace rsp::interop
