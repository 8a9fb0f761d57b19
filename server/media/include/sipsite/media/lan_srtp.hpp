#pragma once
// SDES-SRTP (RFC 4568) on the leg between the relay and a phone of the site.
//
// The relay terminates a phone's SDES-SRTP on the phone's own leg: the
// phone's a=crypto key decrypts what it sends, a key of the relay's own (in
// the SDP the relay sends to that phone) encrypts what it receives. Keys
// never cross to the other side: the other phone, or the peer site, gets
// the relay's own choice for its leg (media.lan_srtp there). So on the LAN
// a phone's media is as protected as the phone allows, between sites it is
// always the relays' SRTP (inter_site_cipher.hpp), and the sites that relay
// a call can hear it unless the phones encrypt end to end (DTLS-SRTP, ZRTP),
// which the relay passes through untouched. Passing SDES keys through would
// not change that: they travel in the signalling both sites read.
//
// The setting, per site (media.lan_srtp):
//   off:     plain RTP with phones; a phone that insists on SRTP (RTP/SAVP)
//            is refused (488), a best-effort a=crypto is ignored;
//   offer:   (the default) a phone that offers SRTP gets it; calls to phones
//            are offered best-effort SRTP (RTP/AVP with a=crypto, as SDES
//            phones commonly offer it), which a phone without SRTP ignores;
//   require: phones must use SRTP (or encrypt end to end): calls to phones
//            are offered RTP/SAVP, a phone's plain offer is refused (488).
//
// Suites: AES_CM_128_HMAC_SHA1_80 (what the relay offers: every SDES phone
// has it), AES_CM_128_HMAC_SHA1_32 and AEAD_AES_128_GCM from phones. Keys
// with an MKI or session parameters are not accepted (the next a=crypto line
// of the phone's is tried).
//
// Threading: one leg is used by one thread (the relay's).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipsite::media {

enum class LanSrtp : std::uint8_t { off, offer, require };
[[nodiscard]] std::optional<LanSrtp> lan_srtp_from_string(std::string_view s);
[[nodiscard]] std::string_view to_string(LanSrtp mode) noexcept;

// One a=crypto line (the value after "crypto:") the relay can use.
struct CryptoOffer {
  std::string tag;                // 1-9 digits
  std::string suite;              // a supported suite name
  std::vector<std::uint8_t> key;  // master key || master salt, the suite's length
};
// Nullopt for an unsupported suite, a malformed line, an MKI, a key of the
// wrong length, or session parameters.
[[nodiscard]] std::optional<CryptoOffer> parse_crypto(std::string_view value);

// What happened to a packet on an SRTP leg.
enum class LegResult : std::uint8_t { ok, not_keyed, failed, replayed };

class SdesLeg {
 public:
  // A leg with a fresh key of the relay's for `suite` (one parse_crypto
  // accepts); null if the suite is unknown or no key could be made.
  [[nodiscard]] static std::unique_ptr<SdesLeg> create(std::string_view suite);
  ~SdesLeg();
  SdesLeg(const SdesLeg&) = delete;
  SdesLeg& operator=(const SdesLeg&) = delete;

  [[nodiscard]] const std::string& suite() const;
  // The phone's key (from its SDP); the same key again keeps the replay
  // window. False if libsrtp refuses it.
  [[nodiscard]] bool set_phone_key(const CryptoOffer& offer);
  [[nodiscard]] bool keyed() const;
  // The a=crypto value the relay sends to the phone, with `tag`.
  [[nodiscard]] std::string attribute(std::string_view tag) const;

  // Decrypts what the phone sent, in place (`n` updated). RTP and RTCP are
  // told apart by the caller (RFC 5761 or the port).
  [[nodiscard]] LegResult unprotect(unsigned char* packet, std::size_t& n, bool rtcp);
  // Encrypts for the phone, in place: `packet` needs room for `n` plus
  // kTunnelTrailer bytes. Packets that are not RTP/RTCP (STUN, ...) must
  // not be passed.
  [[nodiscard]] LegResult protect(unsigned char* packet, std::size_t& n, bool rtcp);

  struct Impl;

 private:
  explicit SdesLeg(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// m= profiles: RTP/SAVP(F) <-> RTP/AVP(F). Other profiles (UDP/TLS/...)
// are returned as they are.
[[nodiscard]] std::string plain_profile(std::string_view proto);
[[nodiscard]] std::string secure_profile(std::string_view proto);
[[nodiscard]] bool is_sdes_profile(std::string_view proto);  // RTP/SAVP or RTP/SAVPF

}  // namespace sipsite::media
