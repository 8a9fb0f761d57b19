#pragma once
// The SIP core's Random from OpenSSL's CSPRNG: branch parameters, tags and
// Call-IDs must not be guessable by other hosts.
//
// Drawn in blocks: each RAND_bytes call costs a DRBG round and, in OpenSSL
// 3, a getpid() for fork detection (together ~3 % of the SIP thread at a
// federation link's maximum call rate, several tokens per call). A block of
// 512 bytes serves 64 values; what is unused sits in this object only, like
// the DRBG's own state, and the daemon never forks after start.
// Threading: one thread (the SIP strand).

#include <sipsite/sip/io.hpp>

#include <openssl/rand.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>

namespace sipsite::app {

class OpenSslRandom final : public sip::Random {
 public:
  std::uint64_t next() override {
    if (used_ == block_.size()) refill();
    return block_[used_++];
  }

 private:
  void refill() {
    used_ = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(block_.data()), sizeof block_) == 1) return;
    // OpenSSL's generator failing is near impossible; the kernel's is next best.
    std::random_device rd;
    for (auto& v : block_) v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }

  std::array<std::uint64_t, 64> block_{};
  std::size_t used_ = block_.size();
};

}  // namespace sipsite::app
