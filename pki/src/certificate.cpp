#include <sipsite/pki/certificate.hpp>
#include <sipsite/pki/domain_name.hpp>

#include "openssl_util.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace sipsite::pki {

using namespace detail;

namespace {

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

// One PEM block, as PEM_read_bio hands it out.
struct PemBlock {
  std::string name;
  std::vector<std::uint8_t> data;
};

// Reads every PEM block in `text`. An empty vector means none was found; a
// block whose base64 does not decode is an error.
// At most max_blocks + 1 are read (so that the caller sees "too many").
Result<std::vector<PemBlock>> read_pem_blocks(std::string_view text, std::size_t max_blocks = 16) {
  BioPtr bio = memory_bio(text);
  std::vector<PemBlock> blocks;
  while (blocks.size() <= max_blocks) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      const unsigned long err = ERR_peek_last_error();
      clear_openssl_errors();
      if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE || err == 0) break;
      return Error{Errc::not_pem, "PEM block is damaged (bad base64 or missing END line)"};
    }
    blocks.push_back({name, std::vector<std::uint8_t>(data, data + len)});
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  return blocks;
}

bool is_certificate_block(std::string_view name) {
  return name == "CERTIFICATE" || name == "X509 CERTIFICATE" || name == "TRUSTED CERTIFICATE";
}

Clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return Clock::time_point{};
  return Clock::from_time_t(timegm(&tm));
}

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

CertificateOptions CertificateOptions::valid_for_days(std::string domain, int days, Clock::time_point now) {
  return CertificateOptions{std::move(domain), now - std::chrono::hours(1), now + std::chrono::hours(24) * days};
}

void Certificate::Free::operator()(X509* x) const { X509_free(x); }

Result<Certificate> Certificate::self_signed(const PrivateKey& key, const CertificateOptions& options) {
  if (!is_valid_domain_name(options.domain)) {
    return Error{Errc::bad_domain, "'" + options.domain + "' is not a valid domain name"};
  }
  if (options.not_after <= options.not_before) {
    return Error{Errc::openssl_failure, "certificate validity ends before it starts"};
  }
  Certificate cert(X509_new());
  X509* x = cert.native();
  const auto fail = [] { return openssl_error(Errc::openssl_failure, "cannot build the site certificate"); };
  if (x == nullptr || X509_set_version(x, X509_VERSION_3) != 1) return fail();

  // RFC 5280 §4.1.2.2: positive, at most 20 octets. 128 random bits, never 0.
  std::array<unsigned char, 16> serial_bytes{};
  do {
    if (RAND_bytes(serial_bytes.data(), serial_bytes.size()) != 1) return fail();
  } while (std::all_of(serial_bytes.begin(), serial_bytes.end(), [](unsigned char b) { return b == 0; }));
  BignumPtr serial(BN_bin2bn(serial_bytes.data(), serial_bytes.size(), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr) return fail();

  X509_NAME* name = X509_get_subject_name(x);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(options.domain.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, name) != 1) {
    return fail();
  }
  if (ASN1_TIME_set(X509_getm_notBefore(x), Clock::to_time_t(options.not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), Clock::to_time_t(options.not_after)) == nullptr ||
      X509_set_pubkey(x, key.native()) != 1) {
    return fail();
  }
  // The subject key identifier must exist before the authority key
  // identifier, which copies it from the (same) issuer certificate.
  if (!add_extension(x, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(x, NID_key_usage, "critical,digitalSignature") ||
      !add_extension(x, NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_extension(x, NID_subject_alt_name, "DNS:" + options.domain) ||
      !add_extension(x, NID_subject_key_identifier, "hash") ||
      !add_extension(x, NID_authority_key_identifier, "keyid:always")) {
    return fail();
  }
  if (!options.rotation_proof.empty() && !detail::add_rotation_proof_extension(x, options.rotation_proof)) {
    return fail();
  }
  if (X509_sign(x, key.native(), EVP_sha256()) == 0) return fail();
  return cert;
}

Result<Certificate> Certificate::from_der(std::span<const std::uint8_t> der) {
  const unsigned char* p = der.data();
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) return openssl_error(Errc::not_pem, "the certificate does not decode as X.509");
  Certificate cert(raw);
  if (p != der.data() + der.size()) {
    return Error{Errc::not_pem, "the certificate has trailing bytes after its DER encoding"};
  }
  return cert;
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  auto blocks = read_pem_blocks(pem);
  if (!blocks) return blocks.error();
  const PemBlock* found = nullptr;
  std::size_t certificates = 0;
  for (const PemBlock& block : *blocks) {
    if (block.name.find("PRIVATE KEY") != std::string::npos) {
      return Error{Errc::private_key_not_certificate,
                   "this is a private key, not a certificate: never send or paste a private key; "
                   "ask the other site for its certificate (sipsite cert)"};
    }
    if (!is_certificate_block(block.name)) {
      return Error{Errc::not_pem, "expected a CERTIFICATE block, found '" + block.name + "'"};
    }
    found = &block;
    ++certificates;
  }
  if (certificates == 0) {
    return Error{Errc::not_pem, "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)"};
  }
  if (certificates > 1) {
    return Error{Errc::multiple_certificates,
                 "found " + std::to_string(certificates) +
                     " certificates (a chain): a site is identified by exactly one self-signed certificate"};
  }
  return from_der(found->data);
}

Certificate Certificate::from_native(X509* x) {
  X509_up_ref(x);
  return Certificate(x);
}

std::string Certificate::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert_.get());
  return drain_bio(bio.get());
}

