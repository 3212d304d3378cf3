// Subscription batches as SIM vendors deliver them (docs/smdp.md, "Batch
// import"): one CSV row per subscriber, turned into profile packages from an
// operator's template and stored Available for that operator. All or
// nothing: a bad row is reported with its line number and nothing of the
// batch is stored.
#pragma once
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rsp/smdp/profile_generator.hpp"
#include "rsp/smdp/profile_store.hpp"

namespace rsp::smdp {

// A batch is a vendor's file, read whole: 256 MiB is over a million
// subscribers (what `smdpd batch import` reads from a file, too).
inline constexpr std::size_t kMaxBatchBytes = 256u << 20;

struct BatchError : std::runtime_error {
  // `line`: the CSV line, or the 1-based entry of a JSON batch (`unit` "entry").
  BatchError(std::size_t line_number, const std::string& message, const char* unit = "line")
      : std::runtime_error(std::string(unit) + " " + std::to_string(line_number) + ": " + message), line(line_number) {}
  std::size_t line;
};

struct BatchRow {
  std::size_t line = 0;
  SubscriberValues values;
};

// Header line first (iccid,imsi,ki,opc[,pin1,puk1,pin2,puk2,adm1,spn] in any
// order); '#' comments and blank lines are skipped. Throws BatchError.
std::vector<BatchRow> parse_batch_csv(std::string_view text);
// The same as a JSON array of objects with those keys (values as strings);
// BatchRow::line is the 1-based position in the array.
std::vector<BatchRow> parse_batch_json(std::string_view text);

struct ImportOptions {
  std::string owner, profile_type;
  std::string service_provider_name, profile_name;
  bool protect_with_ppk = false;
  // What every profile of the batch needs of the eUICC and device, and its
  // Profile Policy Rules (the package's version and size are each
  // profile's own unless set here).
  ProfileRequirements requirements;
  std::function<void(std::size_t done, std::size_t total)> progress;
};

// Generates every package first (any bad value: BatchError naming its line),
// then stores them all in one transaction. Returns the number imported.
std::size_t import_batch(ProfileStore& store, ByteView template_upp, const std::vector<BatchRow>& rows,
                         const ImportOptions& options);

}  // namespace rsp::smdp
