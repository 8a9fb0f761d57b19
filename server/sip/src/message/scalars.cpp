#include "sipsite/sip/message/scalars.hpp"

#include "charset.hpp"
#include "sipsite/sip/message/cseq.hpp"

#include <limits>

namespace sipsite::sip {
namespace {

constexpr unsigned long long kMax32 = std::numeric_limits<std::uint32_t>::max();

ParseError error(ParseErrc code, std::string reason) {
  return ParseError{code, MessageKind::request, std::move(reason)};
}

}  // namespace

Result<CSeq> parse_cseq(std::string_view value) {
  detail::Scanner in(detail::trim(value));
  const auto digits = in.take_while(detail::is_digit);
  if (digits.empty()) return error(ParseErrc::bad_cseq, "CSeq number missing");
  const auto n = detail::parse_decimal(digits, kMax32);
  if (!n) return error(ParseErrc::bad_cseq, "CSeq number larger than 2^32-1");
  const std::size_t before_ws = in.pos();
  in.skip_ws();
  if (in.pos() == before_ws) return error(ParseErrc::bad_cseq, "CSeq method missing");
  CSeq c;
  c.number = static_cast<std::uint32_t>(*n);
  c.method = in.token();
  if (c.method.empty() || !in.done()) return error(ParseErrc::bad_cseq, "malformed CSeq method");
  return c;
}

Result<std::uint32_t> parse_max_forwards(std::string_view value) {
  const auto n = detail::parse_decimal(detail::trim(value), kMax32);
  if (!n) return error(ParseErrc::bad_max_forwards, "malformed Max-Forwards");
  return static_cast<std::uint32_t>(*n);
}

Result<std::uint64_t> parse_content_length(std::string_view value) {
  const auto n = detail::parse_decimal(detail::trim(value), kMax32);
  if (!n) return error(ParseErrc::bad_content_length, "malformed Content-Length");
  return static_cast<std::uint64_t>(*n);
}

Result<std::uint32_t> parse_expires(std::string_view value) {
  const auto v = detail::trim(value);
  if (v.empty()) return error(ParseErrc::bad_expires, "empty Expires");
  for (char c : v) {
    if (!detail::is_digit(c)) return error(ParseErrc::bad_expires, "malformed Expires");
  }
  const auto n = detail::parse_decimal(v, kMax32);
  return static_cast<std::uint32_t>(n ? *n : kMax32);
}

Result<std::string_view> parse_call_id(std::string_view value) {
  const auto v = detail::trim(value);
  const auto at = v.find('@');
  const auto left = v.substr(0, at);
  const auto is_word = [](std::string_view w) {
    if (w.empty()) return false;
    for (char c : w) {
      if (!detail::is_word_char(c)) return false;
    }
    return true;
  };
  if (!is_word(left) || (at != std::string_view::npos && !is_word(v.substr(at + 1)))) {
    return error(ParseErrc::bad_call_id, "malformed Call-ID");
  }
  return v;
}

}  // namespace sipsite::sip
