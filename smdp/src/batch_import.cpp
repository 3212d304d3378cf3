#include "rsp/smdp/batch_import.hpp"

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "rsp/json.hpp"

namespace rsp::smdp {

namespace {

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  for (auto& f : out) {
    while (!f.empty() && std::isspace(static_cast<unsigned char>(f.back()))) f.pop_back();
    std::size_t start = 0;
    while (start < f.size() && std::isspace(static_cast<unsigned char>(f[start]))) ++start;
    f.erase(0, start);
  }
  return out;
}

Bytes key_field(const std::string& hex, const char* name, std::size_t line, const char* unit) {
  Bytes b;
  try {
    b = from_hex(hex);
  } catch (const DecodeError&) {
    throw BatchError(line, std::string(name) + " is not hex", unit);
  }
  if (b.size() != 16) throw BatchError(line, std::string(name) + " must be 16 bytes (32 hex digits)", unit);
  return b;
}

// One row's values, by column name, checked the same way for CSV and JSON.
BatchRow make_row(std::size_t line, const std::function<std::string(const char*)>& get, std::set<std::string>& iccids,
                  const char* unit) {
  BatchRow r;
  r.line = line;
  r.values.iccid = get("iccid");
  r.values.imsi = get("imsi");
  r.values.ki = key_field(get("ki"), "Ki", line, unit);
  r.values.opc = key_field(get("opc"), "OPc", line, unit);
  if (!get("pin1").empty()) r.values.pin1 = get("pin1");
  if (!get("puk1").empty()) r.values.puk1 = get("puk1");
  if (!get("pin2").empty()) r.values.pin2 = get("pin2");
  if (!get("puk2").empty()) r.values.puk2 = get("puk2");
  r.values.adm1 = get("adm1");
  if (!get("spn").empty()) r.values.spn = get("spn");
  // ITU-T E.118: an ICCID is at most 19 digits plus the Luhn check digit; 18 is the shortest in use. Checked
  // before the Luhn check, which expects decimal digits (found by fuzz_batch).
  if (r.values.iccid.size() < 18 || r.values.iccid.size() > 20 ||
      r.values.iccid.find_first_not_of("0123456789") != std::string::npos)
    throw BatchError(line, "iccid must be 18 to 20 decimal digits", unit);
  if (!luhn_valid(r.values.iccid)) throw BatchError(line, "ICCID " + r.values.iccid + " fails the Luhn check", unit);
  if (!iccids.insert(r.values.iccid).second) throw BatchError(line, "ICCID " + r.values.iccid + " appears twice", unit);
  return r;
}

const std::set<std::string> kColumns = {"iccid", "imsi", "ki", "opc", "pin1", "puk1", "pin2", "puk2", "adm1", "spn"};

// A row is ten short fields.
constexpr std::size_t kMaxLineBytes = 4096;

void check_batch_size(std::string_view text) {
  if (text.size() > kMaxBatchBytes)
    throw BatchError(0, "the batch is larger than " + std::to_string(kMaxBatchBytes >> 20) + " MiB; split it");
}

}  // namespace

std::vector<BatchRow> parse_batch_json(std::string_view text) {
  check_batch_size(text);
  JsonLimits limits;
  limits.max_bytes = kMaxBatchBytes;
  limits.max_depth = 2;                      // [ {"iccid": "..."} ]
  limits.max_values = kMaxBatchBytes / 8;    // no value takes fewer than 8 bytes
  limits.max_string_bytes = kMaxLineBytes;
  nlohmann::json j;
  try {
    j = parse_json(text, limits);
  } catch (const JsonError& e) {
    throw BatchError(0, e.what(), "entry");
  }
  if (!j.is_array()) throw BatchError(0, "a JSON batch is an array of subscriber objects", "entry");
  std::vector<BatchRow> rows;
  std::set<std::string> iccids;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& o = j[i];
    std::size_t n = i + 1;
    if (!o.is_object()) throw BatchError(n, "not an object", "entry");
    for (auto it = o.begin(); it != o.end(); ++it) {
      if (!kColumns.count(it.key())) throw BatchError(n, "unknown field '" + it.key() + "'", "entry");
      if (!it->is_string()) throw BatchError(n, "field '" + it.key() + "' is not a string", "entry");
    }
    for (const char* required : {"iccid", "imsi", "ki", "opc"})
      if (!o.contains(required)) throw BatchError(n, std::string("missing '") + required + "'", "entry");
    rows.push_back(make_row(n, [&](const char* k) { return o.value(k, std::string()); }, iccids, "entry"));
  }
  return rows;
}

std::vector<BatchRow> parse_batch_csv(std::string_view text) {
  std::vector<BatchRow> rows;
  std::map<std::string, std::size_t> col;
  std::set<std::string> iccids;
  std::size_t line_no = 0;
  check_batch_size(text);
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxLineBytes)
      throw BatchError(line_no, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#') continue;
    auto fields = split_csv_line(line);
    if (col.empty()) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        std::string name = fields[i];
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (!kColumns.count(name)) throw BatchError(line_no, "unknown column '" + fields[i] + "'");
        if (!col.emplace(name, i).second) throw BatchError(line_no, "column '" + name + "' twice");
      }
      for (const char* required : {"iccid", "imsi", "ki", "opc"})
        if (!col.count(required)) throw BatchError(line_no, std::string("header lacks the '") + required + "' column");
      continue;
    }
    if (fields.size() != col.size())
      throw BatchError(line_no, std::to_string(fields.size()) + " fields, the header has " + std::to_string(col.size()));
    auto get = [&](const char* name) { return col.count(name) ? fields[col.at(name)] : std::string(); };
    rows.push_back(make_row(line_no, get, iccids, "line"));
  }
  if (col.empty()) throw BatchError(line_no, "no header line");
  return rows;
}

std::size_t import_batch(ProfileStore& store, ByteView template_upp, const std::vector<BatchRow>& rows,
                         const ImportOptions& options) {
  std::vector<Bytes> packages;
  packages.reserve(rows.size());
  std::size_t done = 0, total = rows.size() * 2;
  const ProfileGenerator generator(Bytes(template_upp.begin(), template_upp.end()));  // compiled once for the batch
  for (const auto& r : rows) {
    try {
      packages.push_back(generator.generate(r.values));
    } catch (const std::exception& e) {
      throw BatchError(r.line, e.what());
    }
    if (options.progress) options.progress(++done, total);
  }
  store::Transaction tx(store.db());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Profile p;
    p.iccid = rows[i].values.iccid;
    p.owner = options.owner;
    p.profile_type = options.profile_type;
    p.state = ProfileState::Available;
    p.service_provider_name = options.service_provider_name;
    p.profile_name = options.profile_name;
    try {
      store.stage(p, packages[i], options.protect_with_ppk, options.requirements);
    } catch (const DuplicateProfile& e) {
      throw BatchError(rows[i].line, e.what());
    } catch (const store::StoreError& e) {
      throw BatchError(rows[i].line, "ICCID " + p.iccid + " cannot be stored (already known?)");
    }
    wipe(packages[i].data(), packages[i].size());
    if (options.progress) options.progress(++done, total);
  }
  tx.commit();
  return rows.size();
}

}  // namespace rsp::smdp
