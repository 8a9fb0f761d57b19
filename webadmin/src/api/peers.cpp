// Peer sites: the list with live link state, import, trust, revoke, remove,
// and the pending requests of unknown sites.

#include "api/rest.hpp"

#include <sipsite/webadmin/peer_json.hpp>
#include <sipsite/admin/site_operations.hpp>
#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/pairing.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/pending_repository.hpp>

namespace sipsite::webadmin {

using namespace rest;

Response Api::list_peers(Call& c) {
  if (auto bad = c.read_page(settings_.max_page)) return *bad;
  auto peers = store::PeerRepository(db_).list();
  if (!peers) return store_error(peers.error());
  // One bounded wait at most: when the daemon's thread did not answer the
  // first question, it is not asked the second.
  const auto links = live_.peer_links();
  if (!links) return live_state_unavailable();
  const auto federation = live_.federation();
  if (!federation) return live_state_unavailable();
  return json_response(Status::ok, paginate(*peers, c.page, [&](const store::PeerRecord& p) {
                         json row = peer_json(p, own_fingerprint_);
                         row["links"] = json::array();
                         row["calls"] = 0;
                         for (const auto& f : federation->peers) {
                           if (f.fingerprint != p.fingerprint) continue;
                           for (const auto& l : f.links) {
                             row["links"].push_back({{"direction", l.direction},
                                                     {"remote", l.remote},
                                                     {"since", l.since ? iso8601(l.since) : ""},
                                                     {"canonical", l.canonical}});
                           }
                           row["calls"] = f.calls;
                         }
                         for (const auto& l : *links) {
                           if (l.fingerprint != p.fingerprint) continue;
                           row["link"] = {{"state", l.state},
                                          {"since", l.since ? iso8601(l.since) : ""},
                                          {"last_seen", l.last_seen ? iso8601(l.last_seen) : ""},
                                          {"rtt_ms", l.rtt_ms},
                                          {"detail", l.detail}};
                         }
                         return row;
                       }));
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
  auto requests = store::PendingRepository(db_).list(false);
  if (!requests) return store_error(requests.error());
  return json_response(Status::ok, paginate(*requests, c.page, [&](const store::PendingRequest& r) {
                         return pending_json(r, own_fingerprint_);
                       }));
}

Response Api::ignore_pending(Call& c) {
  json body;
  if (auto bad = parse_body(c.req, {}, body, true)) return *bad;
  if (auto r = operations(c).ignore_pending(c.params.at("fingerprint")); !r) return operation_error(r.error());
  return Response{Status::no_content, 11};
}

}  // namespace sipsite::webadmin
