#pragma once
// SDP (RFC 8866) as a sequence of lines, with typed views of the lines the
// relay rewrites (o=, c=, m=, a=rtcp, a=candidate).
//
// The model is lossless: serialize(parse_sdp(x)) == x for every x that
// parses, except that empty lines are dropped. Lines keep their own line
// ending (CRLF or LF-only, both accepted) and their order; unknown lines and
// attributes are kept as they are. Lines that a rewrite changes or adds take
// the document's line ending (that of its first line).
//
// Strict about structure, tolerant about content: an error is returned for
// no leading v=0, a missing or malformed o=, a malformed m= or c= line,
// a malformed a=rtcp, a line that is not "<letter>=<value>", NUL or a bare
// CR, more than kMaxMediaSections m= lines, or more than kMaxSdpSize bytes.
// Everything else (missing s=/t=, unknown types and attributes, malformed
// candidates) is kept. Never throws on input, never asserts.
//
// Pure functions and plain values: thread-compatible.

#include "sipsite/media/media_error.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipsite::media {

inline constexpr std::size_t kMaxSdpSize = 64 * 1024;
inline constexpr std::size_t kMaxMediaSections = 64;

struct SdpLine {
  char type = 0;      // 'v', 'o', 'c', 'a', ...
  std::string value;  // what follows "x="
  std::string eol;    // "\r\n", "\n", or "" for a last line without one
};

// c=IN <addr_type> <address>[/ttl][/count]
struct Connection {
  std::string addr_type;  // "IP4" or "IP6"
  std::string address;    // IP literal or FQDN
  std::string suffix;     // "/127/2" etc., kept raw
  [[nodiscard]] std::string render() const;
};
[[nodiscard]] std::optional<Connection> parse_connection(std::string_view value);
// "IN IP4 a" / "IN IP6 a" for an IP literal (IPv6 when it has a ':').
[[nodiscard]] Connection make_connection(std::string_view ip);

// o=<username> <sess-id> <sess-version> IN <addr_type> <address>
struct Origin {
  std::string username;
  std::string session_id;
  std::string session_version;
  std::string net_type;
  std::string addr_type;
  std::string address;
  [[nodiscard]] std::string render() const;
};
[[nodiscard]] std::optional<Origin> parse_origin(std::string_view value);

// m=<media> <port>[/<number of ports>] <proto> <fmt> ...
struct MediaLine {
  std::string media;                        // "audio", "video", "application", ...
  std::uint16_t port = 0;                   // 0: stream rejected/disabled
  std::optional<std::uint16_t> port_count;  // "/2"
  std::string proto;                        // "RTP/AVP", "UDP/TLS/RTP/SAVPF", ...
  std::vector<std::string> formats;
  std::string tail;  // everything after the port token, raw (" RTP/AVP 0 8")
  [[nodiscard]] std::string render() const;
};
[[nodiscard]] std::optional<MediaLine> parse_media_line(std::string_view value);

// a=rtcp:<port> [IN <addr_type> <address>]   (RFC 3605); `value` is after "rtcp:"
struct RtcpAttribute {
  std::uint16_t port = 0;
  std::optional<Connection> connection;
  [[nodiscard]] std::string render() const;  // "rtcp:..." (the whole attribute value)
};
[[nodiscard]] std::optional<RtcpAttribute> parse_rtcp(std::string_view value);

// a=candidate:<foundation> <component> <transport> <priority> <address> <port>
//   typ <type> [raddr <a>] [rport <p>] *(<name> <value>)   (RFC 8839)
// `value` is after "candidate:".
struct Candidate {
  std::string foundation;
  std::uint32_t component = 0;
  std::string transport;
  std::string priority;
  std::string address;
  std::uint16_t port = 0;
  std::string type;                                             // host, srflx, prflx, relay
  std::vector<std::pair<std::string, std::string>> extensions;  // raddr, rport, generation, ...
  [[nodiscard]] std::string render() const;                     // "candidate:..." (the whole attribute value)
};
[[nodiscard]] std::optional<Candidate> parse_candidate(std::string_view value);

// a=<name>[:<value>]: the name, and the value (empty when there is none).
[[nodiscard]] std::string_view attribute_name(std::string_view a_value);
[[nodiscard]] std::string_view attribute_value(std::string_view a_value);

struct MediaSection {
  MediaLine m;
  std::string m_raw;  // the m= value as received; serialized while m is unchanged
  std::string m_eol;
  std::vector<SdpLine> lines;  // i=, c=, b=, k=, a=, ... after the m= line

  // First a=<name>'s value (empty string for a flag), or nullopt.
  [[nodiscard]] std::optional<std::string_view> attribute(std::string_view name) const;
  [[nodiscard]] bool has_attribute(std::string_view name) const { return attribute(name).has_value(); }
  [[nodiscard]] std::optional<Connection> connection() const;  // media-level c=
  [[nodiscard]] std::optional<RtcpAttribute> rtcp() const;
  [[nodiscard]] bool rtcp_mux() const { return has_attribute("rtcp-mux"); }
  // "sendrecv" (the default), "sendonly", "recvonly" or "inactive".
  [[nodiscard]] std::string_view direction() const;
};

struct Sdp {
  std::vector<SdpLine> session;  // v= up to the first m=
  std::vector<MediaSection> media;
  std::string eol = "\r\n";  // for lines a rewrite adds or changes

  [[nodiscard]] std::optional<Origin> origin() const;
  [[nodiscard]] std::optional<Connection> connection() const;                            // session-level c=
  [[nodiscard]] std::optional<std::string_view> attribute(std::string_view name) const;  // session-level
  // The c= that applies to media section `index`: its own, else the session's.
  [[nodiscard]] std::optional<Connection> connection_for(std::size_t index) const;
};

[[nodiscard]] Result<Sdp> parse_sdp(std::string_view text);
[[nodiscard]] std::string serialize(const Sdp& sdp);

}  // namespace sipsite::media
