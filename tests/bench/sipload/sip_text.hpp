#pragma once
// The little SIP a load generator needs: a tolerant reader for the headers
// it uses (views into the datagram or stream buffer, no allocation) and
// RFC 7616 MD5 digest answers. Deliberately not sipsite's own parser: the
// generator must not share the server's bugs.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sipload {

// Up to kMax values of a repeated header, in order; the rest are dropped.
template <std::size_t kMax>
struct Views {
  std::array<std::string_view, kMax> items{};
  std::size_t size = 0;
  void push(std::string_view v) {
    if (size < kMax) items[size++] = v;
  }
};

struct SipMessage {
  bool response = false;
  int status = 0;
  std::string_view method;       // request method, or the CSeq method of a response
  std::string_view request_uri;  // requests only
  Views<8> via;                  // whole header values, as received
  Views<8> record_route;         // one entry per header line (may hold commas)
  std::string_view from, to, call_id, contact, challenge;
  std::uint32_t cseq = 0;
  std::size_t content_length = 0;
};

// Parses the start line and headers of one complete message. False when it
// is not SIP enough to act on.
bool parse(std::string_view text, SipMessage& out);

// For stream transports: the length of the first complete message in buf
// (headers + Content-Length body), 0 when more bytes are needed. Leading
// CRLFs (keep-alives) are reported through skip.
std::size_t frame_length(std::string_view buf, std::size_t& skip);

// The value of ";tag=" in a From/To value, empty if absent.
std::string_view tag_of(std::string_view name_addr);

// The URI inside <...> of a name-addr, or the value up to ';' without one.
std::string_view uri_of(std::string_view name_addr);

// The user part of a sip: URI ("sip:alice@host" -> "alice").
std::string_view user_of(std::string_view uri);

// A parameter of a Digest challenge, unquoted; empty if absent.
std::string_view digest_param(std::string_view challenge, std::string_view name);

// Lowercase hex MD5 of text.
std::string md5_hex(std::string_view text);

// The Authorization / Proxy-Authorization value for qop=auth.
struct DigestAnswer {
  std::string_view user, realm, nonce, opaque, uri, method, ha1, cnonce;
  std::uint32_t nc = 1;
};
std::string digest_authorization(const DigestAnswer& a);

void append_uint(std::string& out, std::uint64_t v);

}  // namespace sipload
