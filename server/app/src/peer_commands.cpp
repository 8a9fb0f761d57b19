// peer import | trust | revoke | list

#include "commands.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/host_port.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/pairing.hpp>
#include <sipsite/store/audit_repository.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/webadmin/certificate_probe.hpp>
#include <sipsite/webadmin/peer_json.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <iomanip>
#include <iostream>

namespace sipsite::app {

namespace {

constexpr std::size_t kMaxPemBytes = 64 * 1024;

std::optional<std::string> read_small_file(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::string text(kMaxPemBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxPemBytes) {
    error = path + " is larger than 64 KiB: not a certificate";
    return std::nullopt;
  }
  return text;
}

std::optional<pki::Fingerprint> own_fingerprint(const OpenSite& site) {
  auto cert = pki::Certificate::from_pem(site.site.certificate_pem);
  if (!cert) return std::nullopt;
  return cert->fingerprint();
}

}  // namespace

int cmd_peer_add_invite(const GlobalOptions& g, const std::string& invite_text) {
  auto invite = pki::Invite::parse(invite_text);
  if (!invite) return fail(kExitUsage, "--invite: " + invite.error().message);
  auto site = open_site(g);
  if (!site) return fail(site.error());
  if (invite->domain == site->site.domain) return fail(kExitUsage, "--invite: this is this site's own invite");
  auto own_cert = pki::Certificate::from_pem(site->site.certificate_pem);
  auto own_key = pki::PrivateKey::from_pem(site->site.private_key_pem);
  if (!own_cert || !own_key) return fail(kExitRuntime, "the stored site identity is unreadable");
  const auto probe = webadmin::make_certificate_probe(*own_cert, *own_key);
  if (!probe) return fail(kExitRuntime, "cannot set up TLS with the site certificate");
  auto probed = probe(invite->address);
  if (!probed.certificate) return fail(kExitRuntime, probed.error);
  auto& cert = probed.certificate;
  const auto presented = cert->fingerprint();
  if (presented != invite->fingerprint) {
    return fail(kExitRuntime, "fingerprint mismatch: the invite says " + invite->fingerprint.to_string() + " but " +
                                  invite->address.to_string() + " presented " + presented.to_string() +
                                  "; nothing was stored");
  }
  if (auto valid = cert->check_validity(); !valid) return fail(kExitRuntime, valid.error().message);
  if (cert->domain() != invite->domain) {
    return fail(kExitRuntime, "the certificate names " + cert->domain() + ", the invite " + invite->domain);
  }
  store::PeerRecord peer{invite->domain, presented.to_string(), cert->to_pem(), invite->address.to_string(),
                         store::PeerState::trusted, 0, 0};
  auto added = site->db.transaction([&]() -> store::Result<void> {
    if (auto r = store::PeerRepository(site->db).add(peer); !r) return r;
    return store::AuditRepository(site->db).append(cli_actor(), "local", "peer.add",
                                                   peer.domain + " " + peer.fingerprint + " (invite)");
  });
  if (!added) return fail(added.error());
  std::cout << peer.fingerprint << "\n";
  if (const auto own = own_fingerprint(*site)) {
    std::cerr << "sipsite: pairing code: " << pki::pairing_code(*own, presented) << "\n";
  }
  std::cerr << "sipsite: " << peer.domain << " is trusted here; its admin must now trust this site "
            << "(it appears there as a pending request)" << std::endl;
  return kExitOk;
}

int cmd_peer_import(const GlobalOptions& g, const PeerImportOptions& o) {
  std::string error;
  const auto pem = read_small_file(o.file, error);
  if (!pem) return fail(kExitUsage, error);
  auto cert = pki::parse_peer_certificate(*pem);
  if (!cert) return fail(kExitUsage, o.file + ": " + cert.error().message);
  std::string address;
  if (!o.address.empty()) {
    auto hp = pki::parse_host_port(o.address);
    if (!hp) return fail(kExitUsage, "--address: " + hp.error().message);
    address = hp->to_string();
  }

  auto site = open_site(g);
  if (!site) return fail(site.error());
  const pki::Fingerprint fp = cert->fingerprint();
  const auto own = own_fingerprint(*site);
  if (own && *own == fp) return fail(kExitUsage, o.file + " is this site's own certificate");
  if (cert->domain() == site->site.domain) {
    return fail(kExitUsage, o.file + " names this site's own domain " + site->site.domain);
  }

  store::PeerRecord peer{cert->domain(), fp.to_string(), cert->to_pem(), address, store::PeerState::untrusted, 0, 0};
  auto added = site->db.transaction([&]() -> store::Result<void> {
    if (auto r = store::PeerRepository(site->db).add(peer); !r) return r;
    return store::AuditRepository(site->db).append(cli_actor(), "local", "peer.import",
                                                   peer.domain + " " + peer.fingerprint);
  });
  if (!added) return fail(added.error());

  std::cout << peer.fingerprint << "\n";
  std::cerr << "sipsite: imported peer " << peer.domain << " (untrusted)\n";
  if (own) std::cerr << "sipsite: pairing code: " << pki::pairing_code(*own, fp) << "\n";
  std::cerr << "sipsite: confirm the fingerprint with " << peer.domain
            << "'s admin, then: sipsite peer trust --fingerprint " << peer.fingerprint << std::endl;
  return kExitOk;
}

namespace {

// A pending request the admin decided to trust becomes a trusted peer, in
// one transaction with its removal from the pending list.
int trust_pending(OpenSite& site, const store::PendingRequest& request, const std::string& address) {
  auto cert = pki::parse_peer_certificate(request.certificate_pem);
  if (!cert) return fail(kExitRuntime, "cannot trust the pending request: " + cert.error().message);
  store::PeerRecord peer{cert->domain(), request.fingerprint, cert->to_pem(), address, store::PeerState::trusted, 0, 0};
  auto r = site.db.transaction([&]() -> store::Result<void> {
    if (auto a = store::PeerRepository(site.db).add(peer); !a) return a;
    if (auto d = store::PendingRepository(site.db).remove(request.fingerprint); !d) return d;
    return store::AuditRepository(site.db).append(cli_actor(), "local", "peer.trust",
                                                  peer.domain + " " + peer.fingerprint + " (pending request)");
  });
  if (!r) return fail(r.error());
  std::cerr << "sipsite: " << peer.domain << " is now trusted" << std::endl;
  return kExitOk;
}

}  // namespace

int cmd_peer_set_state(const GlobalOptions& g, const PeerSelector& who, store::PeerState state,
                       const std::string& address) {
  if (who.fingerprint.empty() == who.domain.empty()) {
    return fail(kExitUsage, "give exactly one of --fingerprint or --domain");
  }
  std::string fingerprint;
  if (!who.fingerprint.empty()) {
    auto fp = pki::Fingerprint::parse(who.fingerprint);
    if (!fp) return fail(kExitUsage, "--fingerprint: " + fp.error().message);
    fingerprint = fp->to_string();
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  store::PeerRepository peers(site->db);
  auto found = fingerprint.empty() ? peers.find_by_domain(pki::lowercase_domain(who.domain))
                                   : peers.find_by_fingerprint(fingerprint);
  if (!found) return fail(found.error());
  if (!*found && state == store::PeerState::revoked && !fingerprint.empty()) {
    // An old pin kept after the peer's key rotation: revoking it revokes
    // the peer (its new key was proven by this one).
    auto previous = peers.list_previous_pins();
    if (!previous) return fail(previous.error());
    for (const auto& pin : *previous) {
      if (pin.fingerprint != fingerprint) continue;
      std::cerr << "sipsite: " << fingerprint << " is " << pin.domain << "'s key before its rotation to "
                << pin.superseded_by << "; revoking " << pin.domain << std::endl;
      found = peers.find_by_domain(pin.domain);
      if (!found) return fail(found.error());
      break;
    }
  }
  std::string peer_address;
  if (!address.empty()) {
    auto hp = pki::parse_host_port(address);
    if (!hp) return fail(kExitUsage, "--address: " + hp.error().message);
    peer_address = hp->to_string();
  }
  if (!*found && state == store::PeerState::trusted && !fingerprint.empty()) {
    auto request = store::PendingRepository(site->db).find(fingerprint);
    if (!request) return fail(request.error());
    if (*request) return trust_pending(*site, **request, peer_address);
  }
  if (!*found) {
    return fail(kExitRuntime, fingerprint.empty() ? "no peer with domain " + who.domain
                                                  : "no peer with fingerprint " + fingerprint +
                                                        " (import its certificate first: sipsite peer import)");
  }
  const store::PeerRecord& peer = **found;
  if (peer.state == state) {
    std::cerr << "sipsite: " << peer.domain << " is already " << store::to_string(state) << std::endl;
    return kExitOk;
  }
  if (state == store::PeerState::trusted) {
    auto cert = pki::Certificate::from_pem(peer.certificate_pem);
    if (!cert) return fail(kExitRuntime, "stored certificate of " + peer.domain + ": " + cert.error().message);
    if (auto valid = cert->check_validity(); !valid) {
      return fail(kExitRuntime, "cannot trust " + peer.domain + ": " + valid.error().message);
    }
  }
  const std::string action = std::string("peer.") + (state == store::PeerState::trusted ? "trust" : "revoke");
  auto r = site->db.transaction([&]() -> store::Result<void> {
    if (auto s = peers.set_state(peer.fingerprint, state); !s) return s;
    return store::AuditRepository(site->db).append(cli_actor(), "local", action, peer.domain + " " + peer.fingerprint);
  });
  if (!r) return fail(r.error());
  std::cerr << "sipsite: " << peer.domain << " is now " << store::to_string(state) << std::endl;
  return kExitOk;
}

int cmd_peer_pending(const GlobalOptions& g, bool json) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto requests = store::PendingRepository(site->db).list(false);
  if (!requests) return fail(requests.error());
  const auto own = own_fingerprint(*site);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *requests) out.push_back(webadmin::pending_json(r, own ? own->to_string() : ""));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (requests->empty()) {
    std::cerr << "sipsite: no pending requests" << std::endl;
    return kExitOk;
  }
  std::cout << std::left << std::setw(32) << "CLAIMED DOMAIN" << std::setw(24) << "FROM" << std::setw(9) << "ATTEMPTS"
            << "FINGERPRINT\n";
  for (const auto& r : *requests) {
    std::cout << std::left << std::setw(32) << r.claimed_domain << std::setw(24) << r.source_address << std::setw(9)
              << r.attempts << r.fingerprint << "\n";
  }
  return kExitOk;
}

