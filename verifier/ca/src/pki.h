// The X.509 building blocks the CA's operations share: times, random
// serials, names, extensions, P-256 keys and PEM, each over OpenSSL with
// its errors turned into attest::Error. Internal to attest_ca.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::verifier::pki {

// Whole seconds: X.509 times have no fraction.
Status SetTime(ASN1_TIME* field, TimePoint time);
Result<TimePoint> ToTimePoint(const ASN1_TIME* time);

// 128 random bits with the top bit cleared, so the DER INTEGER is positive
// and at most 16 bytes (RFC 5280 §4.1.2.2); never zero.
Result<Asn1IntegerPtr> RandomSerial();
// Lowercase hex without leading zeros ("0" for zero).
Result<std::string> SerialHex(const ASN1_INTEGER* serial);
// The inverse, for serials the service kept: 1 to 40 lowercase hex digits.
Result<Asn1IntegerPtr> SerialFromHex(std::string_view hex);

// A name with a single commonName attribute (UTF8String).
Result<X509NamePtr> CommonName(std::string_view common_name);

// An extension from OpenSSL's config syntax (`value` is a constant of ours,
// never input), with `issuer` and `subject` for SKI/AKI.
Status AddExtension(X509* certificate, X509* issuer, int nid, const char* value);
// subjectAltName from dNSName, iPAddress (4 or 16 bytes) and URI entries.
struct AltName {
  enum class Kind { kDns, kIp, kUri } kind;
  std::string value;  // for kIp, the address bytes
};
Status AddSubjectAltName(X509* certificate, const std::vector<AltName>& names);

// A fresh ECDSA P-256 key.
Result<EvpPkeyPtr> GenerateP256Key();
// kInvalidArgument unless `key` is an EC key on P-256; `what` starts the
// message ("the CSR's key").
Status RequireP256(const EVP_PKEY* key, std::string_view what);
// The P-256 public key rebuilt from its point alone: named curve,
// uncompressed, whatever encoding it came in.
Result<EvpPkeyPtr> CanonicalP256PublicKey(const EVP_PKEY* key);
// DER SubjectPublicKeyInfo.
Result<Bytes> PublicKeyDer(EVP_PKEY* key);

Result<std::string> CertificatePem(X509* certificate);
// Creates `path` 0600 exclusively with the key as PKCS#8 PEM; the PEM
// passes only through OpenSSL's clear-on-free secure memory.
Status WritePrivateKey(EVP_PKEY* key, const std::string& path);

}  // namespace attest::verifier::pki
