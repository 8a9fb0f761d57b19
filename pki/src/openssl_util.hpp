#pragma once
// Private helpers shared by the pki sources: RAII for OpenSSL handles and the
// conversion of OpenSSL's error queue into an Error.

#include <sipsite/pki/error.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <span>
#include <cstdint>
#include <string>
#include <string_view>

namespace sipsite::pki::detail {

template <auto Fn>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// A read-only memory BIO over `data` (which must outlive it).
BioPtr memory_bio(std::string_view data);
std::string drain_bio(BIO* bio);

// Empties OpenSSL's thread-local error queue and returns an Error naming
// `what` and the first queued reason.
Error openssl_error(Errc code, std::string_view what);
void clear_openssl_errors();

// Adds the key-rotation proof extension (rotation_proof.cpp) to `cert`,
// non-critical, its value a DER OCTET STRING holding `payload`.
bool add_rotation_proof_extension(X509* cert, std::span<const std::uint8_t> payload);

}  // namespace sipsite::pki::detail
