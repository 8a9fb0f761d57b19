#include "sipsite/media/sdp.hpp"

#include "text_util.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>

namespace sipsite::media {

namespace {

using detail::parse_u16;
using detail::parse_u32;
using detail::split_ws;

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  bool letter = false;
  for (const char c : s) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (alpha) letter = true;
    if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
  }
  return letter;
}

// An address of the given type: an IP literal of that family, or an FQDN.
bool valid_address(std::string_view addr_type, std::string_view address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(std::string(address), ec);
  if (!ec) return addr_type == "IP4" ? ip.is_v4() : ip.is_v6();
  if (addr_type == "IP6" && address.find(':') != std::string_view::npos) return false;
  return is_hostname(address);
}

MediaError bad(std::string reason) { return MediaError{MediaErrc::bad_sdp, std::move(reason)}; }

std::string line_no(std::size_t n) { return "line " + std::to_string(n); }

}  // namespace

// ---- c= -------------------------------------------------------------------

std::string Connection::render() const { return "IN " + addr_type + " " + address + suffix; }

std::optional<Connection> parse_connection(std::string_view value) {
  const auto t = split_ws(value);
  if (t.size() != 3 || t[0] != "IN" || (t[1] != "IP4" && t[1] != "IP6")) return std::nullopt;
  Connection c;
  c.addr_type = std::string(t[1]);
  std::string_view addr = t[2];
  if (const auto slash = addr.find('/'); slash != std::string_view::npos) {
    // ttl and/or number of addresses (multicast): digits separated by '/'.
    const auto suffix = addr.substr(slash);
    if (suffix.size() > 24) return std::nullopt;
    for (const char ch : suffix)
      if (ch != '/' && (ch < '0' || ch > '9')) return std::nullopt;
    c.suffix = std::string(suffix);
    addr = addr.substr(0, slash);
  }
  if (!valid_address(c.addr_type, addr)) return std::nullopt;
  c.address = std::string(addr);
  return c;
}

Connection make_connection(std::string_view ip) {
  Connection c;
  c.addr_type = ip.find(':') != std::string_view::npos ? "IP6" : "IP4";
  c.address = std::string(ip);
  return c;
}

// ---- o= -------------------------------------------------------------------

std::string Origin::render() const {
  return username + " " + session_id + " " + session_version + " " + net_type + " " + addr_type + " " + address;
}

std::optional<Origin> parse_origin(std::string_view value) {
  const auto t = split_ws(value);
  if (t.size() != 6) return std::nullopt;
  Origin o{std::string(t[0]), std::string(t[1]), std::string(t[2]),
           std::string(t[3]), std::string(t[4]), std::string(t[5])};
  return o;
}

// ---- m= -------------------------------------------------------------------

std::string MediaLine::render() const {
  std::string out = media + " " + std::to_string(port);
  if (port_count) out += "/" + std::to_string(*port_count);
  return out + tail;
}

std::optional<MediaLine> parse_media_line(std::string_view value) {
  // media SP port[/count] SP proto *(SP fmt), single spaces between media and
  // port (so the line renders back byte for byte); the rest is split loosely.
  const auto sp = value.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  MediaLine m;
  m.media = std::string(value.substr(0, sp));
  for (const char c : m.media)
    if (c == '\t') return std::nullopt;
  const auto rest = value.substr(sp + 1);
  const auto end = rest.find(' ');
  if (end == std::string_view::npos) return std::nullopt;
  auto port_token = rest.substr(0, end);
  if (const auto slash = port_token.find('/'); slash != std::string_view::npos) {
    const auto count = parse_u16(port_token.substr(slash + 1));
    if (!count || *count == 0) return std::nullopt;
    m.port_count = *count;
    port_token = port_token.substr(0, slash);
  }
  const auto port = parse_u16(port_token);
  if (!port) return std::nullopt;
  m.port = *port;
  m.tail = std::string(rest.substr(end));
  const auto t = split_ws(m.tail);
  if (t.empty()) return std::nullopt;  // no proto
  m.proto = std::string(t[0]);
  for (std::size_t i = 1; i < t.size(); ++i) m.formats.emplace_back(t[i]);
  return m;
}

// ---- a=rtcp ---------------------------------------------------------------

