#include "sipsite/sip/message/parser.hpp"

#include "charset.hpp"
#include "framing.hpp"
#include "message_access.hpp"
#include "sipsite/sip/message/scalars.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <cstring>
#include <memory>

namespace sipsite::sip {
namespace detail {
namespace {

constexpr std::string_view kCrlf = "\r\n";

ParseError error(ParseErrc code, MessageKind kind, std::string reason) {
  return ParseError{code, kind, std::move(reason)};
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive)
enum class VersionCheck : std::uint8_t { ok, malformed, unsupported };

VersionCheck check_version(std::string_view v) noexcept {
  if (v.size() < 7 || !iequals(v.substr(0, 4), "SIP/")) return VersionCheck::malformed;
  const auto num = v.substr(4);
  const auto dot = num.find('.');
  if (dot == std::string_view::npos) return VersionCheck::malformed;
  const auto major = num.substr(0, dot);
  const auto minor = num.substr(dot + 1);
  if (!parse_decimal(major, 999) || !parse_decimal(minor, 999)) return VersionCheck::malformed;
  return (major == "2" && minor == "0") ? VersionCheck::ok : VersionCheck::unsupported;
}

// The one answer to a start line's version: 400 when malformed, 505 when
// another version.
Result<void> require_sip_2_0(std::string_view version, MessageKind kind) {
  switch (check_version(version)) {
    case VersionCheck::ok: return {};
    case VersionCheck::malformed: return error(ParseErrc::bad_start_line, kind, "malformed SIP-Version");
    case VersionCheck::unsupported: return error(ParseErrc::bad_version, kind, "unsupported SIP-Version");
  }
  return error(ParseErrc::bad_start_line, kind, "malformed SIP-Version");
}

Result<void> parse_request_line(Message& m, std::string_view line) {
  constexpr auto kind = MessageKind::request;
  // Exactly single SPs (RFC 3261 25.1); extra or trailing SP is rejected
  // rather than guessed at (RFC 4475 lwsstart, trws, lwsruri).
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return error(ParseErrc::bad_start_line, kind, "Request-Line needs three parts");
  const auto method = line.substr(0, sp1);
  const auto uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (version.find(' ') != std::string_view::npos || method.empty() || uri.empty() || version.empty()) {
    return error(ParseErrc::bad_start_line, kind, "extra SP in Request-Line");
  }
  if (!is_token(method)) return error(ParseErrc::bad_start_line, kind, "method is not a token");
  if (const auto u = parse_uri(uri); !u) {
    return error(ParseErrc::bad_request_uri, kind, "malformed Request-URI: " + u.error().reason);
  }
  if (auto v = require_sip_2_0(version, kind); !v) return v;
  MessageAccess::request_line(m, method, uri, version);
  return {};
}

Result<void> parse_status_line(Message& m, std::string_view line) {
  constexpr auto kind = MessageKind::response;
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return error(ParseErrc::bad_start_line, kind, "Status-Line needs a code");
  const auto version = line.substr(0, sp1);
  if (auto v = require_sip_2_0(version, kind); !v) return v;
  const auto rest = line.substr(sp1 + 1);
  const auto sp2 = rest.find(' ');
  const auto code_text = rest.substr(0, sp2);
  // The SP before an empty Reason-Phrase is required by the grammar, but
  // stacks accept "SIP/2.0 200" too; so do we.
  const auto reason = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
  const auto code = code_text.size() == 3 ? parse_decimal(code_text, 999) : std::nullopt;
  if (!code || *code < 100 || *code > 699) {
    return error(ParseErrc::bad_status_code, kind, "Status-Code not in 100..699");
  }
  MessageAccess::status_line(m, version, static_cast<int>(*code), reason);
  return {};
}

}  // namespace

MessageKind guess_kind(std::string_view bytes) noexcept {
  return bytes.size() >= 4 && iequals(bytes.substr(0, 4), "SIP/") ? MessageKind::response : MessageKind::request;
}

Result<std::optional<std::uint64_t>> find_content_length(std::string_view head, MessageKind kind) {
  std::optional<std::uint64_t> found;
  auto pos = head.find(kCrlf);  // skip the start line
  if (pos == std::string_view::npos) return found;
  pos += 2;
  while (pos < head.size()) {
    auto eol = head.find(kCrlf, pos);
    if (eol == std::string_view::npos) eol = head.size();
    const auto line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty() || is_ws(line.front())) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // reported by the full parse
    if (header_id(trim(line.substr(0, colon))) != HeaderId::content_length) continue;
    std::string value(line.substr(colon + 1));
    // A folded Content-Length is odd but legal.
    while (pos < head.size() && is_ws(head[pos])) {
      auto e = head.find(kCrlf, pos);
      if (e == std::string_view::npos) e = head.size();
      value += ' ';
      value += head.substr(pos, e - pos);
      pos = e + 2;
    }
    if (found) return error(ParseErrc::multiple_content_length, kind, "more than one Content-Length");
    auto n = parse_content_length(value);
    if (!n) return error(ParseErrc::bad_content_length, kind, "malformed Content-Length");
    found = *n;
  }
  return found;
}

Result<Message> parse_message(std::string_view bytes, const ParseLimits& limits, Framing framing) {
  // RFC 3261 7.5: CRLFs before the start line are ignored.
  while (bytes.substr(0, 2) == kCrlf) bytes.remove_prefix(2);
  const auto kind = guess_kind(bytes);
  if (trim(bytes).empty()) return error(ParseErrc::empty_message, kind, "no message");
  if (bytes.size() > limits.max_message_size) {
    return error(ParseErrc::message_too_large, kind, "message exceeds the size limit");
  }
  const auto header_end = bytes.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    return error(ParseErrc::incomplete_headers, kind, "no empty line after the headers");
  }
  const auto head = bytes.substr(0, header_end + 2);
  for (std::size_t i = 0; i < head.size(); ++i) {
    if ((head[i] == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) ||
        (head[i] == '\n' && (i == 0 || head[i - 1] != '\r'))) {
      return error(ParseErrc::bad_line_ending, kind, "bare CR or LF in the header section");
    }
  }
  const auto rest = bytes.substr(header_end + 4);

