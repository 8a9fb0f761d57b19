// Peer sites: the list with live link state, import, trust, revoke, remove,
// and the pending requests of unknown sites.

#include "api/rest.hpp"

#include <sipsite/webadmin/peer_json.hpp>
#include <sipsite/admin/site_operations.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/pairing.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/pending_repository.hpp>

#include <cctype>
#include <unordered_map>

namespace sipsite::webadmin {

using namespace rest;

namespace {

// ?q= matches a domain (substring, any case) or a fingerprint prefix (with
// or without colons, any case); ?state= one state. Both optional.
struct PeerFilter {
  std::string q;      // lowercase
  std::string q_hex;  // q without colons, uppercase: a fingerprint prefix
  std::optional<store::PeerState> state;

  bool matches(const std::string& domain, const std::string& fingerprint) const {
    if (q.empty()) return true;
    if (pki::lowercase_domain(domain).find(q) != std::string::npos) return true;
    if (q_hex.empty()) return false;
    std::string hex;
    hex.reserve(64);
    for (char ch : fingerprint) {
      if (ch != ':') hex += ch;
      if (hex.size() >= q_hex.size()) break;
    }
    return hex == q_hex;
  }
};

std::optional<Response> read_peer_filter(const Target& target, PeerFilter& out, bool with_state) {
  if (auto it = target.query.find("q"); it != target.query.end()) {
    if (it->second.size() > 128) return error_response(Status::bad_request, "invalid_query", "q is too long");
    out.q = pki::lowercase_domain(it->second);
    bool hex = !out.q.empty();
    for (char ch : out.q) {
      if (ch == ':') continue;
      if (!std::isxdigit(static_cast<unsigned char>(ch))) hex = false;
      out.q_hex += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    if (!hex) out.q_hex.clear();
  }
  if (!with_state) return std::nullopt;
  if (auto it = target.query.find("state"); it != target.query.end()) {
    auto state = store::peer_state_from_string(it->second);
    if (!state) {
      return error_response(Status::bad_request, "invalid_query", "state must be trusted, untrusted or revoked");
    }
    out.state = *state;
  }
  return std::nullopt;
}

}  // namespace

Response Api::list_peers(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  PeerFilter filter;
  if (auto bad = read_peer_filter(c.target, filter, true)) return *bad;
  auto peers = store::PeerRepository(db_).list();
  if (!peers) return store_error(peers.error());
  // Counts by state over the whole table; the page over what matches.
  json counts = {{"all", peers->size()}, {"trusted", 0}, {"untrusted", 0}, {"revoked", 0}};
  std::vector<const store::PeerRecord*> matching;
  for (const auto& p : *peers) {
    counts[std::string(store::to_string(p.state))] =
        counts[std::string(store::to_string(p.state))].get<std::size_t>() + 1;
    if ((!filter.state || p.state == *filter.state) && filter.matches(p.domain, p.fingerprint)) matching.push_back(&p);
  }
  // One bounded wait at most: when the daemon's thread did not answer the
  // first question, it is not asked the second.
  const auto links = live_.peer_links();
  if (!links) return live_state_unavailable();
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  // Indexed once, so that a page costs its rows, not rows x links.
  std::unordered_map<std::string, const FederationPeer*> federation_of;
  for (const auto& f : federation->peers) federation_of.emplace(f.fingerprint, &f);
  std::unordered_map<std::string, const PeerLinkStatus*> link_of;
  for (const auto& l : *links) link_of[l.fingerprint] = &l;
  json out = paginate(matching, c.page, [&](const store::PeerRecord* row_peer) {
    const store::PeerRecord& p = *row_peer;
    json row = peer_json(p, own_fingerprint_);
    row["links"] = json::array();
    row["calls"] = 0;
    if (const auto f = federation_of.find(p.fingerprint); f != federation_of.end()) {
      for (const auto& l : f->second->links) {
        row["links"].push_back({{"direction", l.direction},
                                {"remote", l.remote},
                                {"since", l.since ? iso8601(l.since) : ""},
                                {"canonical", l.canonical}});
      }
      row["calls"] = f->second->calls;
    }
    if (const auto it = link_of.find(p.fingerprint); it != link_of.end()) {
      const auto& l = *it->second;
      row["link"] = {{"state", l.state},
                     {"since", l.since ? iso8601(l.since) : ""},
                     {"last_seen", l.last_seen ? iso8601(l.last_seen) : ""},
                     {"rtt_ms", l.rtt_ms},
                     {"detail", l.detail}};
    }
    return row;
  });
  out["counts"] = std::move(counts);
  return json_response(Status::ok, out);
}

// Many peers at once (admin::SiteOperations::import_peers / revoke_peers):
// {"action": "import", "pem": BUNDLE, "trust": bool} or
// {"action": "revoke", "fingerprints": [...]}; all or none.
Response Api::bulk_peers(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"action", "pem", "trust", "fingerprints"}, body)) return *bad;
  std::optional<std::string> action, pem;
  if (auto bad = string_field(body, "action", action)) return *bad;
  if (auto bad = string_field(body, "pem", pem)) return *bad;
  if (action == "import") {
    if (!pem || pem->empty())
      return error_response(Status::bad_request, "missing_field", "'pem' holds the certificates");
    const auto trust = body.find("trust");
    if (trust != body.end() && !trust->is_boolean()) {
      return error_response(Status::bad_request, "invalid_field", "'trust' must be true or false");
    }
    auto certs = pki::parse_peer_certificates(*pem);
    if (!certs) return error_response(Status::bad_request, "bad_certificate", certs.error().message);
    auto peers = operations(c).import_peers(*certs, trust != body.end() && trust->get<bool>());
    if (!peers) return operation_error(peers.error());
    json items = json::array();
    for (const auto& p : *peers)
      items.push_back({{"domain", p.domain}, {"fingerprint", p.fingerprint}, {"state", store::to_string(p.state)}});
    return json_response(Status::created, {{"imported", peers->size()}, {"items", std::move(items)}});
  }
  if (action == "revoke") {
    const auto list = body.find("fingerprints");
    if (list == body.end() || !list->is_array() || list->empty()) {
      return error_response(Status::bad_request, "missing_field", "'fingerprints' must be a non-empty array");
    }
    if (list->size() > pki::kMaxBundleCertificates) {
      return error_response(Status::bad_request, "invalid_field", "too many fingerprints in one request");
    }
    std::vector<admin::PeerRef> refs;
    for (const auto& fp : *list) {
      if (!fp.is_string())
        return error_response(Status::bad_request, "invalid_field", "each fingerprint must be a string");
      refs.push_back({fp.get<std::string>(), ""});
    }
    auto changes = operations(c).revoke_peers(refs);
    if (!changes) return operation_error(changes.error());
    std::size_t changed = 0;
    for (const auto& ch : *changes) changed += ch.changed ? 1 : 0;
    return json_response(Status::ok, {{"revoked", changed}, {"already_revoked", changes->size() - changed}});
  }
  return error_response(Status::bad_request, "invalid_field", R"('action' must be "import" or "revoke")");
}

