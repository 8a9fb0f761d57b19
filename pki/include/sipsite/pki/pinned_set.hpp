#pragma once
// The set of pinned peer certificates (fingerprint -> PinnedPeer), as a
// value that is cheap to copy and to change at the scale of 10,000 peers.
//
// Sixty-four shards by the fingerprint's first byte (SHA-256: spread
// evenly), each an immutable map shared between copies. Copying the set
// copies 64 pointers; a change copies the one shard it touches (about 1/64
// of the pins) unless this set is its only holder. The daemon publishes a
// new set on every trust change (handshakes in flight keep the set they
// started with), so a change costs one shard, not a copy of every pin
// (2.5 ms per change at 10,000 pins before, issue 18).
//
// A set is not thread-safe to change; copies of it may be read, and
// changed, on other threads (a shard is never changed while shared).

#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/fingerprint.hpp>

#include <array>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace sipsite::pki {

// One pinned peer certificate: the domain it is pinned for and, when known,
// the certificate itself (needed to verify a key-rotation proof signed by
// its key; without it, rotations from this pin are not recognised).
struct PinnedPeer {
  PinnedPeer() = default;
  PinnedPeer(std::string d) : domain(std::move(d)) {}  // NOLINT(google-explicit-constructor): {{fp, "domain"}}
  PinnedPeer(const char* d) : domain(d) {}             // NOLINT(google-explicit-constructor)
  PinnedPeer(std::string d, std::shared_ptr<const Certificate> c) : domain(std::move(d)), certificate(std::move(c)) {}

  std::string domain;
  std::shared_ptr<const Certificate> certificate;
  // Or its PEM, parsed only when a rotation proof needs it: a site with
  // 10,000 pins does not parse 10,000 certificates to start (OpenSSL 3
  // takes about a millisecond each) nor keep them parsed (issue 18).
  // Shared: copying a shard copies no PEMs.
  std::shared_ptr<const std::string> certificate_pem;
  // A pin kept only for the overlap after a rotation: still accepted, but
  // not a source of further rotations (those come from the current pin).
  bool superseded = false;

  // `certificate`, or `certificate_pem` parsed now; null when neither.
  std::shared_ptr<const Certificate> parsed_certificate() const;
};

class PinnedSet {
 public:
  PinnedSet();
  PinnedSet(std::initializer_list<std::pair<const Fingerprint, PinnedPeer>> pins);

  // The pin for `fp`, or null.
  [[nodiscard]] const PinnedPeer* find(const Fingerprint& fp) const;
  [[nodiscard]] bool contains(const Fingerprint& fp) const { return find(fp) != nullptr; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

  // Adds `peer` unless `fp` is pinned already; true when added.
  bool emplace(const Fingerprint& fp, PinnedPeer peer);
  void insert_or_assign(const Fingerprint& fp, PinnedPeer peer);
  // True when `fp` was pinned.
  bool erase(const Fingerprint& fp);

  // Calls f(fingerprint, pin) for every pin (shard by shard; in fingerprint
  // order within a shard).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& shard : shards_) {
      for (const auto& [fp, peer] : *shard) f(fp, peer);
    }
  }

 private:
  using Shard = std::map<Fingerprint, PinnedPeer>;
  static constexpr std::size_t kShards = 64;
  static std::size_t shard_of(const Fingerprint& fp) { return fp.bytes()[0] % kShards; }
  // The shard of `fp`, copied first when another set shares it.
  Shard& writable(const Fingerprint& fp);

  std::array<std::shared_ptr<Shard>, kShards> shards_;
  std::size_t size_ = 0;
};

}  // namespace sipsite::pki