std::string RtcpAttribute::render() const {
  std::string out = "rtcp:" + std::to_string(port);
  if (connection) out += " " + connection->render();
  return out;
}

std::optional<RtcpAttribute> parse_rtcp(std::string_view value) {
  // Accept a trailing space or tab; the port comes first, then an optional
  // connection address.
  const auto t = split_ws(value);
  if (t.empty()) return std::nullopt;
  const auto port = parse_u16(t[0]);
  if (!port) return std::nullopt;
  RtcpAttribute r;
  r.port = *port;
  if (t.size() == 1) return r;
  if (t.size() != 4) return std::nullopt;
  const std::string conn = std::string(t[1]) + " " + std::string(t[2]) + " " + std::string(t[3]);
  auto c = parse_connection(conn);
  if (!c) return std::nullopt;
  r.connection = std::move(c);
  return r;
}

// ---- a=candidate ----------------------------------------------------------

std::string Candidate::render() const {
  std::string out = "candidate:" + foundation + " " + std::to_string(component) + " " + transport + " " + priority +
                    " " + address + " " + std::to_string(port) + " typ " + type;
  for (const auto& [name, val] : extensions) out.append(" ").append(name).append(" ").append(val);
  return out;
}

std::optional<Candidate> parse_candidate(std::string_view value) {
  const auto t = split_ws(value);
  if (t.size() < 8 || t[6] != "typ" || (t.size() - 8) % 2 != 0) return std::nullopt;
  Candidate c;
  c.foundation = std::string(t[0]);
  const auto component = parse_u32(t[1]);
  const auto port = parse_u16(t[5]);
  if (!component || !port) return std::nullopt;
  c.component = *component;
  c.transport = std::string(t[2]);
  c.priority = std::string(t[3]);
  c.address = std::string(t[4]);
  c.port = *port;
  c.type = std::string(t[7]);
  for (std::size_t i = 8; i + 1 < t.size(); i += 2) c.extensions.emplace_back(t[i], t[i + 1]);
  return c;
}

// ---- attributes -----------------------------------------------------------

std::string_view attribute_name(std::string_view a_value) { return a_value.substr(0, a_value.find(':')); }

std::string_view attribute_value(std::string_view a_value) {
  const auto colon = a_value.find(':');
  return colon == std::string_view::npos ? std::string_view{} : a_value.substr(colon + 1);
}

