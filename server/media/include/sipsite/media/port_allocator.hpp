#pragma once
// RTP/RTCP port allocation from a configured range: an even RTP port and
// the odd port after it for RTCP (RFC 3550 §11), or a single port (RTCP
// muxed, RFC 5761). allocate and release are O(1); which free port (pair)
// is handed out is random, so that relay ports are hard to guess and a port
// just released is unlikely to be reused at once (late packets of an ended
// call do not reach a new one).
//
// A pair (e, e+1) whose halves are both free is kept as a pair; a single
// allocation takes a lone free port first and splits a pair only when there
// is none; releasing the second half of a split pair makes it a pair again.
//
// Not thread-safe: one owner (the relay's io_context thread).

#include "sipsite/media/media_error.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace sipsite::media {

struct PortBlock {
  std::uint16_t rtp = 0;
  std::uint16_t rtcp = 0;  // == rtp for a single (muxed) port
  [[nodiscard]] bool single() const { return rtp == rtcp; }
};

class PortAllocator {
 public:
  // The range [first, last], inclusive; port 0 is never handed out. An
  // empty range (first > last) is allowed: every allocation fails.
  PortAllocator(std::uint16_t first, std::uint16_t last, std::uint64_t seed = std::random_device{}());

  // Even RTP port + the next odd one. ports_exhausted when no pair is free.
  [[nodiscard]] Result<PortBlock> allocate_pair();
  // One port (any parity). ports_exhausted when none is free.
  [[nodiscard]] Result<std::uint16_t> allocate_single();
  // Returns a port; ports not allocated (or outside the range) are ignored,
  // so a double release is harmless.
  void release(std::uint16_t port);
  void release(PortBlock block);

  [[nodiscard]] bool allocated(std::uint16_t port) const;
  [[nodiscard]] std::size_t capacity() const { return used_.size(); }
  [[nodiscard]] std::size_t free_ports() const { return free_count_; }
  [[nodiscard]] std::size_t free_pairs() const { return pairs_.size(); }
  [[nodiscard]] std::uint16_t first() const { return first_; }
  [[nodiscard]] std::uint16_t last() const { return last_; }

 private:
  // A set of small integers with O(1) insert, erase and uniform random pick.
  class IndexSet {
   public:
    explicit IndexSet(std::size_t universe);
    void insert(std::uint32_t v);
    void erase(std::uint32_t v);
    [[nodiscard]] bool contains(std::uint32_t v) const;
    [[nodiscard]] std::size_t size() const { return items_.size(); }
    [[nodiscard]] bool empty() const { return items_.empty(); }
    [[nodiscard]] std::uint32_t at(std::size_t i) const { return items_[i]; }

   private:
    std::vector<std::uint32_t> items_;
    std::vector<std::uint32_t> pos_;  // index in items_, or kAbsent
  };

  [[nodiscard]] bool in_range(std::uint32_t port) const { return port >= first_ && port <= last_ && port != 0; }
  [[nodiscard]] bool has_mate(std::uint32_t port) const { return in_range(port ^ 1U); }
  [[nodiscard]] std::uint32_t slot(std::uint32_t even_port) const { return (even_port - first_) / 2; }
  std::uint32_t pick(const IndexSet& set);

  std::uint16_t first_;
  std::uint16_t last_;
  std::vector<bool> used_;  // by port - first_
  IndexSet pairs_;          // free pairs, by slot of their even port
  IndexSet singles_;        // free ports whose mate is used or out of range, by port - first_
  std::size_t free_count_ = 0;
  std::mt19937_64 random_;
};

}  // namespace sipsite::media
