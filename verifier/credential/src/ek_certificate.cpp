#include "attest/verifier/ek_certificate.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "attest/tpm/public_key.h"

#include "ek_certificate_info.h"
#include "ek_revocation.h"

namespace attest::verifier {
namespace {

using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslDeleter<X509_STORE_CTX_free>>;

// Critical-extension policy. OpenSSL processes subjectAltName (critical in
// EK certificates whose subject is empty, with a directoryName of TPM
// attributes), basicConstraints, keyUsage and extendedKeyUsage (the TCG
// EK OID 2.23.133.8.1 is fine under purpose "any"). What it does not
// process is subjectDirectoryAttributes (2.5.29.9, TPM security
// assertions in the TCG EK Credential Profile), which some manufacturers
// mark critical. Rather than X509_V_FLAG_IGNORE_CRITICAL (which would also
// accept any unknown critical extension, on CAs too), the verify callback
// below forgives X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION only on the EK
// certificate itself (depth 0) and only when every critical extension
// OpenSSL does not handle is on this list.
constexpr std::array<std::string_view, 1> kToleratedCriticalExtensions = {
    "2.5.29.9",  // subjectDirectoryAttributes
};

std::string ObjectId(const ASN1_OBJECT* object) {
  std::array<char, 128> text{};
  int length = OBJ_obj2txt(text.data(), static_cast<int>(text.size()), object, 1);
  return length > 0 ? std::string(text.data()) : std::string();
}

bool OnlyToleratedUnhandledCriticalExtensions(const X509* certificate) {
  for (int i = 0; i < X509_get_ext_count(certificate); ++i) {
    X509_EXTENSION* extension = X509_get_ext(certificate, i);
    if (X509_EXTENSION_get_critical(extension) == 0 || X509_supported_extension(extension) == 1) {
      continue;
    }
    const std::string oid = ObjectId(X509_EXTENSION_get_object(extension));
    bool tolerated = false;
    for (std::string_view known : kToleratedCriticalExtensions) tolerated |= oid == known;
    if (!tolerated) return false;
  }
  return true;
}

int ToleratingTcgExtensions(int ok, X509_STORE_CTX* context) {
  if (ok == 1) return ok;
  if (X509_STORE_CTX_get_error(context) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION ||
      X509_STORE_CTX_get_error_depth(context) != 0) {
    return ok;
  }
  return OnlyToleratedUnhandledCriticalExtensions(X509_STORE_CTX_get_current_cert(context)) ? 1
                                                                                            : ok;
}

Result<X509Ptr> ParseCertificateDer(ByteView der) {
  const unsigned char* cursor = der.data();
  X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!certificate) return OpensslError("EK certificate is not DER X.509", ErrorCode::kCorrupt);
  if (cursor != der.data() + der.size()) {
    return MakeError(ErrorCode::kCorrupt,
                     "EK certificate has " + std::to_string(der.data() + der.size() - cursor) +
                         " bytes after its DER encoding (NV padding must be trimmed)");
  }
  return certificate;
}

Status CheckCertifiesEk(X509* certificate, ByteView ek_public) {
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC ek,
                          std::move(tpm::ParsePublic(ek_public)).WithContext("EK"));
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr ek_key,
                          std::move(tpm::PublicKeyFromTpm(ek.publicArea)).WithContext("EK"));
  EVP_PKEY* certified = X509_get0_pubkey(certificate);
  if (certified == nullptr) {
    return OpensslError("EK certificate public key", ErrorCode::kCorrupt);
  }
  // EVP_PKEY_eq compares key material (RSA n and e; EC group and point),
  // not encodings: 1 only for the same key.
  if (EVP_PKEY_eq(certified, ek_key.get()) != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kVerificationFailed,
                     "EK certificate certifies another key than the EK presented; the "
                     "certificate and ek_public must be read from the same TPM and EK profile");
  }
  return OkStatus();
}

