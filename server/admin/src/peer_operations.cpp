// SiteOperations: peer sites.

#include <sipsite/admin/site_operations.hpp>

#include <sipsite/pki/domain_name.hpp>
#include <sipsite/pki/fingerprint.hpp>
#include <sipsite/pki/host_port.hpp>

#include <set>

namespace sipsite::admin {

namespace {

// HOST:PORT in its one written form; empty stays empty.
OpResult<std::string> peer_address(std::string_view text) {
  if (text.empty()) return std::string();
  auto hp = pki::parse_host_port(text);
  if (!hp) return OpError{OpErrc::bad_address, hp.error().message};
  return hp->to_string();
}

OpResult<std::string> canonical_fingerprint(std::string_view text) {
  auto fp = pki::Fingerprint::parse(text);
  if (!fp) return OpError{OpErrc::bad_fingerprint, fp.error().message};
  return fp->to_string();
}

// The certificate is the one the invite names.
OpResult<void> check_against_invite(const pki::Certificate& cert, const pki::Invite& invite) {
  const pki::Fingerprint fp = cert.fingerprint();
  if (fp != invite.fingerprint) {
    return OpError{OpErrc::fingerprint_mismatch, "fingerprint mismatch: the invite says " +
                                                     invite.fingerprint.to_string() + " but the certificate is " +
                                                     fp.to_string() + "; nothing was stored"};
  }
  if (cert.domain() != invite.domain) {
    return OpError{OpErrc::domain_mismatch, "the certificate names " + cert.domain() + ", the invite " + invite.domain};
  }
  return {};
}

}  // namespace

OpResult<store::PeerRecord> SiteOperations::import_peer(const PeerImport& import) {
  const pki::Certificate& cert = import.certificate;
  if (import.invite) {
    if (auto ok = check_against_invite(cert, *import.invite); !ok) return ok.error();
  }
  if (auto valid = cert.check_validity(); !valid) return OpError{OpErrc::bad_certificate, valid.error().message};
  auto address = peer_address(import.address);
  if (!address) return address.error();
  if (address->empty() && import.invite) *address = import.invite->address.to_string();
  const std::string fingerprint = cert.fingerprint().to_string();
  if (fingerprint == site_.fingerprint) return OpError{OpErrc::own_certificate, "this is this site's own certificate"};
  if (cert.domain() == site_.domain) {
    return OpError{OpErrc::own_domain, "the certificate names this site's own domain " + site_.domain};
  }
  const auto state = import.trust ? store::PeerState::trusted : store::PeerState::untrusted;
  store::PeerRecord peer{cert.domain(), fingerprint, cert.to_pem(), *address, state, 0, 0};
  store::PeerRepository peers(db_);
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto a = peers.add(peer); !a) return a;
    if (import.trust) return audit("peer.add", peer.domain + " " + peer.fingerprint + " (invite)");
    return audit("peer.import", peer.domain + " " + peer.fingerprint);
  });
  if (!r) return from_store(r.error());
  if (auto stored = peers.find_by_fingerprint(fingerprint); stored && *stored) peer = **stored;
  return peer;
}

OpResult<std::optional<store::PeerRecord>> SiteOperations::find_peer(const PeerRef& who, std::string& fingerprint) {
  if (who.fingerprint.empty() == who.domain.empty()) {
    return OpError{OpErrc::bad_fingerprint, "name the peer by its fingerprint or by its domain"};
  }
  store::PeerRepository peers(db_);
  if (who.fingerprint.empty()) {
    auto found = peers.find_by_domain(pki::lowercase_domain(who.domain));
    if (!found) return from_store(found.error());
    if (!*found) return OpError{OpErrc::not_found, "no peer with domain " + who.domain};
    return std::move(*found);
  }
  auto fp = canonical_fingerprint(who.fingerprint);
  if (!fp) return fp.error();
  fingerprint = *fp;
  auto found = peers.find_by_fingerprint(fingerprint);
  if (!found) return from_store(found.error());
  return std::move(*found);
}

