// Issue 15, point 1: for every TS.48 test profile, each file the package
// defines is selectable at its path (SELECT through the card core's APDU
// interface) with the type, record layout, size, SFI, security attributes
// (EF.ARR reference) and contents the package gives. The expectations come
// from a small DER walker written here, independent of rsp::uicc's builder:
// it reads the PEs' File members and genericFileManagement commands as raw
// TLVs and places files by the Interoperable Profile rules on its own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "rsp/tlv.hpp"
#include "rsp/uicc/card.hpp"
#include "rsp/uicc/profile_package.hpp"

using namespace rsp;

namespace {

// ---- the independent walker ---------------------------------------------------

struct Rd {  // minimal BER reader over the package bytes
  ByteView in;
  struct T {
    std::uint32_t tag;
    ByteView v;
  };
  bool done() const { return in.empty(); }
  T next() {
    std::size_t i = 0;
    std::uint32_t tag = in[i++];
    if ((tag & 0x1F) == 0x1F) {
      do tag = tag << 8 | in[i]; while (in[i++] & 0x80);
    }
    std::size_t len = in[i++];
    if (len & 0x80) {
      std::size_t n = len & 0x7F;
      len = 0;
      while (n--) len = len << 8 | in[i++];
    }
    T t{tag, in.subspan(i, len)};
    in = in.subspan(i + len);
    return t;
  }
};

std::vector<Rd::T> all(ByteView v) {
  std::vector<Rd::T> out;
  Rd r{v};
  while (!r.done()) out.push_back(r.next());
  return out;
}

std::size_t num(ByteView v) {
  std::size_t n = 0;
  for (auto b : v) n = n << 8 | b;
  return n;
}

struct Expected {
  Bytes aid;                        // application, empty: under the MF
  std::vector<std::uint16_t> path;  // FIDs below the MF / the ADF (empty: the MF / the ADF itself)
  bool df = false;
  std::optional<std::uint8_t> fdb;  // file descriptor byte, shareable bit masked
  std::size_t rec_len = 0, records = 0;
  std::optional<std::size_t> size;
  std::optional<std::optional<std::uint8_t>> sfi;  // given by the package: SFI or none
  Bytes arr;                        // securityAttributesReferenced
  std::optional<Bytes> fill, repeat;
  std::vector<std::pair<std::size_t, Bytes>> writes;
  std::optional<std::pair<Bytes, std::vector<std::uint16_t>>> link;  // target (aid, path)
};

struct Walk {
  std::map<std::pair<Bytes, std::vector<std::uint16_t>>, Expected> files;
  std::map<std::uint16_t, Bytes> adf_fid;  // an ADF's file id in the package -> AID
  Bytes last_usim, last_isim, last_csim;
  std::vector<std::pair<std::uint8_t, Bytes>> pins;  // key reference, value

  // filePath / linkPath: FIDs from the MF, an ADF by its file id.
  std::pair<Bytes, std::vector<std::uint16_t>> path_of(ByteView p) {
    std::pair<Bytes, std::vector<std::uint16_t>> r;
    for (std::size_t i = 0; i + 1 < p.size(); i += 2) {
      auto fid = static_cast<std::uint16_t>(p[i] << 8 | p[i + 1]);
      if (i == 0 && fid == 0x3F00) continue;
      if (i == 0 && adf_fid.count(fid)) {
        r.first = adf_fid[fid];
        continue;
      }
      r.second.push_back(fid);
    }
    return r;
  }

