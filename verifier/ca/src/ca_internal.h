// The loaded CA (key and chain) behind CertificateAuthority, shared by the
// files that issue certificates and CRLs. Internal to attest_ca.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "attest/openssl.h"
#include "attest/verifier/certificate_authority.h"

#include "pki.h"

namespace attest::verifier {

// Every certificate this CA signs starts this much before "now", so a
// relying party whose clock is a little behind accepts it at once.
inline constexpr std::chrono::seconds kClockSkew{60};

// What a leaf certificate says beyond the CA's fixed profile.
struct LeafProfile {
  std::string common_name;
  std::vector<pki::AltName> alt_names;
  const char* extended_key_usage;  // OpenSSL config syntax: "clientAuth,serverAuth"
  std::chrono::seconds lifetime;
};

struct CertificateAuthority::Impl {
  EvpPkeyPtr key;
  std::vector<X509Ptr> chain;    // [0] is the CA certificate, then its issuers
  std::string chain_pem;         // all of `chain`
  std::string issuer_chain_pem;  // `chain` without self-signed roots: follows each leaf
  TimePoint not_after;           // the CA certificate's

  X509* certificate() const { return chain.front().get(); }
  // Signs a leaf for `subject_key` (P-256, canonical): random serial,
  // SKI/AKI, basicConstraints CA:FALSE and keyUsage digitalSignature (both
  // critical), `profile`'s names and EKU, notBefore now - kClockSkew,
  // notAfter now + lifetime but never past the CA's.
  Result<IssuedCertificate> IssueLeaf(EVP_PKEY* subject_key, const LeafProfile& profile,
                                      TimePoint now) const;
};

}  // namespace attest::verifier