Status VerifyChain(X509* certificate, const EkCaBundle& bundle, TimePoint now) {
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), bundle.store(), certificate, nullptr) != 1) {
    return OpensslError("EK certificate verification context");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_ANY);
  X509_STORE_CTX_set_verify_cb(context.get(), ToleratingTcgExtensions);
  if (X509_verify_cert(context.get()) == 1) {
    // OpenSSL's own CRL check is off: it would fail every issuer without a
    // CRL. The bundle's CRLs are applied per issuer on the verified chain.
    return internal::CheckChainRevocation(X509_STORE_CTX_get0_chain(context.get()), bundle.crls(),
                                          now);
  }

  const int error = X509_STORE_CTX_get_error(context.get());
  const std::string reason = X509_verify_cert_error_string(error);
  ERR_clear_error();
  const int depth = X509_STORE_CTX_get_error_depth(context.get());
  if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) {
    return MakeError(ErrorCode::kVerificationFailed,
                     (depth == 0 ? std::string("EK certificate")
                                 : "TPM CA certificate at depth " + std::to_string(depth) +
                                       " of the EK certificate's chain") +
                         " is not valid at " + FormatRfc3339Utc(now) + ": " + reason);
  }
  return MakeError(ErrorCode::kVerificationFailed,
                   "EK certificate does not chain to the configured TPM CA bundle (" +
                       bundle.path() + "): " + reason + " at depth " + std::to_string(depth) +
                       "; add the TPM manufacturer's root and intermediate CA certificates "
                       "to the bundle if this TPM is trusted");
}

// TCG EK Credential Profile: an EK certificate is an end-entity
// certificate whose keyUsage extension (required there) gives the EK's one
// use: keyEncipherment for an RSA EK (the credential seed is RSA-OAEP
// encrypted to it), keyAgreement for an ECC EK (the seed is ECDH-derived).
// A leaf that is a CA, or whose key may sign certificates or CRLs, is
// refused even if it certifies the EK: an EK is a restricted decryption
// key, so such a certificate was not issued as an EK certificate, and
// OpenSSL treats keyCertSign without basicConstraints as a CA.
Status CheckEkPurpose(X509* certificate) {
  const std::uint32_t flags = X509_get_extension_flags(certificate);
  if ((flags & EXFLAG_INVALID) != 0) {
    return MakeError(ErrorCode::kCorrupt, "EK certificate has an extension that does not decode");
  }
  if ((flags & EXFLAG_CA) != 0) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "EK certificate is a CA certificate (basicConstraints cA TRUE); an EK "
                     "certificate must be an end-entity certificate");
  }
  if ((flags & EXFLAG_KUSAGE) == 0) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "EK certificate has no keyUsage extension; the TCG EK Credential Profile "
                     "requires one (keyEncipherment for an RSA EK, keyAgreement for an ECC EK)");
  }
  const std::uint32_t usage = X509_get_key_usage(certificate);
  if ((usage & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) != 0 || X509_check_ca(certificate) != 0) {
    return MakeError(ErrorCode::kVerificationFailed,
                     "EK certificate's key usage allows signing certificates or CRLs "
                     "(keyCertSign, cRLSign): that is a CA's certificate, not an EK's");
  }
  const bool rsa = EVP_PKEY_is_a(X509_get0_pubkey(certificate), "RSA") == 1;
  const std::uint32_t needed = rsa ? KU_KEY_ENCIPHERMENT : KU_KEY_AGREEMENT;
  if ((usage & needed) == 0) {
    return MakeError(ErrorCode::kVerificationFailed,
                     std::string("EK certificate's key usage lacks ") +
                         (rsa ? "keyEncipherment, which the TCG EK Credential Profile gives an "
                                "RSA EK"
                              : "keyAgreement, which the TCG EK Credential Profile gives an "
                                "ECC EK"));
  }
  return OkStatus();
}

}  // namespace

Result<EkCertificateInfo> VerifyEkCertificate(ByteView certificate_der, ByteView ek_public,
                                              const EkCaBundle& bundle, TimePoint now) {
  ATTEST_ASSIGN_OR_RETURN(X509Ptr certificate, ParseCertificateDer(certificate_der));
  ATTEST_RETURN_IF_ERROR(CheckCertifiesEk(certificate.get(), ek_public));
  ATTEST_RETURN_IF_ERROR(VerifyChain(certificate.get(), bundle, now));
  ATTEST_RETURN_IF_ERROR(CheckEkPurpose(certificate.get()));
  return internal::DescribeEkCertificate(certificate.get());
}

Result<EkCertificateInfo> VerifyEkCertificate(ByteView certificate_der, ByteView ek_public,
                                              const EkCaBundle& bundle) {
  return VerifyEkCertificate(certificate_der, ek_public, bundle, std::chrono::system_clock::now());
}

}  // namespace attest::verifier