  Expected from_fcp(ByteView fcp, std::uint16_t& fid, Bytes& aid) {
    Expected e;
    e.df = true;  // no descriptor: TS.48 gives every EF one, so a DF
    for (const auto& d : all(fcp)) {
      switch (d.tag) {
        case 0x82: {
          std::uint8_t b = d.v[0] & 0xBF;
          e.fdb = b;
          e.df = (b & 0x38) == 0x38 && b != 0x39;
          if (d.v.size() >= 4) e.rec_len = num(d.v.subspan(2, 2));
          if (d.v.size() >= 5) e.records = d.v[4];
          break;
        }
        case 0x83: fid = static_cast<std::uint16_t>(num(d.v)); break;
        case 0x84: aid.assign(d.v.begin(), d.v.end()); break;
        case 0x80: e.size = num(d.v); break;
        case 0x88: e.sfi = d.v.empty() ? std::optional<std::uint8_t>() : std::optional<std::uint8_t>(d.v[0] >> 3); break;
        case 0x8B: e.arr.assign(d.v.begin(), d.v.end()); break;
        case 0xA5:
          for (const auto& p : all(d.v)) {
            if (p.tag == 0xC1) e.fill = Bytes(p.v.begin(), p.v.end());
            if (p.tag == 0xC2) e.repeat = Bytes(p.v.begin(), p.v.end());
          }
          break;
        case 0xC7:
          if (!d.v.empty()) e.link = path_of(d.v);
          break;
        default: break;
      }
    }
    return e;
  }

  void put(Expected e) {
    auto key = std::make_pair(e.aid, e.path);
    files[key] = std::move(e);
  }

  void fs_pe(std::uint32_t tag, ByteView body) {
    // Root of the PE: the MF (B0), an ADF (B3 USIM, B5 ISIM, B9 CSIM), the
    // ADF an OPT PE extends (B4, B6, BA), or a DF it creates under the MF
    // (B1 CD, B2 TELECOM) or the USIM ADF (B7, B8, BB..BD).
    Bytes aid;
    std::optional<std::vector<std::uint16_t>> root;
    std::vector<std::uint16_t> base;
    if (tag == 0xB4) aid = last_usim, root = base;
    if (tag == 0xB6) aid = last_isim, root = base;
    if (tag == 0xBA) aid = last_csim, root = base;
    if (tag == 0xB7 || tag == 0xB8 || (tag >= 0xBB && tag <= 0xBD)) aid = last_usim;
    std::vector<std::uint16_t> current = base;
    auto members = all(body);
    for (std::size_t i = 2; i < members.size(); ++i) {
      std::optional<ByteView> fcp;
      bool dnc = false;
      std::vector<std::pair<std::size_t, Bytes>> writes;
      std::size_t pos = 0;
      for (const auto& it : all(members[i].v)) {
        if (it.tag == 0x80) dnc = true;
        if (it.tag == 0xA1) fcp = it.v;
        if (it.tag == 0x82) pos += num(it.v);
        if (it.tag == 0x83) {
          writes.emplace_back(pos, Bytes(it.v.begin(), it.v.end()));
          pos += it.v.size();
        }
      }
      if (dnc || !fcp) continue;  // without a descriptor the file id is the template's: not checked here
      std::uint16_t fid = 0;
      Bytes fcp_aid;
      Expected e = from_fcp(*fcp, fid, fcp_aid);
      e.writes = writes;
      if (tag == 0xB0 && i == 2) {  // the MF
        e.df = true;
        put(e);
        root = current = {};
        continue;
      }
      if (!fcp_aid.empty()) {  // an ADF
        adf_fid[fid] = fcp_aid;
        if (tag == 0xB3) last_usim = fcp_aid;
        if (tag == 0xB5) last_isim = fcp_aid;
        if (tag == 0xB9) last_csim = fcp_aid;
        aid = fcp_aid;
        e.aid = aid;
        put(e);
        root = current = {};
        continue;
      }
      if (fid == 0) continue;
      e.aid = aid;
      if (e.df) {
        std::vector<std::uint16_t> p = root ? *root : base;
        p.push_back(fid);
        if (!root) root = p;
        current = p;
        e.path = p;
      } else {
        e.path = current;
        e.path.push_back(fid);
      }
      put(e);
    }
  }

