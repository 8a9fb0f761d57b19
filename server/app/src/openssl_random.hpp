#pragma once
// The SIP core's Random from OpenSSL's CSPRNG: branch parameters, tags and
// Call-IDs must not be guessable by other hosts.

#include <sipsite/sip/io.hpp>

#include <openssl/rand.h>

#include <random>

namespace sipsite::app {

class OpenSslRandom final : public sip::Random {
 public:
  std::uint64_t next() override {
    std::uint64_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) == 1) return v;
    // OpenSSL's generator failing is near impossible; the kernel's is next best.
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
};

}  // namespace sipsite::app
