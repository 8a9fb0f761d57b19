#include "live_state_mirror.hpp"

namespace sipsite::app {

namespace {

// A pin keeps the PEM, parsed only if a rotation proof ever needs it
// (PinnedPeer::parsed_certificate); the mirror keeps the row without it.
pki::PinnedPeer pin_of(const store::PeerRecord& row) {
  pki::PinnedPeer pin(row.domain);
  pin.certificate_pem = std::make_shared<const std::string>(row.certificate_pem);
  return pin;
}

store::PeerRecord without_pem(store::PeerRecord row) {
  row.certificate_pem.clear();
  row.certificate_pem.shrink_to_fit();
  return row;
}

// "alice@alpha.example" -> {"alice", "alpha.example"}
std::pair<std::string, std::string> split_user_key(const std::string& key) {
  const auto at = key.rfind('@');
  if (at == std::string::npos) return {key, ""};
  return {key.substr(0, at), key.substr(at + 1)};
}

}  // namespace

LiveStateUpdate LiveStateMirror::load(const std::vector<store::UserRecord>& users,
                                      const std::vector<store::PeerRecord>& peers,
                                      std::vector<store::PreviousPin> previous_pins, std::optional<bool> signaling_log,
                                      std::int64_t now) {
  LiveStateUpdate out;
  out.full = true;
  out.signaling_log = signaling_log;
  // What was pinned and trusted before a reload after a gap leaves: every
  // old entry is reported untrusted/unpinned unless it is there again.
  const auto before = pins_;
  std::map<pki::Fingerprint, Peer> old_trusted = std::move(trusted_);
  trusted_.clear();
  trusted_domains_.clear();
  peer_rows_.clear();
  users_.clear();
  previous_ = std::move(previous_pins);

  pki::PinnedSet pins;
  for (const auto& p : peers) {
    peer_rows_.insert(p.fingerprint);
    if (p.state != store::PeerState::trusted) continue;
    auto fp = pki::Fingerprint::parse(p.fingerprint);
    if (!fp) continue;
    pins.emplace(*fp, pin_of(p));
    trusted_.emplace(*fp, Peer{without_pem(p)});
    ++trusted_domains_[p.domain];
    out.trusted.push_back({*fp, p.domain, p.address});
  }
  peer_count_ = peers.size();
  for (const auto& [fp, peer] : old_trusted) {
    if (trusted_.count(fp) == 0) out.untrusted.push_back({fp, peer.record.domain, peer.record.address});
  }
  placed_previous_.clear();
  out.earliest_pin_expiry = place_previous_pins(pins, now, placed_previous_);
  before->for_each([&](const pki::Fingerprint& fp, const pki::PinnedPeer& /*pinned*/) {
    if (!pins.contains(fp)) out.unpinned.push_back(fp);
  });
  for (const auto& u : users) {
    if (u.domain != domain_) continue;
    users_.insert(u.username);
    out.users.push_back(u);
  }
  finish(out, std::make_shared<const pki::PinnedSet>(std::move(pins)));
  return out;
}

LiveStateUpdate LiveStateMirror::apply(const ChangedRows& changed, std::int64_t now) {
  LiveStateUpdate out;
  out.changes = changed.rows;
  out.signaling_log = changed.signaling_log;
  out.site_changed = changed.site;
  for (const auto& [key, row] : changed.users) set_user(key, row, out);
  if (changed.peers.empty() && !changed.previous_pins) {
    finish(out, nullptr);
    return out;
  }
  // Copy-on-write of the pinned set: handshakes in flight keep theirs, and
  // each change copies one shard.
  pki::PinnedSet pins = *pins_;
  for (const auto& [fp, row] : changed.peers) set_peer(fp, row, out, pins);
  if (changed.previous_pins) previous_ = *changed.previous_pins;
  // Previous pins depend on which domains are trusted: placed again (a few
  // rows; only peers that rotated their key have any).
  for (const auto& fp : placed_previous_) {
    if (const auto* pin = pins.find(fp); pin != nullptr && pin->superseded) pins.erase(fp);
  }
  std::set<pki::Fingerprint> placed;
  out.earliest_pin_expiry = place_previous_pins(pins, now, placed);
  // Unpinned: candidates are the peers named and the previous pins placed
  // before, not the whole set.
  std::set<pki::Fingerprint> candidates(placed_previous_.begin(), placed_previous_.end());
  for (const auto& [fp_text, row] : changed.peers) {
    if (auto fp = pki::Fingerprint::parse(fp_text)) candidates.insert(*fp);
  }
  for (const auto& fp : candidates) {
    if (pins_->contains(fp) && !pins.contains(fp)) out.unpinned.push_back(fp);
  }
  placed_previous_ = std::move(placed);
  finish(out, std::make_shared<const pki::PinnedSet>(std::move(pins)));
  return out;
}

void LiveStateMirror::set_peer(const std::string& fingerprint, const std::optional<store::PeerRecord>& row,
                               LiveStateUpdate& out, pki::PinnedSet& pins) {
  auto fp = pki::Fingerprint::parse(fingerprint);
  if (!fp) return;
  if (row) {
    if (peer_rows_.insert(fingerprint).second) ++peer_count_;
  } else if (peer_rows_.erase(fingerprint) != 0) {
    --peer_count_;
  }
  const auto it = trusted_.find(*fp);
  const bool was_trusted = it != trusted_.end();
  const bool is_trusted = row && row->state == store::PeerState::trusted;
  if (was_trusted) {
    const Peer& old = it->second;
    // Same fingerprint, same certificate: only the domain or address can differ.
    if (is_trusted && old.record.domain == row->domain && old.record.address == row->address) {
      return;  // touched (e.g. trusted again), nothing the daemon keeps changed
    }
    if (--trusted_domains_[old.record.domain] == 0) trusted_domains_.erase(old.record.domain);
    if (!is_trusted) out.untrusted.push_back({*fp, old.record.domain, old.record.address});
    trusted_.erase(it);
    pins.erase(*fp);
  }
  if (!is_trusted) return;
  pins.insert_or_assign(*fp, pin_of(*row));
  trusted_.emplace(*fp, Peer{without_pem(*row)});
  ++trusted_domains_[row->domain];
  out.trusted.push_back({*fp, row->domain, row->address});
}

void LiveStateMirror::set_user(const std::string& key, const std::optional<store::UserRecord>& row,
                               LiveStateUpdate& out) {
  const auto [username, domain] = split_user_key(key);
  if (domain != domain_) return;
  if (row && row->domain == domain_) {
    users_.insert(row->username);
    out.users.push_back(*row);
  } else if (users_.erase(username) != 0) {
    out.users_removed.push_back(username);
  }
}

std::int64_t LiveStateMirror::place_previous_pins(pki::PinnedSet& pins, std::int64_t now,
                                                  std::set<pki::Fingerprint>& placed) const {
  // Pins replaced by a rotation stay accepted (not dialled, not routed to)
  // until their overlap ends, while their peer is trusted.
  std::int64_t earliest = 0;
  for (const auto& pin : previous_) {
    if (earliest == 0 || pin.expires_at < earliest) earliest = pin.expires_at;
    auto fp = pki::Fingerprint::parse(pin.fingerprint);
    if (!fp || pin.expires_at <= now || trusted_domains_.count(pin.domain) == 0 || pins.contains(*fp)) continue;
    pki::PinnedPeer peer(pin.domain);
    peer.certificate_pem = std::make_shared<const std::string>(pin.certificate_pem);
    peer.superseded = true;
    pins.emplace(*fp, std::move(peer));
    placed.insert(*fp);
  }
  return earliest;
}

void LiveStateMirror::finish(LiveStateUpdate& out, std::shared_ptr<const pki::PinnedSet> pins) {
  if (pins) {
    retired_ = std::move(pins_);
    pins_ = pins;
    out.pins = std::move(pins);
  }
  out.user_count = users_.size();
  out.peer_count = peer_count_;
  out.trusted_count = trusted_.size();
}

}  // namespace sipsite::app
