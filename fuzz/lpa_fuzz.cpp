// libFuzzer target: what the LPA parses from outside (SGP.22 LPAd): the
// eUICC's R-APDUs and ES10 responses (lpa/src/es10*.cpp, over a card link
// whose answers come from the input), the SM-DP+'s ES9+ responses
// (lpa/src/es9p.cpp) and BoundProfilePackages (lpa/src/bpp.cpp).
// Input: a selector byte (which function), then, for ES10, R-APDUs each
// prefixed by a two-byte big-endian length (the card answers 6F00 when they
// run out); for ES9+, the HTTP status byte and the JSON body; for the BPP, the
// DER.
//
// Protocol errors (Es10Error, ApduError, Es9Error, DecodeError) are expected.
// Another std::exception is what the lpa tool prints as an error: accepted by
// default, fatal with RSP_FUZZ_STRICT=1 (to list library errors that leak out).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "rsp/lpa/bpp.hpp"
#include "rsp/lpa/es10.hpp"
#include "rsp/lpa/es9p.hpp"

namespace {

class ScriptedCard : public rsp::apdu::Transport {
 public:
  ScriptedCard(const std::uint8_t* d, std::size_t n) : p_(d), end_(d + n) {}
  rsp::Bytes transmit(rsp::ByteView) override {
    if (end_ - p_ < 2) return {0x6F, 0x00};
    std::size_t len = static_cast<std::size_t>(p_[0]) << 8 | p_[1];
    p_ += 2;
    if (static_cast<std::size_t>(end_ - p_) < len) len = static_cast<std::size_t>(end_ - p_);
    rsp::Bytes out(p_, p_ + len);
    p_ += len;
    return out;
  }
  rsp::Bytes reset() override { return {0x3B, 0x00}; }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

rsp::Bytes bytes(std::size_t n, std::uint8_t v) { return rsp::Bytes(n, v); }

void es10(std::uint8_t which, const std::uint8_t* d, std::size_t n) {
  ScriptedCard card(d, n);
  rsp::lpa::Es10Client c(card);
  switch (which % 18) {
    case 0: (void)c.get_euicc_challenge(); break;
    case 1: (void)c.get_euicc_info1(); break;
    case 2: (void)c.get_euicc_info2(); break;
    case 3: (void)c.get_eid(); break;
    case 4: (void)c.get_configured_addresses(); break;
    case 5: (void)c.get_profiles_info(); break;
    case 6: (void)c.enable_profile(rsp::lpa::ProfileId::from_iccid("8949449999999990007")); break;
    case 7: (void)c.delete_profile(rsp::lpa::ProfileId::from_aid(bytes(16, 0xA0))); break;
    case 8: (void)c.list_notifications(); break;
    case 9: (void)c.retrieve_notifications(); break;
    case 10: (void)c.notification_sent(1); break;
    case 11: {
      rsp::lpa::AuthenticateServerInput in;
      in.server_signed1 = {0x30, 0x00};
      in.server_signature1 = {0x5F, 0x37, 0x00};
      in.euicc_ci_pkid_to_be_used = bytes(20, 0x11);
      in.server_certificate = {0x30, 0x00};
      in.matching_id = "MATCH";
      (void)c.authenticate_server(in);
      break;
    }
    case 12: {
      rsp::lpa::PrepareDownloadInput in;
      in.smdp_signed2 = {0x30, 0x00};
      in.smdp_signature2 = {0x5F, 0x37, 0x00};
      in.smdp_certificate = {0x30, 0x00};
      (void)c.prepare_download(in);
      break;
    }
    case 13: {
      // A well-formed minimal BPP, so that the card's answers to each
      // segment are what is fuzzed.
      rsp::Bytes bpp = {0xBF, 0x36, 0x12, 0xBF, 0x23, 0x00, 0xA0, 0x02, 0x87, 0x00, 0xA1, 0x02,
                        0x88, 0x00, 0xA3, 0x04, 0x86, 0x02, 0x00, 0x00};
      (void)c.load_bound_profile_package(bpp);
      break;
    }
    case 14: (void)c.cancel_session(bytes(16, 0x22), rsp::lpa::CancelSessionReason::Postponed); break;
    case 15: (void)c.set_nickname("8949449999999990007", "nick"); break;
    case 16: (void)c.euicc_memory_reset(true, false, false); break;
    case 17: (void)c.set_default_dp_address("smdp.example.com"); break;
  }
}

void es9(std::uint8_t which, const std::uint8_t* d, std::size_t n) {
  if (n < 1) return;
  int status = d[0] < 128 ? 200 : 204 + (d[0] & 0x7F);
  std::string body(reinterpret_cast<const char*>(d + 1), n - 1);
  rsp::lpa::Es9Options o;
  o.post = [&](const std::string&, const rsp::http::Headers&, const std::string&) {
    auto r = rsp::http::Response::json(body, status);
    r.headers.set("X-Admin-Protocol", "gsma/rsp/v2.2.2");
    return r;
  };
  rsp::lpa::Es9Client c("smdp.example.com", o);
  rsp::Bytes tid(16, 0x33);
  switch (which % 5) {
    case 0: (void)c.initiate_authentication(bytes(16, 0x44), rsp::Bytes{0xBF, 0x20, 0x00}); break;
    case 1: (void)c.authenticate_client(tid, rsp::Bytes{0xBF, 0x38, 0x00}); break;
    case 2: (void)c.get_bound_profile_package(tid, rsp::Bytes{0xBF, 0x21, 0x00}); break;
    case 3: c.handle_notification(rsp::Bytes{0xBF, 0x37, 0x00}); break;
    case 4: c.cancel_session(tid, rsp::Bytes{0xBF, 0x41, 0x00}); break;
  }
}

bool strict() {
  static const bool s = [] {
    const char* e = std::getenv("RSP_FUZZ_STRICT");
    return e && *e == '1';
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint8_t sel = data[0];
  try {
    if (sel < 0x80)
      es10(sel, data + 1, size - 1);
    else if (sel < 0xC0)
      es9(static_cast<std::uint8_t>(sel - 0x80), data + 1, size - 1);
    else
      (void)rsp::lpa::segment_bpp(rsp::ByteView(data + 1, size - 1));
  } catch (const rsp::lpa::Es10Error&) {
  } catch (const rsp::lpa::ApduError&) {
  } catch (const rsp::lpa::Es9Error&) {
  } catch (const rsp::DecodeError&) {
  } catch (const std::exception& e) {
    if (strict()) {
      std::fprintf(stderr, "escaped: %s\n", e.what());
      std::abort();
    }
  }
  return 0;
}
