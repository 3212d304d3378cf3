// ota_sms_bench: the OTA SMS path's throughput, each figure next to its floor
// measured in the same run (docs/benchmarks.md):
// - secured packets (ETSI TS 102 225, 3GPP TS 31.115) built by the server and
//   checked by the card's receiving entity per second, AES-128 (CBC + CMAC)
//   and 3DES 2-key (CBC + CBC-MAC), next to the raw cipher and MAC calls one
//   build + check needs;
// - submit_sm per second from the ESME to the simulated SMSC (each delivered
//   to a handset that acknowledges), window 1 and 10;
// - whole commands per second: sender -> SMPP -> SMSC -> handset -> card
//   library -> PoR by MO SMS -> recorded, one card.
//   ota_sms_bench [packets (default 20000)] [sms (default 3000)] [commands (default 300)]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "rsp/crypto.hpp"
#include "rsp/ota/card_store.hpp"
#include "rsp/ota/command_packet.hpp"
#include "rsp/ota/envelope.hpp"
#include "rsp/ota/receiving_entity.hpp"
#include "rsp/ota/remote_management.hpp"
#include "rsp/ota/sms_pp_handler.hpp"
#include "rsp/ota/sms_sender.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

using namespace rsp;
using namespace rsp::ota;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

const Tar kTar{0xB0, 0x00, 0x10};
// READ BINARY of EF ICCID in an expanded script: a typical small RFM command.
const Bytes kScript = from_hex("AA 10 22 07 00A40004022FE2 22 05 00B000000A");

KeySet keys(Algorithm a) {
  KeySet k;
  k.version = 1;
  k.cipher = k.checksum = a;
  k.kic = Bytes(16, 0x11);
  k.kid = Bytes(16, 0x22);
  return k;
}

void packets(Algorithm a, const char* name, int n) {
  KeySet k = keys(a);
  CommandPacket p;
  p.header.spi = Spi::decode(0x16, 0x39);
  p.header.kic = p.header.kid = a == Algorithm::Aes ? 0x12 : 0x15;
  p.header.tar = kTar;
  p.secured_data = kScript;
  Bytes sample = build_command_packet(p, k);
  std::size_t ciphered = sample.size() - 10;                  // CNTR onwards
  std::size_t maced = sample.size() - 8;                    // without the CC itself
  if (a != Algorithm::Aes) maced = (maced + 7) / 8 * 8;     // CBC-MAC zero-pads to the block

  // Floor: what one build + one check needs from the cipher: encipher and
  // decipher the protected part, compute the CC twice.
  Bytes data(ciphered, 0x5A), mac_in(maced, 0xA5), iv(a == Algorithm::Aes ? 16 : 8, 0);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (a == Algorithm::Aes) {
      Bytes c = crypto::aes_cbc_encrypt(k.kic, iv, data);
      Bytes d = crypto::aes_cbc_decrypt(k.kic, iv, c);
      Bytes m1 = crypto::aes_cmac(k.kid, mac_in), m2 = crypto::aes_cmac(k.kid, mac_in);
    } else {
      Bytes c = crypto::des_cbc_encrypt(k.kic, iv, data);
      Bytes d = crypto::des_cbc_decrypt(k.kic, iv, c);
      Bytes m1 = crypto::des_cbc_encrypt(k.kid, iv, mac_in), m2 = crypto::des_cbc_encrypt(k.kid, iv, mac_in);
    }
  }
  double floor = n / secs(t0, Clock::now());

  ReceivingEntity card;
  card.add_key_set(k);
  card.add_application(kTar, 0x16);
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    p.cntr = static_cast<std::uint64_t>(i) + 1;
    Verdict v = card.receive(build_command_packet(p, k));
    if (!v.accepted()) {
      std::fprintf(stderr, "refused: %s\n", v.reason.c_str());
      std::exit(1);
    }
  }
  double rate = n / secs(t0, Clock::now());
  std::printf("%-34s %10.0f /s   floor (cipher+MAC calls) %10.0f /s   %3.0f%% of floor  (%zu-byte packet)\n", name,
              rate, floor, 100.0 * rate / floor, sample.size());
}

struct Acker : sim::MobileStation {
  sim::DeliveryOutcome deliver_mt(ByteView) override { return {}; }
};