  void gfm(ByteView body) {
    for (const auto& part : all(body)) {
      if (part.tag != 0xA1) continue;
      for (const auto& cmd : all(part.v)) {
        std::pair<Bytes, std::vector<std::uint16_t>> dir;
        std::optional<std::pair<Bytes, std::vector<std::uint16_t>>> file;
        std::size_t pos = 0;
        for (const auto& op : all(cmd.v)) {
          if (op.tag == 0x80) {
            dir = path_of(op.v);
            file.reset();
          } else if (op.tag == 0x62) {
            std::uint16_t fid = 0;
            Bytes fcp_aid;
            Expected e = from_fcp(op.v, fid, fcp_aid);
            e.aid = dir.first;
            e.path = dir.second;
            e.path.push_back(fid);
            file = std::make_pair(e.aid, e.path);
            if (e.df) dir = *file;
            put(e);
            pos = 0;
          } else if (op.tag == 0x02 && file) {
            pos += num(op.v);
          } else if (op.tag == 0x81 && file) {
            files[*file].writes.emplace_back(pos, Bytes(op.v.begin(), op.v.end()));
            pos += op.v.size();
          }
        }
      }
    }
  }

  void pin_pe(ByteView body) {
    for (const auto& m : all(body)) {
      if (m.tag != 0xA1) continue;
      for (const auto& choice : all(m.v)) {
        if (choice.tag != 0xA0) continue;  // pinconfig
        for (const auto& cfg : all(choice.v)) {
          std::uint8_t kr = 0;
          Bytes value;
          for (const auto& f : all(cfg.v)) {
            if (f.tag == 0x80) kr = static_cast<std::uint8_t>(num(f.v));
            if (f.tag == 0x81) value.assign(f.v.begin(), f.v.end());
          }
          pins.emplace_back(kr, value);
        }
      }
    }
  }

