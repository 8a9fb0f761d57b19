#include "sipsite/sip/message/serializer.hpp"

#include <charconv>

namespace sipsite::sip {
namespace {

void append_number(std::string& out, long long n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

void serialize_to(const Message& message, std::string& out) {
  std::size_t size = 64 + message.body().size() + message.method().size() + message.request_uri().size() +
                     message.reason_phrase().size();
  for (const auto& h : message.headers()) size += h.name.size() + h.value.size() + 4;
  out.reserve(out.size() + size);

  if (message.is_request()) {
    out.append(message.method()).append(" ").append(message.request_uri()).append(" ");
    out.append(message.version());
  } else {
    out.append(message.version()).append(" ");
    append_number(out, message.status_code());
    out.append(" ").append(message.reason_phrase());
  }
  out.append("\r\n");
  for (const auto& h : message.headers()) {
    if (h.id == HeaderId::content_length) continue;
    out.append(h.id == HeaderId::unknown ? h.name : canonical_name(h.id));
    out.append(": ").append(h.value).append("\r\n");
  }
  out.append("Content-Length: ");
  append_number(out, static_cast<long long>(message.body().size()));
  out.append("\r\n\r\n");
  out.append(message.body());
}

std::string serialize(const Message& message) {
  std::string out;
  serialize_to(message, out);
  return out;
}

}  // namespace sipsite::sip
