// peer import | trust | revoke | list

#include "cli_operations.hpp"
#include "commands.hpp"

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/invite.hpp>
#include <sipsite/pki/pairing.hpp>
#include <sipsite/store/pending_repository.hpp>
#include <sipsite/webadmin/certificate_probe.hpp>
#include <sipsite/webadmin/peer_json.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <iomanip>
#include <iostream>

namespace sipsite::app {

namespace {

constexpr std::size_t kMaxPemBytes = 64 * 1024;
// A bundle of certificates for a bulk import: 100,000 certificates of ~700
// bytes each, with room to spare.
constexpr std::size_t kMaxBundleBytes = 128 * 1024 * 1024;

std::optional<std::string> read_file_up_to(const std::string& path, std::size_t limit, std::string_view what,
                                           std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::string text;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > limit) {
      error = path + " is larger than " + std::to_string(limit / 1024) + " KiB: " + std::string(what);
      return std::nullopt;
    }
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
  // What the other site presented is checked against the invite: a wrong
  // certificate is a fact about the network, not a usage error.
  auto peer = site_operations(*site).import_peer({std::move(*probed.certificate), *invite, "", true});
  if (!peer) return fail(kExitRuntime, invite->address.to_string() + ": " + peer.error().message);
  std::cout << peer->fingerprint << "\n";
  if (const auto own = own_fingerprint(*site)) {
    if (auto presented = pki::Fingerprint::parse(peer->fingerprint)) {
      std::cerr << "sipsite: pairing code: " << pki::pairing_code(*own, *presented) << "\n";
    }
  }
  std::cerr << "sipsite: " << peer->domain << " is trusted here; its admin must now trust this site "
            << "(it appears there as a pending request)" << std::endl;
  return kExitOk;
}

namespace {

int cmd_peer_import_bulk(const GlobalOptions& g, const PeerImportOptions& o, const std::string& pem) {
  if (!o.address.empty()) {
    return fail(kExitUsage,
                "--address names one peer: a bundle of certificates is imported without addresses "
                "(give each its address with peer trust --address, or import it alone)");
  }
  auto certs = pki::parse_peer_certificates(pem);
  if (!certs) return fail(kExitUsage, o.bundle + ": " + certs.error().message);
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto peers = site_operations(*site).import_peers(*certs, o.trust);
  if (!peers) return fail(peers.error(), admin::is_bad_input(peers.error().code) ? o.bundle : "");
  for (const auto& p : *peers) std::cout << p.fingerprint << " " << p.domain << "\n";
  std::cerr << "sipsite: imported " << peers->size() << " peer(s), " << (o.trust ? "trusted" : "untrusted")
            << std::endl;
  return kExitOk;
}

}  // namespace

int cmd_peer_import(const GlobalOptions& g, const PeerImportOptions& o) {
  std::string error;
  if (o.file.empty() == o.bundle.empty()) return fail(kExitUsage, "give exactly one of --file or --bundle");
  if (!o.bundle.empty()) {
    const auto bundle = read_file_up_to(o.bundle, kMaxBundleBytes, "too large a bundle", error);
    if (!bundle) return fail(kExitUsage, error);
    return cmd_peer_import_bulk(g, o, *bundle);
  }
  if (o.trust) return fail(kExitUsage, "--trust goes with --bundle (one peer: peer trust after peer import)");
  // One certificate: a file holding several (a chain) is refused below, not
  // taken for a bundle.
  const auto pem = read_file_up_to(o.file, kMaxPemBytes, "not a certificate", error);
  if (!pem) return fail(kExitUsage, error);
  auto cert = pki::parse_peer_certificate(*pem);
  if (!cert) return fail(kExitUsage, o.file + ": " + cert.error().message);
  const pki::Fingerprint fp = cert->fingerprint();

  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto peer = site_operations(*site).import_peer({std::move(*cert), std::nullopt, o.address, false});
  if (!peer) {
    const admin::OpErrc code = peer.error().code;
    if (code == admin::OpErrc::bad_address) return fail(peer.error(), "--address");
    return fail(peer.error(), admin::is_bad_input(code) ? o.file : "");
  }
  std::cout << peer->fingerprint << "\n";
  std::cerr << "sipsite: imported peer " << peer->domain << " (untrusted)\n";
  if (const auto own = own_fingerprint(*site))
    std::cerr << "sipsite: pairing code: " << pki::pairing_code(*own, fp) << "\n";
  std::cerr << "sipsite: confirm the fingerprint with " << peer->domain
            << "'s admin, then: sipsite peer trust --fingerprint " << peer->fingerprint << std::endl;
  return kExitOk;
}

namespace {

// The option an operation's bad-input error is about.
std::string_view option_for(admin::OpErrc code) {
  switch (code) {
    case admin::OpErrc::bad_fingerprint: return "--fingerprint";
    case admin::OpErrc::bad_address: return "--address";
    default: return "";
  }
}

}  // namespace

int cmd_peer_set_state(const GlobalOptions& g, const PeerSelector& who, store::PeerState state,
                       const std::string& address) {
  if (who.fingerprint.empty() == who.domain.empty()) {
    return fail(kExitUsage, "give exactly one of --fingerprint or --domain");
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  admin::SiteOperations ops = site_operations(*site);
  const admin::PeerRef ref{who.fingerprint, who.domain};
  const bool trust = state == store::PeerState::trusted;
  auto change = trust ? ops.trust_peer(ref, address) : ops.revoke_peer(ref);
  if (!change) {
    const admin::OpError& e = change.error();
    if (trust && e.code == admin::OpErrc::not_found && !who.fingerprint.empty()) {
      return fail(kExitRuntime, e.message + " (import its certificate first: sipsite peer import)");
    }
    return fail(e, option_for(e.code));
  }
  const store::PeerRecord& peer = change->peer;
  if (change->old_pin) {
    std::cerr << "sipsite: " << change->old_pin->fingerprint << " is " << peer.domain
              << "'s key before its rotation to " << change->old_pin->superseded_by << "; revoking " << peer.domain
              << std::endl;
  }
  if (trust && !peer.address.empty()) {
    std::cerr << "sipsite: " << peer.domain << " is trusted, dialled at " << peer.address
              << (change->changed ? "" : " (no change)") << std::endl;
  } else {
    std::cerr << "sipsite: " << peer.domain << (change->changed ? " is now " : " is already ")
              << store::to_string(state) << std::endl;
  }
  return kExitOk;
}

int cmd_peer_revoke_many(const GlobalOptions& g, const std::vector<std::string>& fingerprints,
                         const std::string& file) {
  std::vector<admin::PeerRef> refs;
  refs.reserve(fingerprints.size());
  for (const auto& fp : fingerprints) refs.push_back({fp, ""});
  if (!file.empty()) {
    std::string error;
    const auto text = read_file_up_to(file, kMaxBundleBytes, "too long a list of fingerprints", error);
    if (!text) return fail(kExitUsage, error);
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;  // blank lines and comments
      refs.push_back({line.substr(start), ""});
    }
    if (refs.empty()) return fail(kExitUsage, file + ": no fingerprint in it (one a line)");
  }
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto changes = site_operations(*site).revoke_peers(refs);
  if (!changes) return fail(changes.error(), option_for(changes.error().code));
  std::size_t changed = 0;
  for (const auto& c : *changes) changed += c.changed ? 1 : 0;
  std::cerr << "sipsite: revoked " << changed << " peer(s)";
  if (changed != changes->size()) std::cerr << "; " << changes->size() - changed << " were revoked already";
  std::cerr << std::endl;
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
              << r.attempts << r.fingerprint
              << (r.impostor ? "  IMPOSTOR? the domain of a trusted peer, under another key" : "") << "\n";
  }
  return kExitOk;
}