  explicit Walk(ByteView package) {
    for (const auto& pe : all(package)) {
      if (pe.tag == 0xA1) gfm(pe.v);
      else if (pe.tag == 0xA2) pin_pe(pe.v);
      else if (pe.tag >= 0xB0 && pe.tag <= 0xBD) fs_pe(pe.tag, pe.v);
    }
  }
};

// ---- through the card's APDU interface -----------------------------------------

struct Driver {
  uicc::CardImage& img;
  uicc::SecurityStatus sec;
  uicc::Card card{img, sec};
  uicc::Selection sel;
  explicit Driver(uicc::CardImage& i) : img(i) {}
  apdu::Response run(std::uint8_t ins, std::uint8_t p1, std::uint8_t p2, Bytes data, std::optional<std::size_t> le = 256,
                     std::uint8_t cla = 0x00) {
    return card.process(apdu::Command{cla, ins, p1, p2, std::move(data), le}, sel);
  }
  apdu::Response select(const Expected& e) {
    if (!e.aid.empty()) {
      auto r = run(0xA4, 0x04, 0x04, e.aid);
      if (r.sw != 0x9000 || e.path.empty()) return r;
      Bytes p;
      for (auto f : e.path) append(p, Bytes{static_cast<std::uint8_t>(f >> 8), static_cast<std::uint8_t>(f)});
      return run(0xA4, 0x09, 0x04, p);
    }
    if (e.path.empty()) return run(0xA4, 0x00, 0x04, Bytes{0x3F, 0x00});
    Bytes p;
    for (auto f : e.path) append(p, Bytes{static_cast<std::uint8_t>(f >> 8), static_cast<std::uint8_t>(f)});
    return run(0xA4, 0x08, 0x04, p);
  }
  // The whole body of the selected EF; nullopt when its EF.ARR rule allows
  // no reading (6982) even with every PIN verified.
  std::optional<Bytes> body(std::uint8_t fdb, std::size_t size, std::size_t rec_len, std::size_t records) {
    Bytes out;
    if ((fdb & 0x07) == 0x01 && (fdb & 0x38) != 0x38) {
      for (std::size_t off = 0; off < size;) {
        std::size_t n = std::min<std::size_t>(size - off, 255);
        auto r = run(0xB0, static_cast<std::uint8_t>(off >> 8), static_cast<std::uint8_t>(off), {}, n);
        if (r.sw == 0x6982) return std::nullopt;
        EXPECT_EQ(r.sw, 0x9000) << "READ BINARY at " << off;
        if (r.sw != 0x9000) break;
        append(out, r.data);
        off += n;
      }
    } else {
      for (std::size_t rec = 1; rec <= records; ++rec) {
        auto r = run(0xB2, static_cast<std::uint8_t>(rec), 0x04, {}, rec_len);
        if (r.sw == 0x6982) return std::nullopt;
        EXPECT_EQ(r.sw, 0x9000) << "READ RECORD " << rec;
        append(out, r.data);
      }
    }
    return out;
  }
};

std::string where(const Expected& e) {
  std::string s = e.aid.empty() ? "MF" : "ADF " + to_hex(e.aid);
  for (auto f : e.path) s += "/" + to_hex(Bytes{static_cast<std::uint8_t>(f >> 8), static_cast<std::uint8_t>(f)}, true);
  return s;
}

void check_profile(const Bytes& package) {
  Walk w(package);
  auto img = uicc::build_card_image(package);
  Driver d(*img);
  // Every PIN and ADM key the package sets, verified: reading is then only
  // limited by NEVer rules.
  for (const auto& [kr, value] : w.pins) {
    auto r = d.run(0x20, 0x00, kr, value, std::nullopt);
    EXPECT_EQ(r.sw, 0x9000) << "VERIFY key " << int(kr);
  }
  std::size_t checked = 0, with_content = 0, unreadable = 0;
  for (const auto& [key, e] : w.files) {
    SCOPED_TRACE(where(e));
    auto r = d.select(e);
    ASSERT_EQ(r.sw, 0x9000) << "not selectable";
    auto fcp = tlv::parse_one(r.data);
    ASSERT_EQ(fcp.tag, 0x62u);
    auto fd = tlv::find(fcp.value, 0x82);
    ASSERT_TRUE(fd && !fd->value.empty());
    std::uint8_t fdb = fd->value[0] & 0xBF;
    if (e.df) {
      EXPECT_EQ(fdb & 0x38, 0x38) << "not a DF";
      EXPECT_NE(fdb, 0x39) << "not a DF";
      ++checked;
      continue;
    }
    if (e.fdb) {
      EXPECT_EQ(fdb, *e.fdb) << "file descriptor byte";
    }
    if (!e.arr.empty()) {
      auto arr = tlv::find(fcp.value, 0x8B);
      ASSERT_TRUE(arr);
      EXPECT_EQ(Bytes(arr->value.begin(), arr->value.end()), e.arr) << "security attributes";
    }
    if (e.sfi) {
      auto s = tlv::find(fcp.value, 0x88);
      ASSERT_TRUE(s);
      if (*e.sfi) {
        ASSERT_EQ(s->value.size(), 1u);
        EXPECT_EQ(s->value[0] >> 3, **e.sfi) << "SFI";
      } else {
        EXPECT_TRUE(s->value.empty()) << "SFI where the package gives none";
      }
    }
    if (fdb == 0x39) {  // BER-TLV: each data object written is retrievable
      Bytes objects;
      for (const auto& [at, data] : e.writes) append(objects, data);
      while (!objects.empty() && objects.back() == 0xFF) objects.pop_back();
      for (const auto& o : all(objects)) {
        Bytes tag = tlv::encode_tag(o.tag);
        auto rd = d.run(0xCB, 0x00, 0x80, tag, 256, 0x80);
        ASSERT_EQ(rd.sw, 0x9000) << "RETRIEVE DATA " << to_hex(tag);
        EXPECT_EQ(rd.data, tlv::make(o.tag, o.v));
      }
      ++checked;
      continue;
    }
    auto sz = tlv::find(fcp.value, 0x80);
    ASSERT_TRUE(sz);
    std::size_t size = num(sz->value);
    std::size_t rec_len = 0, records = 0;
    if (fd->value.size() >= 5) {
      rec_len = num(fd->value.subspan(2, 2));
      records = fd->value[4];
      EXPECT_EQ(size, rec_len * records);
    }
    auto got = d.body(fdb, size, rec_len, records);
    if (!got) {  // the package's EF.ARR allows no reading
      ++unreadable;
      ++checked;
      continue;
    }
    Bytes body = *got;
    ASSERT_EQ(body.size(), size);
    if (e.link) {
      // A linked file is its target: same structure, same contents (the
      // package's own descriptor for it may disagree with the target's).
      Expected target;
      target.aid = e.link->first;
      target.path = e.link->second;
      Bytes mine = body;
      auto t = d.select(target);
      ASSERT_EQ(t.sw, 0x9000) << "link target " << where(target);
      auto tfcp = tlv::parse_one(t.data);
      auto tfd = tlv::find(tfcp.value, 0x82);
      auto tsz = tlv::find(tfcp.value, 0x80);
      ASSERT_TRUE(tfd && tsz);
      std::size_t tsize = num(tsz->value);
      EXPECT_EQ(size, tsize) << "linked file and target differ in size";
      std::size_t trl = tfd->value.size() >= 5 ? num(tfd->value.subspan(2, 2)) : 0;
      std::size_t trecs = tfd->value.size() >= 5 ? tfd->value[4] : 0;
      auto theirs = d.body(tfd->value[0] & 0xBF, tsize, trl, trecs);
      ASSERT_TRUE(theirs);
      EXPECT_EQ(*theirs, mine) << "linked file differs from its target";
      EXPECT_GT(tsize, 0u);
      ++checked;
      continue;
    }
    if (fd->value.size() >= 5) {
      if (e.rec_len) {
        EXPECT_EQ(rec_len, e.rec_len) << "record length";
      }
      if (e.records) {
        EXPECT_EQ(records, e.records) << "number of records";
      }
    }
    if (e.size) {
      EXPECT_EQ(size, *e.size) << "file size";
    }
    // Fill / repeat pattern (TS 102 222 6.3.2.2.2), per record for record files.
    std::size_t unit = rec_len ? rec_len : size;
    if ((e.fill || e.repeat) && unit) {
      const Bytes& pat = e.fill ? *e.fill : *e.repeat;
      for (std::size_t i = 0; i < size; ++i) {
        std::size_t k = i % unit;
        std::uint8_t want = e.fill ? (k < pat.size() ? pat[k] : pat.back()) : pat[k % pat.size()];
        bool written = false;
        for (const auto& [at, data] : e.writes) written = written || (i >= at && i < at + data.size());
        if (!written && body[i] != want) {
          ADD_FAILURE() << "pattern byte " << i << ": " << int(body[i]) << " != " << int(want);
          break;
        }
      }
    }
    for (const auto& [at, data] : e.writes) {
      ASSERT_LE(at + data.size(), body.size()) << "content beyond the file";
      EXPECT_EQ(Bytes(body.begin() + static_cast<std::ptrdiff_t>(at), body.begin() + static_cast<std::ptrdiff_t>(at + data.size())),
                data) << "content at " << at;
      ++with_content;
    }
    ++checked;
  }
  EXPECT_GT(checked, 50u);
  EXPECT_GT(with_content, 10u);
  EXPECT_LT(unreadable * 20, checked) << "more than 5% of the EFs refuse READ with every PIN verified";
}

TEST(UiccPackageFileSystem, EveryTs48FileAsThePackageDefinesIt) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(RSP_SHARED_TESTDATA) / "ts48";
  if (!fs::exists(dir)) GTEST_SKIP() << "no TS.48 test profiles in " << RSP_SHARED_TESTDATA;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".der") continue;
    SCOPED_TRACE(e.path().filename().string());
    std::ifstream in(e.path(), std::ios::binary);
    Bytes package((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    check_profile(package);
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
