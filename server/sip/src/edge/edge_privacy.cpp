#include "sipsite/sip/edge/edge_privacy.hpp"

#include "sipsite/sip/message/accessors.hpp"
#include "sipsite/sip/message/list.hpp"
#include "sipsite/sip/message/name_addr.hpp"
#include "sipsite/sip/message/scalars.hpp"
#include "sipsite/sip/message/uri.hpp"

#include <algorithm>

namespace sipsite::sip {

namespace {

bool is_dialog_creating(std::string_view method) {
  return method == "INVITE" || method == "SUBSCRIBE" || method == "REFER";
}

// `value` (a From/To/Contact name-addr) with its tag parameter set to `tag`,
// always in the <uri> form.
std::string with_tag(const NameAddr& na, std::string_view tag) {
  std::string out;
  if (!na.display_name.empty()) {
    out += na.display_name;
    out += ' ';
  }
  out += '<';
  out += na.uri.text;
  out += '>';
  bool done = false;
  for (const auto& p : na.params) {
    out += ';';
    if (iequals(p.name, "tag")) {
      out += "tag=";
      out += tag;
      done = true;
      continue;
    }
    out += p.name;
    if (p.value) {
      out += '=';
      out += *p.value;
    }
  }
  if (!done && !tag.empty()) {
    out += ";tag=";
    out += tag;
  }
  return out;
}

std::string method_key(std::string_view branch, std::string_view method) {
  std::string key(branch);
  key += ' ';
  key += method;
  return key;
}

// Replaces every `id` header with `values`, in order, at the position of the
// first one (or at the front when there was none).
void replace_all(Message& m, HeaderId id, std::string_view name, const std::vector<std::string>& values) {
  std::size_t at = m.headers().size();
  for (std::size_t i = 0; i < m.headers().size(); ++i) {
    if (m.headers()[i].id == id) {
      at = i;
      break;
    }
  }
  m.remove_headers(id);
  if (at > m.headers().size()) at = m.headers().size();
  if (at == m.headers().size() && id == HeaderId::via) at = 0;
  for (std::size_t k = 0; k < values.size(); ++k) m.insert_header(at + k, name, values[k]);
}

std::vector<std::string> owned(const std::vector<std::string_view>& views) { return {views.begin(), views.end()}; }

}  // namespace

std::vector<std::string> EdgePrivacySettings::default_strip_headers() {
  // Software, organisation and device details, free-form URIs that can name
  // hosts, credentials meant for this site, and private extensions (P-*,
  // X-*): P-Access-Network-Info alone can give away a phone's location.
  // In-Reply-To and Replaces carry Call-IDs of the LAN side.
  return {"User-Agent", "Server",   "Organization", "Warning",  "Call-Info",     "Error-Info",
          "Alert-Info", "Reply-To", "In-Reply-To",  "Replaces", "Authorization", "Proxy-Authorization",
          "X-*",        "P-*"};
}

// One party of this site in a dialog (a forked call has several).
struct Leg {
  std::string local_tag;
  std::string fed_tag;
  std::string token;               // the user part of the Contact the peer sees
  std::string contact;             // the party's real Contact (name-addr)
  std::vector<std::string> route;  // Route values that reach the party through our proxy
  bool route_known = false;
  // For a BYE on revocation: From/To as the local party knows them.
  std::string local_party;
  std::string remote_party;
  bool established = false;
};

struct EdgePrivacy::Dialog : std::enable_shared_from_this<EdgePrivacy::Dialog> {
  std::string peer;
  std::string local_call_id;
  std::string fed_call_id;
  std::vector<Leg> legs;
  std::uint32_t peer_cseq = 0;  // highest CSeq of the peer's requests
  TimePoint expires{};
  bool ended = false;