Response Api::get_peer(Call& c) {
  auto fp = pki::Fingerprint::parse(c.params.at("fingerprint"));
  if (!fp) return error_response(Status::bad_request, "bad_fingerprint", fp.error().message);
  auto peer = store::PeerRepository(db_).find_by_fingerprint(fp->to_string());
  if (!peer) return store_error(peer.error());
  if (!*peer) return error_response(Status::not_found, "not_found", "no peer with fingerprint " + fp->to_string());
  return json_response(Status::ok, peer_json(**peer, own_fingerprint_));
}

Response Api::import_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"pem", "invite", "address"}, body)) return *bad;
  std::optional<std::string> pem, invite_text, address_text;
  if (auto bad = string_field(body, "pem", pem)) return *bad;
  if (auto bad = string_field(body, "invite", invite_text)) return *bad;
  if (auto bad = string_field(body, "address", address_text)) return *bad;
  const bool has_pem = pem && !pem->empty();
  const bool has_invite = invite_text && !invite_text->empty();
  if (!has_pem && !has_invite) {
    return error_response(Status::bad_request, "missing_field",
                          "paste the other site's invite or its certificate (PEM)");
  }
  std::optional<pki::Invite> invite;
  if (has_invite) {
    auto parsed = pki::Invite::parse(*invite_text);
    if (!parsed) return error_response(Status::bad_request, "bad_invite", parsed.error().message);
    invite = std::move(*parsed);
  }
  std::optional<pki::Certificate> cert;
  if (has_pem) {
    if (pem->size() > 64 * 1024) return error_response(Status::bad_request, "bad_certificate", "not a certificate");
    auto parsed = pki::parse_peer_certificate(*pem);
    if (!parsed) return error_response(Status::bad_request, "bad_certificate", parsed.error().message);
    cert = std::move(*parsed);
  } else {
    if (invite->domain == settings_.domain) {
      return error_response(Status::bad_request, "own_domain", "this is this site's own invite");
    }
    if (!settings_.probe) {
      return error_response(Status::bad_request, "missing_field", "paste the other site's certificate (PEM) too");
    }
    // The certificate the site presents at the invite's address; the
    // import checks it against the invite (fingerprint, domain, dates).
    auto probed = settings_.probe(invite->address);
    if (!probed.certificate) return error_response(Status::bad_gateway, "site_unreachable", probed.error);
    cert = std::move(probed.certificate);
  }
  admin::PeerImport import{std::move(*cert), std::move(invite), address_text.value_or(""), false};
  auto peer = operations(c).import_peer(import);
  if (!peer) return operation_error(peer.error());
  return json_response(Status::created, peer_json(*peer, own_fingerprint_));
}