OpResult<PeerChange> SiteOperations::trust_peer(const PeerRef& who, std::string_view address_text) {
  auto address = peer_address(address_text);
  if (!address) return address.error();
  std::string fingerprint;
  auto found = find_peer(who, fingerprint);
  if (!found) return found.error();
  if (!*found) {
    auto request = store::PendingRepository(db_).find(fingerprint);
    if (!request) return from_store(request.error());
    if (*request) return trust_pending(**request, *address);
    return OpError{OpErrc::not_found, "no peer with fingerprint " + fingerprint};
  }
  const store::PeerRecord& peer = **found;
  if (peer.state != store::PeerState::trusted) {
    auto cert = pki::Certificate::from_pem(peer.certificate_pem);
    if (!cert) {
      return OpError{OpErrc::certificate_not_valid,
                     "stored certificate of " + peer.domain + ": " + cert.error().message};
    }
    if (auto valid = cert->check_validity(); !valid) {
      return OpError{OpErrc::certificate_not_valid, "cannot trust " + peer.domain + ": " + valid.error().message};
    }
  }
  return set_state(peer, store::PeerState::trusted, *address);
}

// A pending request the admin decided to trust becomes a trusted peer, in
// one transaction with its removal from the pending list.
OpResult<PeerChange> SiteOperations::trust_pending(const store::PendingRequest& request, const std::string& address) {
  auto cert = pki::parse_peer_certificate(request.certificate_pem);
  if (!cert) {
    return OpError{OpErrc::certificate_not_valid, "cannot trust the pending request: " + cert.error().message};
  }
  PeerChange change{{cert->domain(), request.fingerprint, cert->to_pem(), address, store::PeerState::trusted, 0, 0},
                    true,
                    true,
                    std::nullopt};
  store::PeerRepository peers(db_);
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto a = peers.add(change.peer); !a) return a;
    if (auto d = store::PendingRepository(db_).remove(request.fingerprint); !d) return d;
    return audit("peer.trust", change.peer.domain + " " + change.peer.fingerprint + " (pending request)");
  });
  if (!r) return from_store(r.error());
  if (auto stored = peers.find_by_fingerprint(request.fingerprint); stored && *stored) change.peer = **stored;
  return change;
}

OpResult<PeerChange> SiteOperations::peer_to_revoke(const PeerRef& who) {
  std::string fingerprint;
  auto found = find_peer(who, fingerprint);
  if (!found) return found.error();
  if (*found) return PeerChange{**found, false, false, std::nullopt};
  // An old pin kept after the peer's key rotation: revoking it revokes the
  // peer (its new key was proven by this one).
  store::PeerRepository peers(db_);
  auto previous = peers.list_previous_pins();
  if (!previous) return from_store(previous.error());
  for (const auto& pin : *previous) {
    if (pin.fingerprint != fingerprint) continue;
    auto current = peers.find_by_domain(pin.domain);
    if (!current) return from_store(current.error());
    if (!*current) break;
    return PeerChange{**current, false, false, pin};
  }
  return OpError{OpErrc::not_found, "no peer with fingerprint " + fingerprint};
}

OpResult<PeerChange> SiteOperations::revoke_peer(const PeerRef& who) {
  auto target = peer_to_revoke(who);
  if (!target) return target.error();
  auto change = set_state(target->peer, store::PeerState::revoked);
  if (change) change->old_pin = target->old_pin;
  return change;
}

OpResult<std::vector<PeerChange>> SiteOperations::revoke_peers(const std::vector<PeerRef>& who) {
  std::vector<PeerChange> changes;
  changes.reserve(who.size());
  for (const auto& ref : who) {
    auto target = peer_to_revoke(ref);
    if (!target) {
      return OpError{target.error().code, target.error().message + "; nothing was revoked"};
    }
    changes.push_back(std::move(*target));
  }
  store::PeerRepository peers(db_);
  auto r = db_.transaction([&]() -> store::Result<void> {
    for (auto& change : changes) {
      if (change.peer.state == store::PeerState::revoked) continue;
      if (auto st = peers.set_state(change.peer.fingerprint, store::PeerState::revoked); !st) return st;
      if (auto a = audit("peer.revoke", change.peer.domain + " " + change.peer.fingerprint + " (bulk)"); !a) return a;
      change.changed = true;
      change.peer.state = store::PeerState::revoked;
    }
    return {};
  });
  if (!r) return from_store(r.error());
  return changes;
}