  auto content_length = find_content_length(head, kind);
  if (!content_length) return content_length.error();
  std::size_t body_len = rest.size();
  if (*content_length) {
    if (**content_length > rest.size()) {
      return error(ParseErrc::body_truncated, kind, "Content-Length larger than the message");
    }
    body_len = static_cast<std::size_t>(**content_length);  // surplus octets ignored (18.3)
  } else if (framing == Framing::stream) {
    return error(ParseErrc::missing_content_length, kind, "Content-Length is mandatory on streams");
  }

  // One copy into a buffer that is never resized afterwards, so views into
  // it stay put; folded header values are unfolded in place (they only
  // shrink).
  auto buffer = std::make_shared<std::string>();
  buffer->reserve(head.size() + body_len);
  buffer->append(head);
  buffer->append(rest.substr(0, body_len));
  char* const data = buffer->data();
  const std::size_t head_len = head.size();
  const auto view = [data](std::size_t from, std::size_t to) { return std::string_view(data + from, to - from); };

  Message m;
  const std::string_view whole(*buffer);
  std::size_t eol = whole.find(kCrlf);
  if (eol > limits.max_line_length) return error(ParseErrc::line_too_long, kind, "start line too long");
  const auto start_line = view(0, eol);
  // The start line first: its errors decide the answer (505 vs 400) and
  // say whether this is a request at all.
  const auto started =
      kind == MessageKind::response ? parse_status_line(m, start_line) : parse_request_line(m, start_line);
  if (!started) return started.error();

  std::vector<Header>& headers = MessageAccess::headers(m);
  bool open = false;  // a header is being collected (folding may follow)
  Header current;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
  const auto close = [&] {
    if (!open) return;
    current.value = view(value_begin, value_end);
    headers.push_back(current);
    open = false;
  };

  std::size_t pos = eol + 2;
  while (pos < head_len) {
    eol = whole.find(kCrlf, pos);
    if (eol - pos > limits.max_line_length) return error(ParseErrc::line_too_long, kind, "header line too long");
    if (is_ws(data[pos])) {
      if (!open) return error(ParseErrc::bad_header_line, kind, "continuation line without a header");
      std::size_t cs = pos;
      std::size_t ce = eol;
      while (cs < ce && is_ws(data[cs])) ++cs;
      while (ce > cs && is_ws(data[ce - 1])) --ce;
      if (cs < ce) {
        if (value_end > value_begin) data[value_end++] = ' ';
        std::memmove(data + value_end, data + cs, ce - cs);
        value_end += ce - cs;
      }
    } else {
      close();
      const auto line = view(pos, eol);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) return error(ParseErrc::bad_header_line, kind, "header line without ':'");
      const auto name = trim(line.substr(0, colon));
      if (!is_token(name)) return error(ParseErrc::bad_header_line, kind, "header name is not a token");
      if (headers.size() >= limits.max_headers) {
        return error(ParseErrc::too_many_headers, kind, "too many header fields");
      }
      current = Header{header_id(name), name, {}};
      value_begin = pos + colon + 1;
      value_end = eol;
      while (value_begin < value_end && is_ws(data[value_begin])) ++value_begin;
      while (value_end > value_begin && is_ws(data[value_end - 1])) --value_end;
      open = true;
    }
    pos = eol + 2;
  }
  close();

  MessageAccess::body(m, view(head_len, head_len + body_len));
  MessageAccess::adopt(m, std::move(buffer));
  return m;
}

}  // namespace detail

Result<Message> parse_datagram(std::string_view bytes, const ParseLimits& limits) {
  return detail::parse_message(bytes, limits, detail::Framing::datagram);
}

}  // namespace sipsite::sip