  Leg* by_local_tag(std::string_view tag) {
    for (auto& l : legs) {
      if (l.local_tag == tag) return &l;
    }
    return nullptr;
  }
  Leg* by_fed_tag(std::string_view tag) {
    for (auto& l : legs) {
      if (l.fed_tag == tag) return &l;
    }
    return nullptr;
  }
  [[nodiscard]] bool established() const {
    return std::any_of(legs.begin(), legs.end(), [](const Leg& l) { return l.established; });
  }
};

EdgePrivacy::EdgePrivacy(EdgePrivacySettings settings, Clock& clock, Random& random)
    : settings_(std::move(settings)), clock_(clock), random_(random) {}

EdgePrivacy::~EdgePrivacy() = default;

std::size_t EdgePrivacy::dialog_count() const { return by_local_.size(); }

std::size_t EdgePrivacy::entries() const { return by_local_.size() + by_fed_.size() + by_token_.size() + vias_.size(); }

std::size_t EdgePrivacy::established_dialogs(std::string_view peer) const {
  const auto of_peer = by_peer_.find(std::string(peer));
  if (of_peer == by_peer_.end()) return 0;
  return static_cast<std::size_t>(std::count_if(of_peer->second.begin(), of_peer->second.end(),
                                                [](const Dialog* d) { return d->established() && !d->ended; }));
}

bool EdgePrivacy::strip(std::string_view name) const {
  return std::any_of(settings_.strip_headers.begin(), settings_.strip_headers.end(), [name](const std::string& s) {
    if (!s.empty() && s.back() == '*') {
      const std::string_view prefix(s.data(), s.size() - 1);
      return name.size() >= prefix.size() && iequals(name.substr(0, prefix.size()), prefix);
    }
    return iequals(name, s);
  });
}

void EdgePrivacy::strip_headers(Message& m) const {
  for (std::size_t i = m.headers().size(); i-- > 0;) {
    if (strip(m.headers()[i].name)) m.remove_header_at(i);
  }
}

EdgePrivacy::Dialog* EdgePrivacy::create(std::string_view peer, std::string local_call_id, std::string fed_call_id) {
  if (by_local_.size() >= settings_.max_dialogs) return nullptr;
  // Not make_shared: the sweep's queue holds weak_ptrs of dialogs that may
  // end long before their entry comes due, and a weak_ptr keeps a
  // make_shared block (the whole Dialog's storage) allocated until then.
  std::shared_ptr<Dialog> d(new Dialog());  // NOLINT(modernize-make-shared): see above
  d->peer = std::string(peer);
  d->local_call_id = std::move(local_call_id);
  d->fed_call_id = std::move(fed_call_id);
  d->expires = clock_.now() + settings_.setup_ttl;
  dialogs_due_.push({d->expires, d});
  by_local_.emplace(d->local_call_id, d);
  by_fed_.emplace(d->fed_call_id, d);
  by_peer_[d->peer].insert(d.get());
  return d.get();
}

void EdgePrivacy::erase(const std::shared_ptr<Dialog>& d) {
  for (const auto& l : d->legs) by_token_.erase(l.token);
  if (auto of_peer = by_peer_.find(d->peer); of_peer != by_peer_.end()) {
    of_peer->second.erase(d.get());
    if (of_peer->second.empty()) by_peer_.erase(of_peer);
  }
  by_fed_.erase(d->fed_call_id);
  by_local_.erase(d->local_call_id);
}

void EdgePrivacy::touch(Dialog& d) {
  if (d.ended) return;
  d.expires = clock_.now() + (d.established() ? settings_.dialog_ttl : settings_.setup_ttl);
}

// Only what is due is looked at: each dialog and each remembered Via has
// an entry in a queue at (or before) its expiry. A dialog whose expiry moved
// later since is queued again at it; a Via remembered again has a newer
// entry of its own, and an entry of something already gone is dropped.
void EdgePrivacy::sweep() {
  const TimePoint now = clock_.now();
  while (!dialogs_due_.empty() && dialogs_due_.top().at <= now) {
    const auto d = dialogs_due_.top().dialog.lock();
    dialogs_due_.pop();
    if (!d) continue;
    if (d->expires <= now) {
      erase(d);
    } else {
      dialogs_due_.push({d->expires, d});
    }
  }
  while (!vias_due_.empty() && vias_due_.top().at <= now) {
    const auto memo = vias_.find(vias_due_.top().key);
    if (memo != vias_.end() && memo->second.expires <= now) vias_.erase(memo);
    vias_due_.pop();
  }
}

void EdgePrivacy::end_soon(Dialog& d) {
  const TimePoint at = clock_.now() + settings_.linger;
  if (at >= d.expires) return;
  d.expires = at;
  dialogs_due_.push({at, d.weak_from_this()});
}

void EdgePrivacy::remember_vias(std::string key, std::vector<std::string> vias, Duration ttl) {
  const TimePoint at = clock_.now() + ttl;
  vias_due_.push({at, key});
  vias_[std::move(key)] = ViaMemo{std::move(vias), at};
}

namespace {

// The leg of `d` for local tag `tag`, created with a fresh tag for the link.
template <typename Dialog>
Leg& leg_for(Dialog& d, std::string_view tag, Random& random) {
  if (Leg* l = d.by_local_tag(tag)) return *l;
  Leg& l = d.legs.emplace_back();
  l.local_tag = std::string(tag);
  l.fed_tag = random.token();
  l.token = random.token() + random.token();
  return l;
}

}  // namespace

bool EdgePrivacy::outbound(Message& m, std::string_view peer) {
  const auto call_id = call_id_header(m);
  const auto from = from_header(m);
  const auto to = to_header(m);
  const auto cseq = cseq_header(m);
  if (!call_id || !from || !to || !cseq) return false;
  const std::string from_value(m.value(HeaderId::from).value_or(""));
  const std::string to_value(m.value(HeaderId::to).value_or(""));

  auto it = by_local_.find(std::string(*call_id));
  Dialog* d = it != by_local_.end() ? it->second.get() : nullptr;
  if (d != nullptr && d->peer != peer) return false;

  if (m.is_request()) {
    const auto vias = via_headers(m);
    if (!vias || !vias->front().branch() || !from->tag()) return false;
    if (d == nullptr) {
      if (to->tag() && m.method() != "ACK") return false;  // in a dialog we never mapped
      d = create(peer, std::string(*call_id), random_.token() + random_.token());
      if (d == nullptr) return false;
      if (m.method() == "ACK") d->ended = true;
    }
    touch(*d);
    Leg& leg = leg_for(*d, *from->tag(), random_);
    if (m.method() != "ACK") {
      remember_vias(method_key(*vias->front().branch(), cseq->method), owned(m.values(HeaderId::via)),
                    cseq->method == "INVITE" ? settings_.setup_ttl : settings_.linger);
    }
    const std::string via = "SIP/2.0/TLS " + settings_.local_domain + ";branch=" + std::string(*vias->front().branch());
    m.remove_headers(HeaderId::via);
    m.add_header_front("Via", via);
    if (!to->tag() && is_dialog_creating(m.method()) && !leg.route_known) {
      // Our proxy added itself on top: in order, the route back in.
      leg.route = owned(m.values(HeaderId::record_route));
      leg.route_known = true;
    }
    m.set_header("From", with_tag(*from, leg.fed_tag));
  } else {
    if (d == nullptr) {
      // A response whose mapping is gone (or never was): nothing of the
      // local party may leave with it. A 2xx (a phone answering after the
      // call attempt ended) would open a dialog nothing maps: dropped.
      // Another still ends the peer's transaction, under a fresh To tag
      // (the one it has may be a phone's).
      if (m.status_code() >= 200 && m.status_code() < 300) return false;
      if (to->tag()) m.set_header("To", with_tag(*to, random_.token()));
      m.remove_headers(HeaderId::contact);
      m.remove_headers(HeaderId::record_route);
      strip_headers(m);
      return true;
    }
    touch(*d);
    if (to->tag()) {
      Leg& leg = leg_for(*d, *to->tag(), random_);
      if (!leg.route_known && m.count(HeaderId::record_route) > 0) {
        // The UAS side's list: the proxy nearest the phone first; the route
        // in from the link is the reverse.
        auto route = owned(m.values(HeaderId::record_route));
        std::reverse(route.begin(), route.end());
        leg.route = std::move(route);
        leg.route_known = true;
      }
      const int code = m.status_code();
      if (code >= 200 && code < 300 && cseq->method == "INVITE" && !leg.established) {
        leg.established = true;
        leg.local_party = to_value;
        leg.remote_party = from_value;
      }
      m.set_header("To", with_tag(*to, leg.fed_tag));
    }
    if (m.status_code() >= 200) {
      if (cseq->method == "BYE" && m.status_code() < 300) d->ended = true;
      if (!is_dialog_creating(cseq->method) && !d->established() && cseq->method != "BYE") d->ended = true;
      if (cseq->method == "INVITE" && m.status_code() >= 300 && !d->established()) d->ended = true;
    }
  }

  // The local party's Contact becomes the site's, with the leg's token.
  const std::string_view own_tag = m.is_request() ? *from->tag() : to->tag().value_or("");
  if (m.count(HeaderId::contact) > 0) {
    Leg* leg = own_tag.empty() ? nullptr : d->by_local_tag(own_tag);
    const auto contacts = contact_headers(m);
    m.remove_headers(HeaderId::contact);
    if (leg != nullptr && contacts && !contacts->star && !contacts->contacts.empty()) {
      leg->contact = std::string(contacts->contacts.front().uri.text);
      if (!leg->token.empty()) by_token_[leg->token] = by_local_.at(d->local_call_id);
      m.add_header("Contact", "<sip:" + leg->token + "@" + settings_.local_domain + ";transport=tls>");
    }
  }
  m.remove_headers(HeaderId::record_route);
  m.remove_headers(HeaderId::route);
  m.set_header("Call-ID", d->fed_call_id);
  if (d->ended) end_soon(*d);
  strip_headers(m);
  return true;
}

std::optional<EdgeRefusal> EdgePrivacy::inbound(Message& m, std::string_view peer) {
  const auto call_id = call_id_header(m);
  const auto from = from_header(m);
  const auto to = to_header(m);
  const auto cseq = cseq_header(m);
  if (!call_id || !from || !to || !cseq) {
    return m.is_request() ? std::optional(EdgeRefusal{400, "Bad Request"}) : std::optional(EdgeRefusal{});
  }
  // The peer's own routing is its business: only our route set counts here.
  m.remove_headers(HeaderId::record_route);

  if (m.is_response()) {
    const auto vias = via_headers(m);
    if (!vias || !vias->front().branch()) return EdgeRefusal{};
    const auto memo = vias_.find(method_key(*vias->front().branch(), cseq->method));
    const auto it = by_fed_.find(std::string(*call_id));
    if (memo == vias_.end() || it == by_fed_.end() || it->second->peer != peer) return EdgeRefusal{};
    Dialog& d = *it->second;
    replace_all(m, HeaderId::via, "Via", memo->second.vias);
    // Answered: from now on only retransmissions (and a forked 2xx) come,
    // within 64*T1; an INVITE's Vias need not be kept for Timer C's minutes.
    if (const TimePoint at = clock_.now() + settings_.linger; m.status_code() >= 200 && at < memo->second.expires) {
      memo->second.expires = at;
      vias_due_.push({at, memo->first});
    }
    m.set_header("Call-ID", d.local_call_id);
    Leg* leg = from->tag() ? d.by_fed_tag(*from->tag()) : nullptr;
    if (leg != nullptr) {
      m.set_header("From", with_tag(*from, leg->local_tag));
      if (!leg->route.empty() && cseq->method == "INVITE") {
        for (const auto& r : leg->route) m.add_header("Record-Route", r);
      }
      const int code = m.status_code();
      if (code >= 200 && code < 300 && cseq->method == "INVITE") {
        leg->established = true;
        leg->local_party = std::string(m.value(HeaderId::from).value_or(""));
        leg->remote_party = std::string(m.value(HeaderId::to).value_or(""));
      }
    }
    touch(d);
    if (m.status_code() >= 200) {
      if (cseq->method == "BYE" && m.status_code() < 300) d.ended = true;
      if (!is_dialog_creating(cseq->method) && !d.established() && cseq->method != "BYE") d.ended = true;
      if (cseq->method == "INVITE" && m.status_code() >= 300 && !d.established()) d.ended = true;
      if (d.ended) end_soon(d);
    }
    return std::nullopt;
  }

  // A request. Its top Via becomes what the peer's own edge privacy writes
  // there, its domain over TLS with its branch: whatever else a peer puts
  // there (an address, a port, UDP) must not steer where the core sends a
  // response, since a stray 2xx is forwarded by its Via (RFC 3261 16.7);
  // only the link leads to a peer.
  if (const auto vias = via_headers(m); vias && !vias->empty()) {
    std::string top = "SIP/2.0/TLS " + std::string(peer);
    if (const auto branch = vias->front().branch()) top += ";branch=" + std::string(*branch);
    auto values = owned(m.values(HeaderId::via));
    if (!values.empty()) {
      values.front() = std::move(top);
      replace_all(m, HeaderId::via, "Via", values);
    }
  }
  // Addressed to one of our Contacts: that leg's dialog.
  m.remove_headers(HeaderId::route);
  std::shared_ptr<Dialog> d;
  Leg* leg = nullptr;
  if (const auto uri = parse_uri(m.request_uri());
      uri && uri->is_sip() && !uri->sip_uri.user.empty() && iequals(uri->sip_uri.host, settings_.local_domain)) {
    if (const auto t = by_token_.find(std::string(uri->sip_uri.user)); t != by_token_.end()) {
      d = t->second;
      for (auto& l : d->legs) {
        if (l.token == uri->sip_uri.user) leg = &l;
      }
    }
  }
  if (d) {
    if (d->peer != peer || d->fed_call_id != *call_id)
      return EdgeRefusal{403, "Forbidden (not a dialog with this site)"};
    if (leg != nullptr) {
      m.set_request_uri(leg->contact);
      // Last first: each goes in front of the ones added before it.
      std::for_each(leg->route.rbegin(), leg->route.rend(),
                    [&m](const std::string& r) { m.add_header_front("Route", r); });
    }
  } else {
    const auto it = by_fed_.find(std::string(*call_id));
    if (it != by_fed_.end()) {
      if (it->second->peer != peer) return EdgeRefusal{403, "Forbidden (not a dialog with this site)"};
      d = it->second;
    } else if (to->tag() && m.method() != "ACK") {
      return EdgeRefusal{481, "Call/Transaction Does Not Exist"};
    } else if (m.method() == "ACK") {
      return EdgeRefusal{};  // nothing to acknowledge: absorbed
    } else {
      // A new dialog or transaction from the peer. Its Call-ID is already
      // the peer's hidden one; it is kept unless it collides with ours.
      std::string local(*call_id);
      if (by_local_.count(local) != 0) local = random_.token() + random_.token();
      if (create(peer, local, std::string(*call_id)) == nullptr) {
        return EdgeRefusal{503, "Service Unavailable (too many calls with peer sites)"};
      }
      d = by_fed_.at(std::string(*call_id));
    }
  }
  if (to->tag()) {
    if (Leg* l = d->by_fed_tag(*to->tag())) m.set_header("To", with_tag(*to, l->local_tag));
  }
  d->peer_cseq = std::max(d->peer_cseq, cseq->number);
  m.set_header("Call-ID", d->local_call_id);
  touch(*d);
  return std::nullopt;
}

std::vector<Message> EdgePrivacy::end_dialogs(std::string_view peer) {
  std::vector<Message> byes;
  std::vector<std::shared_ptr<Dialog>> gone;
  const auto of_peer = by_peer_.find(std::string(peer));
  if (of_peer == by_peer_.end()) return byes;
  for (const Dialog* p : of_peer->second) {
    const auto found = by_local_.find(p->local_call_id);
    if (found == by_local_.end()) continue;
    const auto& d = found->second;
    gone.push_back(d);
    if (d->ended) continue;
    for (const auto& leg : d->legs) {
      if (!leg.established || leg.contact.empty()) continue;
      Message bye = Message::make_request("BYE", leg.contact);
      bye.add_header("Via", "SIP/2.0/TLS " + settings_.local_domain + ";branch=z9hG4bK" + random_.token());
      for (const auto& r : leg.route) bye.add_header("Route", r);
      bye.add_header("Max-Forwards", "70");
      bye.add_header("From", leg.remote_party);
      bye.add_header("To", leg.local_party);
      bye.add_header("Call-ID", d->local_call_id);
      bye.add_header("CSeq", std::to_string(d->peer_cseq + 1) + " BYE");
      bye.add_header("Reason", "SIP;cause=480;text=\"the peer site is no longer trusted\"");
      bye.set_body("");
      byes.push_back(std::move(bye));
    }
  }
  for (const auto& d : gone) erase(d);
  return byes;
}

}  // namespace sipsite::sip
