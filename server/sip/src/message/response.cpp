#include "sipsite/sip/message/response.hpp"

#include "charset.hpp"
#include "framing.hpp"
#include "sipsite/sip/message/name_addr.hpp"
#include "sipsite/sip/message/serializer.hpp"
#include "sipsite/sip/message/via.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace sipsite::sip {
namespace {

// Never read more of a failed message than a message may be.
constexpr std::size_t kMaxScan = 64 * 1024;

std::string to_value_with_tag(std::string_view to_value, int code, std::string_view to_tag, const Message& source,
                              std::string_view call_id) {
  std::string out(to_value);
  if (code <= 100) return out;
  const auto to = parse_name_addr(to_value);
  if (!to || to->tag()) return out;  // a malformed To is echoed as it came
  std::string tag(to_tag);
  if (tag.empty()) {
    std::string_view from_tag;
    if (const auto from_value = source.value(HeaderId::from)) {
      if (const auto from = parse_name_addr(*from_value); from && from->tag()) from_tag = *from->tag();
    }
    std::string_view branch;
    if (const auto via_value = source.value(HeaderId::via)) {
      if (const auto vias = parse_via_list(*via_value); vias && vias->front().branch()) {
        branch = *vias->front().branch();
      }
    }
    tag = stateless_to_tag(call_id, from_tag, branch);
  }
  out += ";tag=";
  out += tag;
  return out;
}

// Copies the headers a response needs from request into response.
void copy_dialog_headers(const Message& request, Message& response, int code, std::string_view to_tag) {
  for (const auto& h : request.headers()) {
    if (h.id == HeaderId::via) response.add_header("Via", h.value);
  }
  const auto from = request.value(HeaderId::from);
  const auto to = request.value(HeaderId::to);
  const auto call_id = request.value(HeaderId::call_id);
  const auto cseq = request.value(HeaderId::cseq);
  if (from) response.add_header("From", *from);
  if (to) response.add_header("To", to_value_with_tag(*to, code, to_tag, request, call_id.value_or("")));
  if (call_id) response.add_header("Call-ID", *call_id);
  if (cseq) response.add_header("CSeq", *cseq);
  if (code == 100) {
    if (const auto ts = request.value(HeaderId::timestamp)) response.add_header("Timestamp", *ts);
  }
}

// Collects the header fields of a message that failed to parse, leniently:
// any line ending, no limits beyond kMaxScan, unknown junk skipped.
Message salvage(std::string_view raw) {
  Message m = Message::make_request("", "");
  raw = raw.substr(0, kMaxScan);
  while (raw.substr(0, 2) == "\r\n") raw.remove_prefix(2);
  const auto next_line = [&raw]() -> std::string_view {
    const auto lf = raw.find('\n');
    auto line = raw.substr(0, lf);
    raw = lf == std::string_view::npos ? std::string_view{} : raw.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  (void)next_line();  // start line
  std::string name;
  std::string value;
  const auto flush = [&] {
    if (!name.empty()) {
      const auto id = header_id(name);
      if (id == HeaderId::via || id == HeaderId::from || id == HeaderId::to || id == HeaderId::call_id ||
          id == HeaderId::cseq || id == HeaderId::timestamp) {
        m.add_header(name, value);
      }
    }
    name.clear();
    value.clear();
  };
  while (!raw.empty()) {
    const auto line = next_line();
    if (line.empty()) break;  // end of the header section
    if (detail::is_ws(line.front())) {
      if (!name.empty()) value.append(" ").append(detail::trim(line));
      continue;
    }
    flush();
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto n = detail::trim(line.substr(0, colon));
    if (!detail::is_token(n)) continue;
    name = n;
    value = detail::trim(line.substr(colon + 1));
  }
  flush();
  return m;
}

}  // namespace

Message make_response(const Message& request, int code, std::string_view reason_phrase, std::string_view to_tag) {
  Message response = Message::make_response(code, reason_phrase);
  copy_dialog_headers(request, response, code, to_tag);
  return response;
}

std::string stateless_to_tag(std::string_view call_id, std::string_view from_tag, std::string_view branch) {
  // FNV-1a 64: cheap and stable; the tag only needs to be unique enough
  // within one Call-ID, it is not a secret.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
  };
  mix(call_id);
  mix(from_tag);
  mix(branch);
  constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out(16, '0');
  for (std::size_t i = 0; i < 16; ++i) out[15 - i] = kHex[(h >> (4 * i)) & 0xF];
  return out;
}

std::optional<Message> error_response_for(std::string_view raw, const ParseError& error, std::string_view to_tag) {
  const auto status = error_status(error);
  if (status.action != ErrorAction::respond) return std::nullopt;
  std::string_view start = raw;
  while (start.substr(0, 2) == "\r\n") start.remove_prefix(2);
  if (detail::guess_kind(start) == MessageKind::response) return std::nullopt;

  const Message request = salvage(raw);
  bool via_seen = false;
  for (const auto& h : request.headers()) {
    if (h.id != HeaderId::via) continue;
    if (!parse_via_list(h.value)) return std::nullopt;
    via_seen = true;
  }
  const auto cseq = request.value(HeaderId::cseq);
  const auto call_id = request.value(HeaderId::call_id);
  if (!via_seen || !cseq || cseq->empty() || !call_id || call_id->empty() || !request.value(HeaderId::from) ||
      !request.value(HeaderId::to)) {
    return std::nullopt;
  }
  return make_response(request, status.code, status.reason, to_tag);
}

std::optional<std::string> make_error_response(std::string_view raw, const ParseError& error, std::string_view to_tag) {
  auto response = error_response_for(raw, error, to_tag);
  if (!response) return std::nullopt;
  return serialize(*response);
}

}  // namespace sipsite::sip
