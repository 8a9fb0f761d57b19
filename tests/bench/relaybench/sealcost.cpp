// sealcost: what sealing and opening one tunnel packet costs the relay
// (media::InterSiteCipher: AEAD_AES_128_GCM by libsrtp2, on Debian its NSS
// backend), as a function of how many other inter-site ciphers are alive in
// the process (a relay holds one per stream of every call with another
// site), beside OpenSSL's EVP AES-128-GCM with a context kept per key.
// For docs/BENCHMARKS.md ("Media relay, inter-site SRTP"); built with the
// tests so that it does not rot, never run by ctest.
//
// Usage: sealcost [OTHERS...]   (default: 0 250 500 1000 2000)
// Prints one line per OTHERS: ns per seal and per open of a 172-byte
// datagram (an RTP packet of 20 ms of PCMU), mean over 100,000 packets.

#include "sipsite/media/inter_site_cipher.hpp"

#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

namespace media = sipsite::media;
using Clock = std::chrono::steady_clock;

constexpr int kPackets = 100000;
constexpr std::size_t kDatagram = 172;

double ns(Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }

int fail(const char* what) {
  std::fprintf(stderr, "sealcost: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> counts;
  for (int i = 1; i < argc; ++i) counts.push_back(std::atoi(argv[i]));
  if (counts.empty()) counts = {0, 250, 500, 1000, 2000};

  std::vector<std::unique_ptr<media::InterSiteCipher>> others;
  for (const int want : counts) {
    // Other streams' ciphers, each with its own key and a peer key, as the
    // relay has them.
    while (static_cast<int>(others.size()) < want) {
      const auto k = media::InterSiteKey::generate();
      const auto p = media::InterSiteKey::generate();
      auto c = k ? media::InterSiteCipher::create(*k) : nullptr;
      if (!c || !p || !c->set_peer_key(*p)) return fail("no cipher");
      others.push_back(std::move(c));
    }
    const auto ka = media::InterSiteKey::generate();
    const auto kb = media::InterSiteKey::generate();
    if (!ka || !kb) return fail("no key");
    auto a = media::InterSiteCipher::create(*ka);
    auto b = media::InterSiteCipher::create(*kb);
    if (!a || !b || !b->set_peer_key(*ka)) return fail("no cipher");
    std::vector<unsigned char> buf(media::kTunnelHeader + kDatagram + media::kTunnelTrailer);
    double seal = 0;
    double open = 0;
    for (int i = 0; i < kPackets; ++i) {
      std::memset(buf.data() + media::kTunnelHeader, 0xff, kDatagram);
      const auto t0 = Clock::now();
      const std::size_t n = a->seal(buf.data(), kDatagram);
      const auto t1 = Clock::now();
      std::size_t inner = 0;
      if (n == 0 || b->open(buf.data(), n, inner) != media::OpenResult::ok || inner != kDatagram)
        return fail("a packet did not open");
      const auto t2 = Clock::now();
      seal += ns(t1 - t0);
      open += ns(t2 - t1);
    }

    // OpenSSL EVP AES-128-GCM, one context per direction and key, a new IV
    // per packet, a 12-byte AAD (the tunnel header) and a 16-byte tag.
    std::array<unsigned char, 16> key{};
    std::array<unsigned char, 12> iv{};
    std::array<unsigned char, 12> aad{};
    std::array<unsigned char, 16> tag{};
    std::vector<unsigned char> plain(kDatagram + 16, 0xff);
    std::vector<unsigned char> cipher(kDatagram + 16);
    EVP_CIPHER_CTX* e = EVP_CIPHER_CTX_new();
    EVP_CIPHER_CTX* d = EVP_CIPHER_CTX_new();
    if (e == nullptr || d == nullptr || EVP_EncryptInit_ex(e, EVP_aes_128_gcm(), nullptr, key.data(), nullptr) != 1 ||
        EVP_DecryptInit_ex(d, EVP_aes_128_gcm(), nullptr, key.data(), nullptr) != 1)
      return fail("no EVP context");
    double evp_seal = 0;
    double evp_open = 0;
    for (int i = 0; i < kPackets; ++i) {
      iv[11] = static_cast<unsigned char>(i);
      iv[10] = static_cast<unsigned char>(i >> 8);
      int len = 0;
      int fin = 0;
      const auto t0 = Clock::now();
      bool ok = EVP_EncryptInit_ex(e, nullptr, nullptr, nullptr, iv.data()) == 1 &&
                EVP_EncryptUpdate(e, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
                EVP_EncryptUpdate(e, cipher.data(), &len, plain.data(), static_cast<int>(kDatagram)) == 1 &&
                EVP_EncryptFinal_ex(e, cipher.data() + len, &fin) == 1 &&
                EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
      const auto t1 = Clock::now();
      ok = ok && EVP_DecryptInit_ex(d, nullptr, nullptr, nullptr, iv.data()) == 1 &&
           EVP_DecryptUpdate(d, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
           EVP_DecryptUpdate(d, plain.data(), &len, cipher.data(), static_cast<int>(kDatagram)) == 1 &&
           EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
           EVP_DecryptFinal_ex(d, plain.data() + len, &fin) == 1;
      const auto t2 = Clock::now();
      if (!ok) return fail("EVP failed");
      evp_seal += ns(t1 - t0);
      evp_open += ns(t2 - t1);
    }
    EVP_CIPHER_CTX_free(e);
    EVP_CIPHER_CTX_free(d);
    std::printf("others=%d inter_site_seal_ns=%.0f inter_site_open_ns=%.0f evp_gcm_seal_ns=%.0f evp_gcm_open_ns=%.0f\n",
                want, seal / kPackets, open / kPackets, evp_seal / kPackets, evp_open / kPackets);
    std::fflush(stdout);
  }
  return 0;
}
