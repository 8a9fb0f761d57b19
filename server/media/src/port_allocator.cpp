#include "sipsite/media/port_allocator.hpp"

namespace sipsite::media {

namespace {

constexpr std::uint32_t kAbsent = 0xFFFFFFFFU;

MediaError exhausted(const char* what) {
  return MediaError{MediaErrc::ports_exhausted, std::string("no free media ") + what + " in the configured range"};
}

}  // namespace

PortAllocator::IndexSet::IndexSet(std::size_t universe) : pos_(universe, kAbsent) { items_.reserve(universe); }

void PortAllocator::IndexSet::insert(std::uint32_t v) {
  if (v >= pos_.size() || pos_[v] != kAbsent) return;
  pos_[v] = static_cast<std::uint32_t>(items_.size());
  items_.push_back(v);
}

void PortAllocator::IndexSet::erase(std::uint32_t v) {
  if (v >= pos_.size() || pos_[v] == kAbsent) return;
  const std::uint32_t i = pos_[v];
  const std::uint32_t moved = items_.back();
  items_[i] = moved;
  pos_[moved] = i;
  items_.pop_back();
  pos_[v] = kAbsent;
}

bool PortAllocator::IndexSet::contains(std::uint32_t v) const { return v < pos_.size() && pos_[v] != kAbsent; }

// Pairs are indexed by (even port - first) / 2: with an odd `first` the
// first slot is unused, which costs one entry.
PortAllocator::PortAllocator(std::uint16_t first, std::uint16_t last, std::uint64_t seed)
    : first_(first == 0 ? 1 : first),
      last_(last),
      used_(last_ >= first_ ? static_cast<std::size_t>(last_ - first_) + 1 : 0, false),
      pairs_(used_.size() / 2 + 1),
      singles_(used_.size()),
      random_(seed) {
  for (std::uint32_t p = first_; p <= last_ && !used_.empty(); ++p) {
    ++free_count_;
    if (has_mate(p)) {
      if ((p & 1U) == 0) pairs_.insert(slot(p));
    } else {
      singles_.insert(p - first_);
    }
  }
}

std::uint32_t PortAllocator::pick(const IndexSet& set) {
  std::uniform_int_distribution<std::size_t> d(0, set.size() - 1);
  return set.at(d(random_));
}

Result<PortBlock> PortAllocator::allocate_pair() {
  if (pairs_.empty()) return exhausted("port pair");
  const std::uint32_t s = pick(pairs_);
  pairs_.erase(s);
  // slot s holds the even port first_ + 2s, or first_ + 2s + 1 when first_ is odd.
  std::uint32_t even = first_ + 2 * s;
  if ((even & 1U) != 0) ++even;
  used_[even - first_] = true;
  used_[even + 1 - first_] = true;
  free_count_ -= 2;
  return PortBlock{static_cast<std::uint16_t>(even), static_cast<std::uint16_t>(even + 1)};
}

Result<std::uint16_t> PortAllocator::allocate_single() {
  std::uint32_t port = 0;
  if (!singles_.empty()) {
    const std::uint32_t i = pick(singles_);
    singles_.erase(i);
    port = first_ + i;
  } else if (!pairs_.empty()) {
    const std::uint32_t s = pick(pairs_);
    pairs_.erase(s);
    std::uint32_t even = first_ + 2 * s;
    if ((even & 1U) != 0) ++even;
    port = even;
    singles_.insert(even + 1 - first_);
  } else {
    return exhausted("port");
  }
  used_[port - first_] = true;
  --free_count_;
  return static_cast<std::uint16_t>(port);
}

void PortAllocator::release(std::uint16_t port) {
  if (!in_range(port) || !used_[port - first_]) return;
  used_[port - first_] = false;
  ++free_count_;
  const std::uint32_t mate = std::uint32_t{port} ^ 1U;
  if (in_range(mate) && !used_[mate - first_]) {
    singles_.erase(mate - first_);
    pairs_.insert(slot(std::min<std::uint32_t>(port, mate)));
  } else {
    singles_.insert(port - first_);
  }
}

void PortAllocator::release(PortBlock block) {
  release(block.rtp);
  if (block.rtcp != block.rtp) release(block.rtcp);
}

bool PortAllocator::allocated(std::uint16_t port) const { return in_range(port) && used_[port - first_]; }

}  // namespace sipsite::media
