#include <sipsite/pki/private_key.hpp>

#include "openssl_util.hpp"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <cstring>

namespace sipsite::pki {

using namespace detail;

void PrivateKey::Free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

Result<PrivateKey> PrivateKey::generate_p256() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) return openssl_error(Errc::openssl_failure, "cannot generate a P-256 key");
  return PrivateKey(key);
}

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem) {
  BioPtr bio = memory_bio(pem);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) return openssl_error(Errc::bad_key, "not a PEM private key");
  PrivateKey key(raw);
  char curve[64] = {};
  std::size_t len = 0;
  if (!EVP_PKEY_is_a(raw, "EC") ||
      EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) != 1 ||
      std::strcmp(curve, "prime256v1") != 0) {
    clear_openssl_errors();
    return Error{Errc::bad_key, "private key is not an ECDSA P-256 key"};
  }
  return key;
}

std::string PrivateKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return drain_bio(bio.get());
}

std::string PrivateKey::public_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return drain_bio(bio.get());
}

}  // namespace sipsite::pki
