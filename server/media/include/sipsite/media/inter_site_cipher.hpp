#pragma once
// The protection of the media leg between two sites' relays (DESIGN.md,
// threat model 8): every datagram a relay forwards to the peer site's relay
// is carried inside an SRTP packet of the relay's own, sealed with
// AEAD_AES_128_GCM (RFC 7714) by libsrtp2, and every datagram it accepts
// from the peer relay must open under the peer's key.
//
// Why encapsulate rather than protect the phones' packets as they are: what
// the phones send is not always RTP (RTCP, STUN, DTLS handshakes, ZRTP
// messages), and their RTP headers carry the phones' SSRCs and timing. One
// tunnel packet per datagram covers all of it the same way: an observer
// between the sites sees one SSRC per direction chosen by the relay, a
// sequence number, and ciphertext. Phones' own SRTP (DTLS-SRTP, ZRTP, SDES)
// rides inside untouched.
//
// Why AES-GCM: one pass encrypts and authenticates (AES-NI through the
// library's crypto backend), a 16-byte tag, and no separate HMAC key;
// RFC 7714 makes it an SRTP profile in its own right. Both ends are sipsite,
// so no negotiation with other stacks is needed; the suite is named in the
// SDP attribute so that a later version can add another.
//
// Keys: each relay makes a fresh random key (16-byte master key, 12-byte
// salt) per stream for what it sends, and tells the peer relay in the SDP
// carried over the pinned, mutually authenticated federation link:
//   a=sipsite-srtp:AEAD_AES_128_GCM inline:<base64 of the 28 bytes>
// so only the pinned peer site learns it, and the two directions of a call
// never share a key. libsrtp's replay window (1024 packets) drops replays.
//
// Tunnel packet: a 12-byte RTP header (V=2, PT 127, the relay's SSRC and
// sequence number, timestamp 0), the original datagram as payload, the GCM
// tag. Sealing writes the header in the kTunnelHeader bytes in front of the
// datagram and the tag after it, so the caller keeps that room free.
//
// Threading: one cipher is used by one thread (the relay's).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sipsite::media {

inline constexpr std::string_view kInterSiteAttribute = "sipsite-srtp";
inline constexpr std::string_view kInterSiteSuite = "AEAD_AES_128_GCM";
// Room a sealed packet needs around the datagram it carries.
inline constexpr std::size_t kTunnelHeader = 12;
inline constexpr std::size_t kTunnelTrailer = 160;  // libsrtp's SRTP_MAX_TRAILER_LEN (tag + MKI), rounded up

class InterSiteKey {
 public:
  static constexpr std::size_t kSize = 28;  // 16-byte master key + 12-byte master salt

  // A fresh key from OpenSSL's CSPRNG; nullopt only if that fails.
  [[nodiscard]] static std::optional<InterSiteKey> generate();
  // The value of the SDP attribute after "sipsite-srtp:"; nullopt for an
  // unknown suite or a key that is not exactly kSize bytes of base64.
  [[nodiscard]] static std::optional<InterSiteKey> from_attribute(std::string_view value);
  [[nodiscard]] std::string to_attribute() const;  // "AEAD_AES_128_GCM inline:..."

  [[nodiscard]] const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  friend bool operator==(const InterSiteKey&, const InterSiteKey&) = default;

 private:
  std::array<std::uint8_t, kSize> bytes_{};
};

// Why open() refused a packet.
enum class OpenResult : std::uint8_t {
  ok,
  not_keyed,    // the peer's key is not known yet (its SDP has not arrived)
  malformed,    // too short or not a tunnel packet
  auth_failed,  // forged, tampered with, or under another key
  replayed,     // a sequence number already received (or too old for the window)
};

class InterSiteCipher {
 public:
  // `send_key` seals what this relay sends. Null when libsrtp refuses the
  // key (it does not for a well-formed one).
  [[nodiscard]] static std::unique_ptr<InterSiteCipher> create(const InterSiteKey& send_key);
  ~InterSiteCipher();
  InterSiteCipher(const InterSiteCipher&) = delete;
  InterSiteCipher& operator=(const InterSiteCipher&) = delete;

  // The key the peer relay seals with. A new key (a re-INVITE may bring one)
  // starts a new receiver; the same key again keeps the replay window.
  // False if libsrtp refuses it.
  [[nodiscard]] bool set_peer_key(const InterSiteKey& key);
  [[nodiscard]] bool keyed() const;
  [[nodiscard]] const InterSiteKey& send_key() const;

  // Seals the datagram at packet[kTunnelHeader, kTunnelHeader + n). `packet`
  // must have room for kTunnelHeader + n + kTunnelTrailer bytes. Returns the
  // sealed length, or 0 if sealing failed (the datagram must not be sent).
  [[nodiscard]] std::size_t seal(unsigned char* packet, std::size_t n);

  // Opens a sealed packet of `n` bytes in place. On ok, the datagram it
  // carried is packet[kTunnelHeader, kTunnelHeader + *inner).
  [[nodiscard]] OpenResult open(unsigned char* packet, std::size_t n, std::size_t& inner);

  struct Impl;

 private:
  explicit InterSiteCipher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

[[nodiscard]] std::string_view to_string(OpenResult r) noexcept;

}  // namespace sipsite::media
