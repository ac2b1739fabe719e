// Certificates and TPM keys made with OpenSSL inside the unit tests, so each
// test states the exact shape (validity, extensions, issuer) it checks.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/openssl.h"

namespace attest::verifier::testing {

EvpPkeyPtr MakeEcKey(const char* group = "P-256");
EvpPkeyPtr MakeRsaKey(unsigned int bits = 2048);

struct CertificateSpec {
  std::string common_name;  // "" for an empty subject
  TimePoint not_before = TimePoint(std::chrono::seconds(1700000000));
  TimePoint not_after = TimePoint(std::chrono::seconds(1900000000));
  bool is_ca = false;
  // A critical subjectAltName directoryName with these TPM attributes
  // (2.23.133.2.1/2/3), when the manufacturer is not empty.
  std::string tpm_manufacturer, tpm_model, tpm_version;
  // Extensions by OID, each with an empty SEQUENCE as value.
  std::vector<std::string> critical_extensions;
};

// Signed by `issuer_key` as `issuer` (nullptr: self-signed with `key`).
X509Ptr MakeCertificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer,
                        EVP_PKEY* issuer_key);
Bytes ToDer(X509* certificate);
std::string ToPem(X509* certificate);

// A marshaled TPM2B_PUBLIC for `key` shaped like a TCG EK: restricted
// decrypt storage key, AES-128-CFB, nameAlg sha256 (P-256, RSA) or sha384.
Bytes EkPublicFor(EVP_PKEY* key);

}  // namespace attest::verifier::testing
