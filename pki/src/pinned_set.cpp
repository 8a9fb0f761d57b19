#include "sipsite/pki/pinned_set.hpp"

namespace sipsite::pki {

namespace {

// Every empty set shares one empty shard per slot until it is written to.
const std::shared_ptr<std::map<Fingerprint, PinnedPeer>>& empty_shard() {
  static const auto empty = std::make_shared<std::map<Fingerprint, PinnedPeer>>();
  return empty;
}

}  // namespace

PinnedSet::PinnedSet() { shards_.fill(empty_shard()); }

PinnedSet::PinnedSet(std::initializer_list<std::pair<const Fingerprint, PinnedPeer>> pins) : PinnedSet() {
  for (const auto& [fp, peer] : pins) emplace(fp, peer);
}

const PinnedPeer* PinnedSet::find(const Fingerprint& fp) const {
  const Shard& shard = *shards_[shard_of(fp)];
  const auto it = shard.find(fp);
  return it == shard.end() ? nullptr : &it->second;
}

PinnedSet::Shard& PinnedSet::writable(const Fingerprint& fp) {
  auto& shard = shards_[shard_of(fp)];
  // use_count() == 1: no other set, on any thread, can reach this shard.
  if (shard.use_count() != 1) shard = std::make_shared<Shard>(*shard);
  return *shard;
}

bool PinnedSet::emplace(const Fingerprint& fp, PinnedPeer peer) {
  if (contains(fp)) return false;
  writable(fp).emplace(fp, std::move(peer));
  ++size_;
  return true;
}

void PinnedSet::insert_or_assign(const Fingerprint& fp, PinnedPeer peer) {
  if (!contains(fp)) ++size_;
  writable(fp).insert_or_assign(fp, std::move(peer));
}

bool PinnedSet::erase(const Fingerprint& fp) {
  if (!contains(fp)) return false;
  writable(fp).erase(fp);
  --size_;
  return true;
}

}  // namespace sipsite::pki
