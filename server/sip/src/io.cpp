#include "sipsite/sip/io.hpp"
#include "sipsite/common/ascii.hpp"
#include "sipsite/common/hex.hpp"
#include "sipsite/sip/message/serializer.hpp"

namespace sipsite::sip {

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::udp: return "UDP";
    case Protocol::tcp: return "TCP";
    case Protocol::tls: return "TLS";
  }
  return "UDP";
}

std::string_view transport_param(Protocol p) {
  switch (p) {
    case Protocol::udp: return "udp";
    case Protocol::tcp: return "tcp";
    case Protocol::tls: return "tls";
  }
  return "udp";
}

std::optional<Protocol> protocol_from_token(std::string_view token) {
  for (const Protocol p : {Protocol::udp, Protocol::tcp, Protocol::tls}) {
    if (common::iequals(token, transport_param(p))) return p;
  }
  return std::nullopt;
}

Message& Outgoing::edit() {
  if (!edited_) edited_ = *original_;
  wire_.reset();
  return *edited_;
}

const std::string& Outgoing::wire() {
  if (!wire_) wire_ = serialize(message());
  return *wire_;
}

std::string Outgoing::take_wire() {
  if (stopped_) return {};
  wire();
  std::string bytes = std::move(*wire_);
  wire_.reset();
  return bytes;
}

std::string Random::token() { return common::to_hex(next()); }

}  // namespace sipsite::sip
