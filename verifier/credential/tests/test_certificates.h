// Certificates and TPM keys made with OpenSSL inside the unit tests, so each
// test states the exact shape (validity, extensions, issuer) it checks.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/openssl.h"
#include "attest/verifier/ek_certificate.h"

namespace attest::verifier::test {

EvpPkeyPtr MakeEcKey(const char* group = "P-256");
EvpPkeyPtr MakeRsaKey(unsigned int bits = 2048);

struct CertificateSpec {
  std::string common_name;  // "" for an empty subject
  TimePoint not_before = TimePoint(std::chrono::seconds(1700000000));
  TimePoint not_after = TimePoint(std::chrono::seconds(1900000000));
  // A CA: critical basicConstraints cA TRUE and keyUsage keyCertSign,
  // cRLSign. Otherwise critical basicConstraints cA FALSE and the keyUsage
  // the TCG EK Credential Profile gives the key (keyEncipherment for RSA,
  // keyAgreement for EC), as swtpm's EK certificates have.
  bool is_ca = false;
  // Replaces that keyUsage (OpenSSL config syntax, e.g.
  // "critical,digitalSignature"); "none" leaves the extension out.
  std::string key_usage;
  bool omit_basic_constraints = false;
  std::string crl_distribution_point;  // a URI, "" for none
  // A critical subjectAltName directoryName with these TPM attributes
  // (2.23.133.2.1/2/3), when the manufacturer is not empty.
  std::string tpm_manufacturer, tpm_model, tpm_version;
  // Extensions by OID, each with an empty SEQUENCE as value.
  std::vector<std::string> critical_extensions;
};

// A CA named `name`, valid until 2100 (it outlives the EKs it issues).
CertificateSpec CaSpec(const std::string& name);

// Signed by `issuer_key` as `issuer` (nullptr: self-signed with `key`).
X509Ptr MakeCertificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer,
                        EVP_PKEY* issuer_key);
Bytes ToDer(X509* certificate);
std::string ToPem(X509* certificate);

struct RevokedEntry {
  const X509* certificate;
  int reason = 1;  // keyCompromise; -1 for no reason extension
};

struct CrlSpec {
  TimePoint this_update = TimePoint(std::chrono::seconds(1700000000));
  std::optional<TimePoint> next_update = TimePoint(std::chrono::seconds(1900000000));
  std::vector<RevokedEntry> revoked;
  // issuingDistributionPoint fields (the extension only when one is set).
  std::string distribution_point_uri;
  bool only_user_certificates = false;
  bool only_ca_certificates = false;
  bool only_some_reasons = false;
  bool delta = false;  // a deltaCRLIndicator
};

// A v2 CRL issued under `issuer`'s name, signed by `signing_key` (the
// issuer's key, or another to forge one).
X509CrlPtr MakeCrl(const CrlSpec& spec, X509* issuer, EVP_PKEY* signing_key);
Bytes ToDer(X509_CRL* crl);
std::string ToPem(X509_CRL* crl);

// A marshaled TPM2B_PUBLIC for `key` shaped like a TCG EK: restricted
// decrypt storage key, AES-128-CFB, nameAlg sha256 (P-256, RSA) or sha384.
Bytes EkPublicFor(EVP_PKEY* key);

}  // namespace attest::verifier::test