int cmd_peer_ignore(const GlobalOptions& g, const std::string& fingerprint) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  if (auto r = site_operations(*site).ignore_pending(fingerprint); !r)
    return fail(r.error(), option_for(r.error().code));
  std::cerr << "sipsite: requests from " << fingerprint << " are now refused without notice" << std::endl;
  return kExitOk;
}

int cmd_peer_remove(const GlobalOptions& g, const std::string& fingerprint) {
  auto site = open_site(g);
  if (!site) return fail(site.error());
  auto removed = site_operations(*site).remove_peer(fingerprint);
  if (!removed) return fail(removed.error(), option_for(removed.error().code));
  std::cerr << "sipsite: removed " << removed->domain << " (" << removed->fingerprint
            << "); if it connects again it is a pending request" << std::endl;
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
    // Streamed, one peer at a time (a federation of 10,000 sites is not
    // built as one JSON document first); the same text as dump(2) of the
    // whole array.
    std::size_t written = 0;
    const auto emit = [&written](const nlohmann::json& row) {
      std::string text = row.dump(2);
      std::string indented = "  ";
      indented.reserve(text.size() + text.size() / 8);
      for (char ch : text) {
        indented += ch;
        if (ch == '\n') indented += "  ";
      }
      std::cout << (written++ == 0 ? "[\n" : ",\n") << indented;
    };
    for (const auto& p : *peers) emit(webadmin::peer_json(p, own ? own->to_string() : ""));
    for (std::size_t i = 0; i < old_pins.size(); ++i) {
      nlohmann::json row = webadmin::peer_json(old_pins[i], own ? own->to_string() : "");
      row["superseded_by"] = old_pin_info[i]->superseded_by;
      row["pin_expires_at"] = iso8601(old_pin_info[i]->expires_at);
      emit(row);
    }
    std::cout << (written == 0 ? "[]\n" : "\n]\n") << std::flush;
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
    std::cout << std::left << std::setw(32) << p.domain << std::setw(10) << store::to_string(p.state) << std::setw(28)
              << (p.address.empty() ? "-" : p.address) << p.fingerprint << "\n";
  }
  for (std::size_t i = 0; i < old_pins.size(); ++i) {
    std::cout << std::left << std::setw(32) << old_pins[i].domain << std::setw(10) << "old pin" << std::setw(28)
              << ("until " + iso8601(old_pin_info[i]->expires_at)) << old_pins[i].fingerprint << "\n";
  }
  return kExitOk;
}

}  // namespace sipsite::app
