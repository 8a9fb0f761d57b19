#pragma once
// The site's private key: ECDSA on P-256.

#include <sipsite/pki/error.hpp>

#include <memory>
#include <string>
#include <string_view>

using EVP_PKEY = struct evp_pkey_st;

namespace sipsite::pki {

class PrivateKey {
 public:
  // A fresh P-256 key from OpenSSL's CSPRNG.
  static Result<PrivateKey> generate_p256();
  // Unencrypted PKCS#8 PEM, as to_pem() writes it. Only P-256 EC keys are
  // accepted.
  static Result<PrivateKey> from_pem(std::string_view pem);

  // Unencrypted PKCS#8 PEM. The caller must keep it secret (it is stored only
  // inside the encrypted database); the returned string is plain memory.
  std::string to_pem() const;
  // SubjectPublicKeyInfo PEM of the public half.
  std::string public_pem() const;

  EVP_PKEY* native() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  explicit PrivateKey(EVP_PKEY* k) : key_(k) {}
  std::unique_ptr<EVP_PKEY, Free> key_;
};

}  // namespace sipsite::pki
