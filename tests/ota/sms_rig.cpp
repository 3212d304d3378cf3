// sms_rig: a test double for `ota card send` (tests/ota/ota_sms_cli.sh): the
// simulated SMSC on 127.0.0.1 (system_id "ota", password "secret"), one
// simulated handset at MSISDN, and behind it the card-side library with AES
// key set 1 (KIc, KID given), RFM at TAR B00010 (MSL 16) over a fake file
// system (EF ICCID 2FE2). Prints the SMPP port, then runs until stdin closes
// or 120 s pass.
//   sms_rig MSISDN KIC KID
#include <poll.h>
#include <unistd.h>

#include <iostream>

#include "fake_card.hpp"
#include "rsp/sim/handset.hpp"
#include "rsp/sim/smsc.hpp"

using namespace rsp;
using namespace rsp::ota;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: sms_rig MSISDN KIC KID\n";
    return 1;
  }
  ReceivingEntity entity;
  KeySet k;
  k.version = 1;
  k.cipher = k.checksum = Algorithm::Aes;
  k.kic = from_hex(argv[2]);
  k.kid = from_hex(argv[3]);
  entity.add_key_set(k);
  SmsPpHandler handler(entity);
  ota_test::FakeFiles files;
  files.efs[0x2FE2] = from_hex("98942000000000000001");
  std::mutex mu;
  handler.add_application({0xB0, 0x00, 0x10}, 0x16, std::make_shared<RemoteManagementApplication>(
                                                         [&](ByteView c) {
                                                           std::lock_guard l(mu);
                                                           return files(c);
                                                         },
                                                         CommandSet::Uicc));
  ota_test::FakeOtaCard card(handler);
  sim::Smsc smsc{sim::SmscConfig{}};
  std::uint16_t port = smsc.start();
  sim::Handset phone(argv[1], [&](ByteView c) { return card(c); },
                     [&](const std::string& from, ByteView t) { smsc.submit_mo(from, t); });
  smsc.register_handset(argv[1], &phone);
  std::cout << port << std::endl;
  pollfd p{0, POLLIN, 0};
  ::poll(&p, 1, 120000);
  smsc.stop();
  return 0;
}