namespace {

std::optional<std::string_view> find_attribute(const std::vector<SdpLine>& lines, std::string_view name) {
  for (const auto& l : lines)
    if (l.type == 'a' && attribute_name(l.value) == name) return attribute_value(l.value);
  return std::nullopt;
}

std::optional<Connection> find_connection(const std::vector<SdpLine>& lines) {
  for (const auto& l : lines)
    if (l.type == 'c') return parse_connection(l.value);
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> MediaSection::attribute(std::string_view name) const {
  return find_attribute(lines, name);
}

std::optional<Connection> MediaSection::connection() const { return find_connection(lines); }

std::optional<RtcpAttribute> MediaSection::rtcp() const {
  if (const auto v = attribute("rtcp")) return parse_rtcp(*v);
  return std::nullopt;
}

std::string_view MediaSection::direction() const {
  for (const auto& l : lines) {
    if (l.type != 'a') continue;
    for (const std::string_view d : {"sendrecv", "sendonly", "recvonly", "inactive"})
      if (l.value == d) return d;
  }
  return "sendrecv";
}

std::optional<Origin> Sdp::origin() const {
  for (const auto& l : session)
    if (l.type == 'o') return parse_origin(l.value);
  return std::nullopt;
}

std::optional<Connection> Sdp::connection() const { return find_connection(session); }

std::optional<std::string_view> Sdp::attribute(std::string_view name) const { return find_attribute(session, name); }

std::optional<Connection> Sdp::connection_for(std::size_t index) const {
  if (index < media.size())
    if (auto c = media[index].connection()) return c;
  return connection();
}

// ---- parse / serialize ----------------------------------------------------

Result<Sdp> parse_sdp(std::string_view text) {
  if (text.size() > kMaxSdpSize) return bad("SDP larger than " + std::to_string(kMaxSdpSize / 1024) + " KiB");
  Sdp sdp;
  bool first = true;
  bool seen_origin = false;
  std::size_t number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    std::string_view raw = nl == std::string_view::npos ? text.substr(pos) : text.substr(pos, nl - pos);
    std::string eol = nl == std::string_view::npos ? "" : "\n";
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') {
      raw.remove_suffix(1);
      eol = nl == std::string_view::npos ? "\r" : "\r\n";
    }
    if (raw.empty()) {
      if (eol == "\r") return bad(line_no(number) + ": bare CR");
      continue;  // blank lines (often a trailing one) carry nothing
    }
    if (raw.find('\r') != std::string_view::npos) return bad(line_no(number) + ": bare CR");
    if (raw.find('\0') != std::string_view::npos) return bad(line_no(number) + ": NUL byte");
    if (raw.size() < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z')
      return bad(line_no(number) + " is not <type>=<value>");
    SdpLine line{raw[0], std::string(raw.substr(2)), std::move(eol)};
    if (first) {
      if (line.type != 'v') return bad("no v= line first");
      if (line.value != "0") return bad("unsupported SDP version (v=" + line.value.substr(0, 16) + ")");
      sdp.eol = line.eol.empty() ? "\r\n" : line.eol;
      first = false;
    }
    switch (line.type) {
      case 'v':
        if (!sdp.session.empty() || !sdp.media.empty()) return bad(line_no(number) + ": second v=");
        break;
      case 'o':
        if (!sdp.media.empty() || seen_origin) return bad(line_no(number) + ": o= out of place");
        if (!parse_origin(line.value)) return bad("malformed o= line");
        seen_origin = true;
        break;
      case 'c':
        if (!parse_connection(line.value)) return bad(line_no(number) + ": c= not parsable");
        break;
      case 'm': {
        if (sdp.media.size() >= kMaxMediaSections)
          return bad("more than " + std::to_string(kMaxMediaSections) + " m= lines");
        auto m = parse_media_line(line.value);
        if (!m) return bad(line_no(number) + ": bad m= line");
        MediaSection section;
        section.m = std::move(*m);
        section.m_raw = std::move(line.value);
        section.m_eol = std::move(line.eol);
        sdp.media.push_back(std::move(section));
        continue;
      }
      case 'a':
        if (attribute_name(line.value) == "rtcp" && !parse_rtcp(attribute_value(line.value)))
          return bad(line_no(number) + ": a=rtcp not parsable");
        break;
      default: break;
    }
    if (sdp.media.empty())
      sdp.session.push_back(std::move(line));
    else
      sdp.media.back().lines.push_back(std::move(line));
  }
  if (first) return bad("empty SDP (no v= line)");
  if (!seen_origin) return bad("no o= line");
  return sdp;
}

namespace {

void put(std::string& out, std::string_view type_eq, std::string_view value, std::string_view eol,
         std::string_view fallback_eol) {
  // A line without an ending (the input's last) gets one when more follow;
  // the final one is fixed up by the caller.
  if (!out.empty() && out.back() == '\r') {
    out += '\n';  // the input's last line ended in a lone CR
  } else if (!out.empty() && out.back() != '\n') {
    out += fallback_eol;
  }
  out += type_eq;
  out += value;
  out += eol;
}

}  // namespace

std::string serialize(const Sdp& sdp) {
  std::string out;
  std::size_t size = 0;
  for (const auto& l : sdp.session) size += l.value.size() + 4;
  for (const auto& m : sdp.media) {
    size += m.m_raw.size() + 4;
    for (const auto& l : m.lines) size += l.value.size() + 4;
  }
  out.reserve(size);
  const auto emit = [&](const SdpLine& l) {
    const char head[2] = {l.type, '='};
    put(out, std::string_view(head, 2), l.value, l.eol, sdp.eol);
  };
  for (const auto& l : sdp.session) emit(l);
  for (const auto& m : sdp.media) {
    // The raw m= line while the parsed one still says the same thing.
    const auto original = parse_media_line(m.m_raw);
    const bool unchanged = original && original->render() == m.m.render();
    put(out, "m=", unchanged ? std::string_view(m.m_raw) : std::string_view(m.m.render()), m.m_eol, sdp.eol);
    for (const auto& l : m.lines) emit(l);
  }
  return out;
}

}  // namespace sipsite::media