int cmd_peer_ignore(const GlobalOptions& g, const std::string& fingerprint_text) {
  auto fp = pki::Fingerprint::parse(fingerprint_text);
  if (!fp) return fail(kExitUsage, "--fingerprint: " + fp.error().message);
  auto site = open_site(g);
  if (!site) return fail(site.error());
  const std::string fingerprint = fp->to_string();
  auto r = site->db.transaction([&]() -> store::Result<void> {
    if (auto i = store::PendingRepository(site->db).ignore(fingerprint); !i) return i;
    return store::AuditRepository(site->db).append(cli_actor(), "local", "peer.ignore", fingerprint);
  });
  if (!r) return fail(r.error());
  std::cerr << "sipsite: requests from " << fingerprint << " are now refused without notice" << std::endl;
  return kExitOk;
}

int cmd_peer_list(const GlobalOptions& g, bool json) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto peers = store::PeerRepository(site->db).list();
  if (!peers) return fail(peers.error());
  const auto own = own_fingerprint(*site);

  // Old pins still in their overlap after a peer's key rotation.
  auto previous = store::PeerRepository(site->db).list_previous_pins();
  if (!previous) return fail(previous.error());
  std::map<std::string, const store::PeerRecord*> by_domain;
  for (const auto& p : *peers) by_domain[p.domain] = &p;
  std::vector<store::PeerRecord> old_pins;
  std::vector<const store::PreviousPin*> old_pin_info;
  for (const auto& pin : *previous) {
    const auto it = by_domain.find(pin.domain);
    if (it == by_domain.end() || it->second->state != store::PeerState::trusted) continue;
    old_pins.push_back({pin.domain, pin.fingerprint, pin.certificate_pem, it->second->address,
                        store::PeerState::trusted, pin.superseded_at, pin.superseded_at});
    old_pin_info.push_back(&pin);
  }

  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : *peers) out.push_back(webadmin::peer_json(p, own ? own->to_string() : ""));
    for (std::size_t i = 0; i < old_pins.size(); ++i) {
      nlohmann::json row = webadmin::peer_json(old_pins[i], own ? own->to_string() : "");
      row["superseded_by"] = old_pin_info[i]->superseded_by;
      row["pin_expires_at"] = iso8601(old_pin_info[i]->expires_at);
      out.push_back(std::move(row));
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (peers->empty()) {
    std::cerr << "sipsite: no peers (add one with: sipsite peer import --file PEER.pem --address HOST:PORT)"
              << std::endl;
    return kExitOk;
  }
  std::cout << std::left << std::setw(32) << "DOMAIN" << std::setw(10) << "STATE" << std::setw(28) << "ADDRESS"
            << "FINGERPRINT\n";
  for (const auto& p : *peers) {
    std::cout << std::left << std::setw(32) << p.domain << std::setw(10) << store::to_string(p.state)
              << std::setw(28) << (p.address.empty() ? "-" : p.address) << p.fingerprint << "\n";
  }
  for (std::size_t i = 0; i < old_pins.size(); ++i) {
    std::cout << std::left << std::setw(32) << old_pins[i].domain << std::setw(10) << "old pin" << std::setw(28)
              << ("until " + iso8601(old_pin_info[i]->expires_at)) << old_pins[i].fingerprint << "\n";
  }
  return kExitOk;
}

}  // namespace sipsite::app