OpResult<std::vector<store::PeerRecord>> SiteOperations::import_peers(const std::vector<pki::Certificate>& certificates,
                                                                      bool trust) {
  std::vector<store::PeerRecord> records;
  records.reserve(certificates.size());
  std::set<std::string> fingerprints, domains;
  const auto state = trust ? store::PeerState::trusted : store::PeerState::untrusted;
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    const pki::Certificate& cert = certificates[i];
    const std::string domain = cert.domain();
    const std::string which = "certificate " + std::to_string(i + 1) + (domain.empty() ? "" : " (" + domain + ")");
    if (domain.empty()) return OpError{OpErrc::bad_certificate, which + " names no domain; nothing was imported"};
    if (auto valid = cert.check_validity(); !valid) {
      return OpError{OpErrc::bad_certificate, which + ": " + valid.error().message + "; nothing was imported"};
    }
    const std::string fingerprint = cert.fingerprint().to_string();
    if (fingerprint == site_.fingerprint) {
      return OpError{OpErrc::own_certificate, which + " is this site's own certificate; nothing was imported"};
    }
    if (domain == site_.domain) {
      return OpError{OpErrc::own_domain, which + " names this site's own domain; nothing was imported"};
    }
    if (!fingerprints.insert(fingerprint).second || !domains.insert(domain).second) {
      return OpError{OpErrc::conflict, which + " is in the list twice (fingerprint or domain); nothing was imported"};
    }
    records.push_back({domain, fingerprint, cert.to_pem(), "", state, 0, 0});
  }
  store::PeerRepository peers(db_);
  std::size_t failed_at = 0;
  auto r = db_.transaction([&]() -> store::Result<void> {
    for (std::size_t i = 0; i < records.size(); ++i) {
      failed_at = i;
      const auto& peer = records[i];
      if (auto a = peers.add(peer); !a) return a;
      if (auto a = audit(trust ? "peer.trust" : "peer.import",
                         peer.domain + " " + peer.fingerprint + (trust ? " (bulk import, trusted)" : " (bulk import)"));
          !a) {
        return a;
      }
    }
    return {};
  });
  if (!r) {
    OpError e = from_store(r.error());
    if (e.code == OpErrc::conflict) {
      e.message = "certificate " + std::to_string(failed_at + 1) + " (" + records[failed_at].domain +
                  "): a peer with that fingerprint or domain is known already; nothing was imported";
    }
    return e;
  }
  return records;
}

OpResult<PeerChange> SiteOperations::set_state(const store::PeerRecord& peer, store::PeerState state,
                                               std::string_view address) {
  PeerChange change{peer, false, false, std::nullopt};
  const bool new_address = !address.empty() && address != peer.address;
  if (peer.state == state && !new_address) return change;
  store::PeerRepository peers(db_);
  const std::string action = state == store::PeerState::trusted ? "peer.trust" : "peer.revoke";
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto s = peers.set_state(peer.fingerprint, state); !s) return s;
    if (new_address) {
      if (auto a = peers.set_address(peer.fingerprint, address); !a) return a;
    }
    return audit(action,
                 peer.domain + " " + peer.fingerprint + (new_address ? " address " + std::string(address) : ""));
  });
  if (!r) return from_store(r.error());
  change.changed = true;
  change.peer.state = state;
  if (auto stored = peers.find_by_fingerprint(peer.fingerprint); stored && *stored) change.peer = **stored;
  return change;
}

OpResult<void> SiteOperations::ignore_pending(std::string_view fingerprint_text) {
  auto fingerprint = canonical_fingerprint(fingerprint_text);
  if (!fingerprint) return fingerprint.error();
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto i = store::PendingRepository(db_).ignore(*fingerprint); !i) return i;
    return audit("peer.ignore", *fingerprint);
  });
  if (!r) return from_store(r.error());
  return {};
}

OpResult<store::PeerRecord> SiteOperations::remove_peer(std::string_view fingerprint_text) {
  auto fingerprint = canonical_fingerprint(fingerprint_text);
  if (!fingerprint) return fingerprint.error();
  store::PeerRepository peers(db_);
  auto found = peers.find_by_fingerprint(*fingerprint);
  if (!found) return from_store(found.error());
  if (!*found) return OpError{OpErrc::not_found, "no peer with fingerprint " + *fingerprint};
  const store::PeerRecord peer = **found;
  if (peer.state == store::PeerState::trusted) {
    return OpError{OpErrc::peer_trusted, peer.domain + " is trusted: revoke it before removing it"};
  }
  auto r = db_.transaction([&]() -> store::Result<void> {
    if (auto d = peers.remove(peer.fingerprint); !d) return d;
    return audit("peer.remove",
                 peer.domain + " " + peer.fingerprint + " (was " + std::string(store::to_string(peer.state)) + ")");
  });
  if (!r) return from_store(r.error());
  return peer;
}

}  // namespace sipsite::admin
