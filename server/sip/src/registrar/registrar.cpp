#include "sipsite/sip/registrar/registrar.hpp"

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/header_id.hpp"
#include "sipsite/sip/message/response.hpp"
#include "sipsite/sip/message/scalars.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <optional>

namespace sipsite::sip {
namespace {

Message reply(const Inbound& request, int code, std::string_view reason) {
  return make_response(request.message, code, reason);
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as q x 1000.
std::optional<int> parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  const int whole = s[0] - '0';
  if (s.size() == 1) return whole * 1000;
  if (s[1] != '.' || s.size() > 5) return std::nullopt;
  int frac = 0;
  int scale = 100;
  for (char c : s.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    frac += (c - '0') * scale;
    scale /= 10;
  }
  if (whole == 1 && frac != 0) return std::nullopt;
  return whole * 1000 + frac;
}

std::string format_qvalue(int q1000) {
  if (q1000 >= 1000) return "1";
  std::string out = "0.";
  out += static_cast<char>('0' + q1000 / 100);
  out += static_cast<char>('0' + (q1000 / 10) % 10);
  out += static_cast<char>('0' + q1000 % 10);
  while (out.size() > 3 && out.back() == '0') out.pop_back();
  return out;
}

bool param_values_equal(const Param& a, const Param& b) {
  if (a.value.has_value() != b.value.has_value()) return false;
  if (!a.value) return true;
  const auto ua = unescape(*a.value);
  const auto ub = unescape(*b.value);
  return ua && ub && iequals(*ua, *ub);
}

struct Update {
  std::string_view uri;
  std::uint32_t expires = 0;
  int q1000 = 1000;
};

}  // namespace

bool contact_uris_equal(std::string_view a, std::string_view b) {
  if (a == b) return true;  // the common case (a refresh), without parsing
  const auto ua = parse_uri(a);
  const auto ub = parse_uri(b);
  if (!ua || !ub || !ua->is_sip() || !ub->is_sip()) return a == b;
  const SipUri& x = ua->sip_uri;
  const SipUri& y = ub->sip_uri;
  if (x.secure != y.secure || !iequals(x.host, y.host) || x.port != y.port) return false;
  const auto xu = unescape(x.user);
  const auto yu = unescape(y.user);
  if (!xu || !yu || *xu != *yu) return false;
  if (x.password.has_value() != y.password.has_value()) return false;
  if (x.password && unescape(*x.password) != unescape(*y.password)) return false;
  static constexpr std::array<std::string_view, 5> kMustMatch = {"transport", "user", "ttl", "method", "maddr"};
  for (const auto name : kMustMatch) {
    const Param* px = find_param(x.params, name);
    const Param* py = find_param(y.params, name);
    if ((px == nullptr) != (py == nullptr)) return false;
    if (px != nullptr && !param_values_equal(*px, *py)) return false;
  }
  for (const auto& px : x.params) {
    if (const Param* py = find_param(y.params, px.name); py != nullptr && !param_values_equal(px, *py)) {
      return false;
    }
  }
  return true;
}

std::string format_sip_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              kDays[static_cast<std::size_t>(tm.tm_wday % 7)], tm.tm_mday,
                              kMonths[static_cast<std::size_t>(tm.tm_mon % 12)], tm.tm_year + 1900, tm.tm_hour,
                              tm.tm_min, tm.tm_sec);
  return {buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

Registrar::Registrar(const Directory& directory, Authenticator& authenticator, LocationService& location,
                     const Clock& clock, RegistrarSettings settings)
    : directory_(directory),
      authenticator_(authenticator),
      location_(location),
      clock_(clock),
      settings_(std::move(settings)) {
  if (settings_.max_contacts == 0) settings_.max_contacts = 1;
  if (settings_.max_expires < settings_.min_expires) settings_.max_expires = settings_.min_expires;
  settings_.default_expires = std::clamp(settings_.default_expires, settings_.min_expires, settings_.max_expires);
}

Message Registrar::handle_register(const Inbound& request) {
  const Message& m = request.message;
  if (!m.is_request() || m.method() != "REGISTER") return reply(request, 400, "Bad Request (not a REGISTER)");

  // Step 5 early: the AOR's domain needs no authentication to judge.
  const auto to = to_header(m);
  if (!to) return reply(request, 400, "Bad Request (malformed To)");
  const SipUri* to_uri = to->uri.sip();
  if (to_uri == nullptr || to_uri->user.empty()) return reply(request, 400, "Bad Request (To is not a SIP AOR)");
  if (!iequals(to_uri->host, directory_.local_domain())) {
    return reply(request, 404, "Not Found (not a domain of this site)");
  }
  const auto to_user = unescape(to_uri->user);
  if (!to_user) return reply(request, 400, "Bad Request (To is not a SIP AOR)");

  // Step 2: we support no extension a REGISTER could require (path, outbound, gruu).
  const auto required = m.values(HeaderId::require);
  if (!required.empty()) {
    Message r = reply(request, 420, "Bad Extension");
    std::string unsupported;
    for (const auto tag : required) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += tag;
    }
    r.add_header("Unsupported", unsupported);
    return r;
  }

  // Steps 3 and 4.
  AuthDecision auth = authenticator_.authenticate(request, false);
  if (auth.verdict != AuthDecision::Verdict::accepted) {
    if (auth.response) return std::move(*auth.response);
    return reply(request, 403, "Forbidden");
  }
  if (auth.username != *to_user) return reply(request, 403, "Forbidden (To does not match the authenticated user)");
  const std::string& username = auth.username;

  const auto call_id = call_id_header(m);
  const auto cseq = cseq_header(m);
  if (!call_id || !cseq) return reply(request, 400, "Bad Request (malformed Call-ID or CSeq)");
  const auto contacts = contact_headers(m);
  if (!contacts) return reply(request, 400, "Bad Request (malformed Contact)");
  const auto expires_header_value = expires_header(m);
  if (!expires_header_value) return reply(request, 400, "Bad Request (malformed Expires)");

  const TimePoint now = clock_.now();
  std::vector<Binding> bindings = location_.bindings(username);
  const auto out_of_order = [&](const Binding& b) { return b.call_id == *call_id && cseq->number <= b.cseq; };

  if (contacts->star) {
    // Step 6: "*" removes everything, and only with Expires: 0.
    if (!*expires_header_value || **expires_header_value != 0) {
      return reply(request, 400, "Bad Request (Contact: * needs Expires: 0)");
    }
    if (std::any_of(bindings.begin(), bindings.end(), out_of_order)) {
      return reply(request, 400, "Bad Request (CSeq out of order)");
    }
    bindings.clear();
  } else if (!contacts->contacts.empty()) {
    if (contacts->contacts.size() > settings_.max_contacts) {
      return reply(request, 403, "Forbidden (too many contacts)");
    }
    std::vector<Update> updates;
    updates.reserve(contacts->contacts.size());
    for (const auto& c : contacts->contacts) {
      if (!c.uri.is_sip()) return reply(request, 400, "Bad Request (Contact must be a sip: or sips: URI)");
      Update u;
      u.uri = c.uri.text;
      if (const Param* e = find_param(c.params, "expires"); e != nullptr) {
        const auto v = e->value ? std::optional(parse_expires(*e->value)) : std::nullopt;
        if (!v || !*v) return reply(request, 400, "Bad Request (malformed expires parameter)");
        u.expires = **v;
      } else if (*expires_header_value) {
        u.expires = **expires_header_value;
      } else {
        u.expires = settings_.default_expires;
      }
      if (u.expires != 0 && u.expires < settings_.min_expires) {
        Message r = reply(request, 423, "Interval Too Brief");
        r.add_header("Min-Expires", std::to_string(settings_.min_expires));
        return r;
      }
      u.expires = std::min(u.expires, settings_.max_expires);
      if (const Param* q = find_param(c.params, "q"); q != nullptr) {
        const auto v = q->value ? parse_qvalue(*q->value) : std::nullopt;
        if (!v) return reply(request, 400, "Bad Request (malformed q parameter)");
        u.q1000 = *v;
      }
      updates.push_back(u);
    }

    // Step 7, on a copy: the update is all or nothing.
    enum class Seen : std::uint8_t { untouched, refreshed, added };
    std::vector<Seen> seen(bindings.size(), Seen::untouched);
    for (const auto& u : updates) {
      const auto it = std::find_if(bindings.begin(), bindings.end(),
                                   [&u](const Binding& b) { return contact_uris_equal(b.contact, u.uri); });
      if (it == bindings.end()) {
        if (u.expires == 0) continue;
        bindings.push_back(Binding{std::string(u.uri), Destination{request.source, request.flow},
                                   now + std::chrono::seconds(u.expires), u.q1000, std::string(*call_id),
                                   cseq->number});
        seen.push_back(Seen::added);
        continue;
      }
      const auto index = static_cast<std::size_t>(it - bindings.begin());
      // A contact this very request added earlier (listed twice) is not out of order.
      if (seen[index] != Seen::added && out_of_order(*it)) {
        return reply(request, 400, "Bad Request (CSeq out of order)");
      }
      if (u.expires == 0) {
        bindings.erase(it);
        seen.erase(seen.begin() + static_cast<std::ptrdiff_t>(index));
        continue;
      }
      if (seen[index] == Seen::untouched) seen[index] = Seen::refreshed;
      it->contact.assign(u.uri);
      it->destination = Destination{request.source, request.flow};
      it->expires = now + std::chrono::seconds(u.expires);
      it->q1000 = u.q1000;
      it->call_id.assign(*call_id);
      it->cseq = cseq->number;
    }
    // Over the cap: evict what this request did not name, soonest to expire first.
    while (bindings.size() > settings_.max_contacts) {
      std::optional<std::size_t> victim;
      for (std::size_t i = 0; i < bindings.size(); ++i) {
        if (seen[i] == Seen::untouched && (!victim || bindings[i].expires < bindings[*victim].expires)) victim = i;
      }
      if (!victim) break;  // cannot happen: the request names at most max_contacts
      bindings.erase(bindings.begin() + static_cast<std::ptrdiff_t>(*victim));
      seen.erase(seen.begin() + static_cast<std::ptrdiff_t>(*victim));
    }
  }
  // No Contact at all is a query (step 6): nothing to store.
  if (contacts->star || !contacts->contacts.empty()) location_.replace(username, bindings);

  Message ok = reply(request, 200, "OK");
  for (const auto& b : bindings) {
    const auto remaining = std::chrono::ceil<std::chrono::seconds>(b.expires - now).count();
    std::string value = "<" + b.contact + ">;expires=" + std::to_string(remaining);
    if (b.q1000 != 1000) value += ";q=" + format_qvalue(b.q1000);
    ok.add_header("Contact", value);
  }
  if (settings_.wall_clock) ok.add_header("Date", format_sip_date(settings_.wall_clock()));
  return ok;
}

}  // namespace sipsite::sip