std::vector<std::uint8_t> Certificate::to_der() const {
  const int len = i2d_X509(cert_.get(), nullptr);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509(cert_.get(), &p);
  return der;
}

Fingerprint Certificate::fingerprint() const { return Fingerprint::of_der(to_der()); }

std::string Certificate::domain() const {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert_.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = gn->d.dNSName;
      const std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                   static_cast<std::size_t>(ASN1_STRING_length(dns)));
      if (is_valid_domain_name(value)) return lowercase_domain(value);
    }
  }
  X509_NAME* subject = X509_get_subject_name(cert_.get());
  const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    const std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                                 static_cast<std::size_t>(ASN1_STRING_length(cn)));
    if (is_valid_domain_name(value)) return lowercase_domain(value);
  }
  clear_openssl_errors();
  return {};
}

Clock::time_point Certificate::not_before() const { return to_time_point(X509_get0_notBefore(cert_.get())); }
Clock::time_point Certificate::not_after() const { return to_time_point(X509_get0_notAfter(cert_.get())); }

Result<void> Certificate::check_validity(Clock::time_point now) const {
  if (now < not_before()) {
    return Error{Errc::not_yet_valid,
                 "certificate is not valid before " + format_time(not_before()) + " (check both sites' clocks)"};
  }
  if (now > not_after()) {
    return Error{Errc::expired, "certificate expired on " + format_time(not_after()) +
                                    "; the other site must rotate its key (sipsite rotate-key)"};
  }
  return {};
}

bool Certificate::matches(const PrivateKey& key) const {
  const bool ok = X509_check_private_key(cert_.get(), key.native()) == 1;
  clear_openssl_errors();
  return ok;
}

bool Certificate::is_self_signed() const {
  const bool ok = X509_self_signed(cert_.get(), 1) == 1;
  clear_openssl_errors();
  return ok;
}

Result<Certificate> parse_peer_certificate(std::string_view pem, Clock::time_point now) {
  auto cert = Certificate::from_pem(pem);
  if (!cert) return cert;
  if (auto valid = cert->check_validity(now); !valid) return valid.error();
  if (cert->domain().empty()) {
    return Error{Errc::no_domain, "certificate names no valid DNS domain (neither subjectAltName nor CN)"};
  }
  return cert;
}

Result<std::vector<Certificate>> parse_peer_certificates(std::string_view pem, Clock::time_point now) {
  auto blocks = read_pem_blocks(pem, kMaxBundleCertificates);
  if (!blocks) return blocks.error();
  if (blocks->size() > kMaxBundleCertificates) {
    return Error{Errc::multiple_certificates,
                 "more than " + std::to_string(kMaxBundleCertificates) + " certificates: split the bundle"};
  }
  std::vector<Certificate> out;
  out.reserve(blocks->size());
  for (const PemBlock& block : *blocks) {
    if (block.name.find("PRIVATE KEY") != std::string::npos) {
      return Error{Errc::private_key_not_certificate,
                   "the bundle holds a private key: never send or paste a private key; only certificates belong "
                   "in it"};
    }
    const std::string which = "certificate " + std::to_string(out.size() + 1) + ": ";
    if (!is_certificate_block(block.name)) {
      return Error{Errc::not_pem, which + "expected a CERTIFICATE block, found '" + block.name + "'"};
    }
    auto cert = Certificate::from_der(block.data);
    if (!cert) return Error{cert.error().code, which + cert.error().message};
    if (auto valid = cert->check_validity(now); !valid) return Error{valid.error().code, which + valid.error().message};
    if (cert->domain().empty()) {
      return Error{Errc::no_domain, which + "names no valid DNS domain (neither subjectAltName nor CN)"};
    }
    out.push_back(std::move(*cert));
  }
  if (out.empty()) return Error{Errc::not_pem, "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)"};
  return out;
}

namespace {
std::tm utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string format_time(Clock::time_point t) {
  const std::tm tm = utc(Clock::to_time_t(t));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string iso8601(std::int64_t unix_seconds) {
  const std::tm tm = utc(static_cast<std::time_t>(unix_seconds));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sipsite::pki
