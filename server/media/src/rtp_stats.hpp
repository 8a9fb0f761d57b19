#pragma once
// Private: what the relay looks at in a datagram. Only the first bytes are
// read (RFC 7983 demultiplexing, the RTP fixed header): payloads, SRTP
// included, are never parsed.

#include <cstddef>
#include <cstdint>

namespace sipsite::media::detail {

enum class PacketKind : std::uint8_t { rtp, rtcp, other };

// RFC 7983: first byte 128..191 is RTP or RTCP; RFC 5761 §4: a second byte
// of 192..223 (RTCP packet types 200-204 etc.) is RTCP.
inline PacketKind classify_packet(const unsigned char* p, std::size_t n) {
  if (n < 2 || p[0] < 128 || p[0] > 191) return PacketKind::other;
  if (p[1] >= 192 && p[1] <= 223) return PacketKind::rtcp;
  return n >= 12 ? PacketKind::rtp : PacketKind::other;
}

inline std::uint16_t rtp_seq(const unsigned char* p) { return static_cast<std::uint16_t>((p[2] << 8) | p[3]); }

inline std::uint32_t rtp_ssrc(const unsigned char* p) {
  return (std::uint32_t{p[8]} << 24) | (std::uint32_t{p[9]} << 16) | (std::uint32_t{p[10]} << 8) | p[11];
}

// Packets expected and received per SSRC from sequence numbers, after
// RFC 3550 A.1/A.3: wrap-around counted, duplicates ignored, a jump beyond
// kMaxDropout (or back beyond kMaxMisorder) starts a new count (the sender
// restarted), as does a new SSRC. Counts of earlier SSRCs are summed in.
class SequenceTracker {
 public:
  void on_packet(std::uint32_t ssrc, std::uint16_t seq) {
    if (!active_ || ssrc != ssrc_) {
      restart(ssrc, seq);
      return;
    }
    const auto delta = static_cast<std::uint16_t>(seq - max_seq_);
    if (delta == 0) return;  // duplicate
    if (delta < kMaxDropout) {
      if (seq < max_seq_) cycles_ += 65536;
      max_seq_ = seq;
      ++received_;
    } else if (delta > 65536 - kMaxMisorder) {
      ++received_;  // late or reordered
    } else {
      restart(ssrc, seq);
    }
  }

  [[nodiscard]] std::uint64_t expected() const { return done_expected_ + current_expected(); }
  [[nodiscard]] std::uint64_t received() const { return done_received_ + received_; }
  [[nodiscard]] std::uint64_t lost() const {
    // Summed per run so that late packets of one run do not hide losses of another.
    const std::uint64_t now_lost = current_expected() > received_ ? current_expected() - received_ : 0;
    return done_lost_ + now_lost;
  }

 private:
  static constexpr std::uint32_t kMaxDropout = 3000;
  static constexpr std::uint32_t kMaxMisorder = 100;

  [[nodiscard]] std::uint64_t current_expected() const {
    return active_ ? std::uint64_t{cycles_} + max_seq_ - base_ + 1 : 0;
  }

  void restart(std::uint32_t ssrc, std::uint16_t seq) {
    if (active_) {
      const auto e = current_expected();
      done_expected_ += e;
      done_received_ += received_;
      done_lost_ += e > received_ ? e - received_ : 0;
    }
    active_ = true;
    ssrc_ = ssrc;
    base_ = seq;
    max_seq_ = seq;
    cycles_ = 0;
    received_ = 1;
  }

  bool active_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint16_t max_seq_ = 0;
  std::uint32_t base_ = 0;
  std::uint64_t cycles_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t done_expected_ = 0;
  std::uint64_t done_received_ = 0;
  std::uint64_t done_lost_ = 0;
};

}  // namespace sipsite::media::detail
