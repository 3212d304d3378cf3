#include "rsp/json.hpp"

namespace rsp {

namespace {

using sax_base = nlohmann::json_sax<nlohmann::json>;

// Counts and measures while nlohmann's iterative parser walks the text;
// returning false stops the parse at once.
class JsonScanner final : public sax_base {
 public:
  explicit JsonScanner(const JsonLimits& l) : limits_(l) {}
  std::string error;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override { return text(s) && value(); }
  bool binary(binary_t&) override { return value(); }
  bool key(string_t& s) override { return text(s) && value(); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::json::exception&) override {
    if (error.empty()) error = "invalid JSON at byte " + std::to_string(position);
    return false;
  }

 private:
  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }
  bool value() {
    if (++values_ > limits_.max_values)
      return fail("JSON has more than " + std::to_string(limits_.max_values) + " values");
    return true;
  }
  bool text(const string_t& s) {
    if (s.size() > limits_.max_string_bytes)
      return fail("JSON string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
    return true;
  }
  bool open() {
    if (++depth_ > limits_.max_depth)
      return fail("JSON nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    return value();
  }
  bool close() {
    --depth_;
    return true;
  }

  const JsonLimits& limits_;
  std::size_t depth_ = 0, values_ = 0;
};

}  // namespace

nlohmann::json parse_json(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw JsonError("JSON document larger than " + std::to_string(limits.max_bytes) + " bytes");
  JsonScanner scan(limits);
  if (!nlohmann::json::sax_parse(text, &scan, nlohmann::json::input_format_t::json, /*strict=*/true))
    throw JsonError(scan.error.empty() ? std::string("invalid JSON") : scan.error);
  // Within the limits: the tree is shallow and small, the ordinary parser is safe.
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw JsonError("invalid JSON");
  return j;
}

}  // namespace rsp
