#pragma once
// What changed in the state the daemon keeps in memory (users, peers, their
// previous pins, settings, the site identity), row by row, as the triggers
// of migration 008 log it: the daemon applies only the rows changed since
// the last seq it saw instead of re-reading every user and peer.

#include <sipsite/store/database.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sipsite::store {

enum class ChangeKind { user, peer, pin, setting, site };

struct LiveStateChange {
  std::int64_t seq = 0;
  ChangeKind kind = ChangeKind::site;
  std::string key;  // user: username@domain; peer, pin: fingerprint; setting: its key; site: empty
};

struct ChangesSince {
  std::int64_t latest = 0;  // the seq to remember for the next call
  // False when rows after the cursor are gone (pruned after 65,536 newer
  // changes) or when there are more than the limit asked for: the caller
  // must load everything instead.
  bool complete = true;
  std::vector<LiveStateChange> changes;  // in seq order
};

class LiveStateChangeRepository {
 public:
  explicit LiveStateChangeRepository(Database& db) : db_(db) {}
  // The seq of the newest change (0: none ever).
  Result<std::int64_t> latest();
  // The changes after `cursor`, at most `limit` of them (else complete is
  // false and changes empty).
  Result<ChangesSince> since(std::int64_t cursor, std::size_t limit);

 private:
  Database& db_;
};

}  // namespace sipsite::store
