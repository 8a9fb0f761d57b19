#pragma once
// The daemon's copy of what it keeps in memory from the database (trusted
// peers with their parsed certificates, previous pins, this site's users),
// kept on the live-state thread. Given the rows that changed, it builds the
// next pinned set and says what changed, so that the io thread only swaps a
// pointer and touches the peers and users named (issue 18: no full reload of
// 10,000 peers per trust change, nothing of it on the io thread).
//
// Not thread-safe: one thread owns it (LiveStateWatcher's).

#include <sipsite/pki/pinning.hpp>
#include <sipsite/store/peer_repository.hpp>
#include <sipsite/store/user_repository.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sipsite::app {

struct TrustedPeer {
  pki::Fingerprint fingerprint;
  std::string domain;
  std::string address;  // HOST:PORT, empty: it dials in
};

// What the io thread applies.
struct LiveStateUpdate {
  bool full = false;                           // everything was read (start-up, or the change log had a gap)
  std::size_t changes = 0;                     // change-log rows behind an incremental update
  std::shared_ptr<const pki::PinnedSet> pins;  // the new pinned set; null: unchanged
  std::vector<TrustedPeer> trusted;            // joined the trusted set, or changed domain or address
  std::vector<TrustedPeer> untrusted;          // left it (revoked, removed, rotated away)
  // Pinned before, not now (untrusted peers and expired or orphaned previous
  // pins): their links close.
  std::vector<pki::Fingerprint> unpinned;
  std::vector<store::UserRecord> users;    // of this site, added or changed
  std::vector<std::string> users_removed;  // usernames of this site
  std::optional<bool> signaling_log;       // the setting, when read
  bool site_changed = false;               // the site identity row changed (rotate-key)
  std::int64_t earliest_pin_expiry = 0;    // Unix seconds, 0: no previous pin (valid when pins is set)
  std::size_t user_count = 0, peer_count = 0, trusted_count = 0;
};

// The rows read for the keys the change log named: each key's row now, or
// nullopt when it is gone.
struct ChangedRows {
  std::map<std::string, std::optional<store::PeerRecord>> peers;  // by fingerprint text
  std::map<std::string, std::optional<store::UserRecord>> users;  // by username@domain
  std::optional<std::vector<store::PreviousPin>> previous_pins;   // all of them, when any changed
  std::optional<bool> signaling_log;
  bool site = false;
  std::size_t rows = 0;  // change-log rows
};

class LiveStateMirror {
 public:
  explicit LiveStateMirror(std::string domain) : domain_(std::move(domain)) {}

  // Forgets everything and takes this as the whole state.
  LiveStateUpdate load(const std::vector<store::UserRecord>& users, const std::vector<store::PeerRecord>& peers,
                       std::vector<store::PreviousPin> previous_pins, std::optional<bool> signaling_log,
                       std::int64_t now);
  // Applies what changed: O(changed), plus one shard of the pinned set
  // copied per changed peer (pki::PinnedSet).
  LiveStateUpdate apply(const ChangedRows& changed, std::int64_t now);

  std::size_t trusted_count() const { return trusted_.size(); }

 private:
  struct Peer {
    store::PeerRecord record;  // without its PEM (the pin keeps it)
  };
  void set_peer(const std::string& fingerprint, const std::optional<store::PeerRecord>& row, LiveStateUpdate& out,
                pki::PinnedSet& pins);
  void set_user(const std::string& key, const std::optional<store::UserRecord>& row, LiveStateUpdate& out);
  // Adds the previous pins still in their overlap to `pins` (superseded),
  // naming them in `placed`; returns the earliest expiry.
  std::int64_t place_previous_pins(pki::PinnedSet& pins, std::int64_t now, std::set<pki::Fingerprint>& placed) const;
  void finish(LiveStateUpdate& out, std::shared_ptr<const pki::PinnedSet> pins);

  std::string domain_;
  std::map<pki::Fingerprint, Peer> trusted_;
  std::map<std::string, std::size_t> trusted_domains_;  // domain -> trusted peers of it
  std::size_t peer_count_ = 0;                          // every peer row, whatever its state
  std::set<std::string> peer_rows_;                     // fingerprints of every peer row
  std::vector<store::PreviousPin> previous_;
  // The superseded pins in pins_ (a few: peers that rotated their key), so
  // that a change finds them without a pass over every pin.
  std::set<pki::Fingerprint> placed_previous_;
  std::set<std::string> users_;  // usernames of this site
  std::shared_ptr<const pki::PinnedSet> pins_ = std::make_shared<const pki::PinnedSet>();
  // The set before the last one: the io thread still holds it until it
  // swaps, so its last reference (and the cost of freeing thousands of
  // entries) is dropped here, on this thread, at the next change.
  std::shared_ptr<const pki::PinnedSet> retired_;
};

}  // namespace sipsite::app
