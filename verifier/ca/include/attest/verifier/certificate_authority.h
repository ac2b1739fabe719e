// The verifier as a certificate authority (DESIGN §3, docs/protocol.md §5):
// its own CA key and certificate (self-signed, or an intermediate of the
// operator's PKI), node certificates in the X509-SVID profile, the server's
// TLS certificate, and the CRL. Only OpenSSL; no storage: the service keeps
// the records (serials, revocations) and passes them in.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"

namespace attest::verifier {

// Writes a new ECDSA P-256 CA key (0600, created exclusively) and a
// self-signed CA certificate (basicConstraints CA:TRUE pathlen:0, keyUsage
// keyCertSign+cRLSign, SKI) valid for `lifetime` from `now`.
struct NewCaOptions {
  std::string key_path;
  std::string certificate_path;
  std::string common_name = "attest verifier CA";
  std::chrono::seconds lifetime{std::chrono::hours(24 * 365 * 10)};
};
Status CreateSelfSignedCa(const NewCaOptions& options, TimePoint now);

// What a node certificate says (docs/protocol.md §5).
struct NodeCertificateRequest {
  std::string csr_pem;   // PKCS#10; its self-signature is checked; P-256 keys only
  std::string node_id;   // 64 lowercase hex: the subject CN
  std::string hostname;  // SAN DNS; omitted when empty or not a valid DNS name
  std::string trust_domain;  // SAN URI spiffe://<trust_domain>/node/<node_id>
  std::chrono::seconds lifetime{3600};
};

struct IssuedCertificate {
  std::string serial_hex;  // lowercase hex of the random 128-bit serial, no leading zeros
  TimePoint not_before;
  TimePoint not_after;
  std::string certificate_pem;
  std::string chain_pem;  // the certificate, then the CA chain up to (excluding) the root
  Bytes public_key_der;   // SubjectPublicKeyInfo of the certified key
};

struct RevokedCertificate {
  std::string serial_hex;
  TimePoint revoked_at;
};

// Loaded once, then shared: the const methods may run concurrently.
class CertificateAuthority {
 public:
  // `chain_path`: the CA certificate first, then its issuers (the root
  // last, or omitted). The key must match the first certificate, which must
  // be a CA allowed to sign certificates and CRLs. The key file must be 0600
  // or stricter and owned by the euid.
  static Result<CertificateAuthority> Load(const std::string& chain_path,
                                           const std::string& key_path);
  ~CertificateAuthority();
  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;

  // Checks the CSR (well-formed, self-signature, P-256 key) and issues:
  // CN = node_id, SAN DNS + SPIFFE URI, random 128-bit serial, AKI/SKI,
  // basicConstraints CA:FALSE, keyUsage digitalSignature (critical), EKU
  // clientAuth + serverAuth, notBefore = now - 60 s (clock skew), notAfter =
  // now + lifetime, never past the CA certificate's own notAfter.
  // A bad CSR is kInvalidArgument naming what is wrong.
  Result<IssuedCertificate> IssueNodeCertificate(const NodeCertificateRequest& request,
                                                 TimePoint now) const;
  // The server's own TLS certificate for a key it generates: P-256, CN =
  // first name, SANs DNS names and IP addresses as given ("127.0.0.1",
  // "::1", "verifier.example"), EKU serverAuth. Returns the certificate
  // chain; writes the key to `key_path` (0600, exclusive).
  Result<IssuedCertificate> IssueServerCertificate(const std::vector<std::string>& names,
                                                   const std::string& key_path,
                                                   std::chrono::seconds lifetime,
                                                   TimePoint now) const;
  // A v2 CRL signed by the CA: the given serials, CRL number, lastUpdate =
  // now, nextUpdate = now + validity, AKI. PEM.
  Result<std::string> MakeCrl(std::span<const RevokedCertificate> revoked,
                              std::uint64_t crl_number, TimePoint now,
                              std::chrono::seconds validity) const;

  // Every certificate of the chain file, re-encoded as PEM, in its order
  // (the root too, when the file has it): what GET /v1/ca/certificates serves.
  const std::string& chain_pem() const;
  TimePoint not_after() const;

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace attest::verifier