void sms(int n, std::size_t window) {
  sim::Smsc smsc{sim::SmscConfig{}};
  Acker phone;
  smsc.register_handset("447700900123", &phone);
  std::uint16_t port = smsc.start();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  smpp::EsmeConfig c;
  c.port = port;
  c.bind.system_id = "ota";
  c.bind.password = "secret";
  c.window = window;
  smpp::EsmeHandlers h;
  h.on_submit_result = [&](const smpp::SubmitResult&) {
    std::lock_guard l(mu);
    ++done;
    cv.notify_all();
  };
  smpp::Esme esme(c, h);
  esme.start();
  if (!esme.wait_bound(5s)) std::exit(1);
  smpp::ShortMessage m;
  m.destination_addr = "447700900123";
  m.source_addr = "8800";
  m.esm_class = smpp::kEsmClassUdhi;
  m.protocol_id = 0x7F;
  m.data_coding = 0xF6;
  m.short_message = concat(from_hex("027000"), Bytes(100, 0x33));
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) esme.submit(m);
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return done == n; });
  }
  double rate = n / secs(t0, Clock::now());
  std::printf("submit_sm -> SMSC -> handset, window %-3zu %10.0f SMS/s (%d SMS)\n", window, rate, n);
  esme.stop();
  smsc.stop();
}

void commands(int n) {
  store::Db db(":memory:");
  CardStore store(db, Bytes(32, 0x42));
  KeySet k = keys(Algorithm::Aes);
  store.add_card("8949449999999990023", {{k, 0}}, {{kTar, 0x16, 1}});
  ReceivingEntity entity;
  entity.add_key_set(k);
  SmsPpHandler handler(entity);
  Bytes ef = from_hex("98942000000000000001");
  handler.add_application(kTar, 0x16, std::make_shared<RemoteManagementApplication>(
                                          [&](ByteView c) -> Bytes {
                                            if (c[1] == 0xB0) return concat(ef, from_hex("9000"));
                                            return from_hex("9000");
                                          },
                                          CommandSet::Uicc));
  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  std::deque<Bytes> proactive;
  // The card's APDU face: ENVELOPE -> library; PoR by SMS-SUBMIT via FETCH.
  sim::Handset phone(
      "447700900123",
      [&](ByteView c) -> Bytes {
        if (c[1] == kInsEnvelope) {
          SmsPpOutcome o = handler.envelope(c.subspan(5));
          for (auto& t : o.sms_submits) proactive.push_back(encode_send_short_message({1, 0, std::nullopt, t}));
        } else if (c[1] == kInsFetch && !proactive.empty()) {
          Bytes d = proactive.front();
          proactive.pop_front();
          return concat(d, from_hex("9000"));
        }
        if (!proactive.empty()) return {0x91, static_cast<std::uint8_t>(proactive.front().size())};
        return from_hex("9000");
      },
      [&](const std::string& from, ByteView t) { smsc.submit_mo(from, t); });
  smsc.register_handset("447700900123", &phone);
  smpp::EsmeConfig c;
  c.port = port;
  c.bind.system_id = "ota";
  c.bind.password = "secret";
  SmsSenderConfig sc;
  sc.receipts = false;
  SmsCommandSender sender(store, c, sc);
  sender.start();
  if (!sender.esme().wait_bound(5s)) std::exit(1);
  CommandRequest r;
  r.iccid = "8949449999999990023";
  r.tar = kTar;
  r.spi = Spi::decode(0x16, 0x39);
  r.secured_data = kScript;
  auto t0 = Clock::now();
  ReservedPacket last;
  for (int i = 0; i < n; ++i) last = sender.send("447700900123", r);
  if (!sender.wait(r.iccid, last.key_version, last.cntr, 120s)) std::exit(1);
  double rate = n / secs(t0, Clock::now());
  auto o = sender.outcome(r.iccid, last.key_version, last.cntr);
  std::printf("command -> PoR recorded, one card  %10.0f commands/s (%d, last PoR %02X; each reserved durably in SQLite :memory:)\n",
              rate, n, o->por_status.value_or(0xFF));
  sender.stop();
  smsc.stop();
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  int s = argc > 2 ? std::atoi(argv[2]) : 3000;
  int c = argc > 3 ? std::atoi(argv[3]) : 300;
  packets(Algorithm::Aes, "AES-128 packet built + checked", n);
  packets(Algorithm::TripleDes2, "3DES-2KEY packet built + checked", n);
  sms(s, 1);
  sms(s, 10);
  commands(c);
  return 0;
}