Response Api::trust_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {"confirm_fingerprint", "address"}, body)) return *bad;
  const std::string& fingerprint = c.params.at("fingerprint");
  auto fp = pki::Fingerprint::parse(fingerprint);
  if (!fp) return error_response(Status::bad_request, "bad_fingerprint", fp.error().message);
  // The explicit verification step: the admin restates the fingerprint
  // they confirmed with the other site.
  std::string confirm;
  if (auto bad = required_string(body, "confirm_fingerprint", confirm)) return *bad;
  auto confirmed = pki::Fingerprint::parse(confirm);
  if (!confirmed || *confirmed != *fp) {
    return error_response(Status::bad_request, "fingerprint_not_confirmed",
                          "confirm_fingerprint must repeat the peer's fingerprint once verified out of band");
  }
  std::optional<std::string> address;
  if (auto bad = string_field(body, "address", address)) return *bad;
  auto change = operations(c).trust_peer({fingerprint, ""}, address.value_or(""));
  if (!change) return operation_error(change.error());
  return json_response(Status::ok, peer_json(change->peer, own_fingerprint_));
}

Response Api::revoke_peer(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {}, body, true)) return *bad;
  auto change = operations(c).revoke_peer({c.params.at("fingerprint"), ""});
  if (!change) return operation_error(change.error());
  return json_response(Status::ok, peer_json(change->peer, own_fingerprint_));
}

Response Api::remove_peer(Call& c) {
  auto removed = operations(c).remove_peer(c.params.at("fingerprint"));
  if (!removed) return operation_error(removed.error());
  return Response{Status::no_content, 11};
}

Response Api::list_pending(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  PeerFilter filter;
  if (auto bad = read_peer_filter(c.target, filter, false)) return *bad;
  auto requests = store::PendingRepository(db_).list(false);
  if (!requests) return store_error(requests.error());
  std::vector<const store::PendingRequest*> matching;
  for (const auto& r : *requests) {
    if (filter.matches(r.claimed_domain, r.fingerprint)) matching.push_back(&r);
  }
  json out =
      paginate(matching, c.page, [&](const store::PendingRequest* r) { return pending_json(*r, own_fingerprint_); });
  out["counts"] = {{"all", requests->size()}};
  // What the list cannot show under a scan: the daemon writes at most 30
  // requests a minute and keeps 100. The list does not depend on it: when
  // the daemon did not answer in time, it is left out.
  const auto unknown = live_.unknown_certificates();
  if (unknown) {
    out["since_start"] = {
        {"since", unknown->since},     {"handshakes", unknown->handshakes}, {"new_requests", unknown->new_requests},
        {"repeats", unknown->repeats}, {"ignored", unknown->ignored},       {"not_recorded", unknown->not_recorded},
        {"dropped", unknown->dropped}};
  }
  return json_response(Status::ok, out);
}

Response Api::ignore_pending(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {}, body, true)) return *bad;
  if (auto r = operations(c).ignore_pending(c.params.at("fingerprint")); !r) return operation_error(r.error());
  return Response{Status::no_content, 11};
}

}  // namespace sipsite::webadmin
