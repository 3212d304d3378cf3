// Shared by the interoperability corpus tests: the vectors under
// tests/interop/data/ (each file names the tool, version and command that
// produced it), and the SGP.26 test PKI of the shared test data.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "rsp/bytes.hpp"

namespace rsp::interop {

namespace fs = std::filesystem;

inline fs::path data_dir() { return fs::path(RSP_SOURCE_DIR) / "tests" / "interop" / "data"; }

// A committed vector file: always present (a missing one fails the test).
inline nlohmann::json load_vector(const std::string& name) {
  std::ifstream f(data_dir() / name);
  if (!f) throw std::runtime_error("vector file missing: " + (data_dir() / name).string());
  return nlohmann::json::parse(f);
}

inline fs::path shared_testdata(const std::string& rel) { return fs::path(RSP_SHARED_TESTDATA) / rel; }

inline Bytes slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// The SGP.26 PKI the lpac runs were made with (the eUICC's signatures in the
// captured requests verify only under it): tests that need it skip without it.
#define RSP_REQUIRE_SGP26()                                                                          \
  if (!::rsp::interop::fs::exists(::rsp::interop::shared_testdata("sgp26/eUICC/CERT_EUICC_ECDSA_NIST.der"))) \
  GTEST_SKIP() << "SGP.26 test PKI absent from " RSP_SHARED_TESTDATA

}  // namespace rsp::interop
