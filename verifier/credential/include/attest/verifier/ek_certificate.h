// EK certificate checks for enrollment (docs/protocol.md §3.2): the certificate a TPM
// holds in NV chains to a TPM manufacturer CA the operator trusts, is valid
// now, is not revoked by a CRL the operator supplied, is an EK certificate
// (not a CA's), and certifies exactly the EK the node presents.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <openssl/x509_vfy.h>

#include "attest/bytes.h"
#include "attest/clock.h"
#include "attest/error.h"
#include "attest/openssl.h"

namespace attest::verifier {

// The operator's trusted TPM manufacturer CA certificates: self-signed roots
// (the trust anchors) and intermediates (used to build chains; trusted only
// as far as they chain to a root), and optionally the CRLs of some of those
// CAs (FORMAT.md, "EK certificates"). Immutable after Load, so one bundle
// may verify from many threads at once. Move-only.
class EkCaBundle {
 public:
  // `path`: a PEM file (CERTIFICATE and X509 CRL blocks; other blocks are
  // skipped), a DER certificate or CRL, or a directory whose every regular
  // file not starting with '.' is one of those. Every CRL must be signed by
  // a CA certificate of the bundle that may sign CRLs, and use only CRL
  // features the check supports (complete CRLs: no delta, indirect or
  // reason-partitioned CRLs). Fails with kNotFound / kPermissionDenied /
  // kIo for the file system, kCorrupt for a file that is neither (or whose
  // certificates or CRLs do not parse), kInvalidArgument for a bundle with
  // no certificate or a CRL that fails those conditions (the message names
  // the file).
  static Result<EkCaBundle> Load(const std::string& path);

  const std::string& path() const { return path_; }
  std::size_t size() const { return size_; }  // certificates
  X509_STORE* store() const { return store_.get(); }
  const std::vector<X509CrlPtr>& crls() const { return crls_; }

 private:
  using X509StorePtr = std::unique_ptr<X509_STORE, OpensslDeleter<X509_STORE_free>>;
  EkCaBundle(std::string path, X509StorePtr store, std::size_t size, std::vector<X509CrlPtr> crls)
      : path_(std::move(path)), store_(std::move(store)), size_(size), crls_(std::move(crls)) {}

  std::string path_;  // for error messages: which bundle refused
  X509StorePtr store_;
  std::size_t size_;  // certificates loaded
  std::vector<X509CrlPtr> crls_;
};

// What enrollment records about a verified EK certificate.
struct EkCertificateInfo {
  std::string subject;  // RFC 2253, e.g. "CN=unknown" ("" when empty)
  std::string issuer;
  // From the subjectAltName directoryName TPM attributes (TCG EK Credential
  // Profile: OIDs 2.23.133.2.1/2/3), "" when absent.
  std::string tpm_manufacturer;  // e.g. "id:49465800"
  std::string tpm_model;
  std::string tpm_version;  // e.g. "id:00010002"
  std::string not_after;    // RFC 3339 UTC, e.g. "9999-12-31T23:59:59Z"
  std::string serial;       // lowercase hex, e.g. "1a2b" (what a CRL revokes)
  // The node id (docs/protocol.md §2) of the certified key: tpm::NodeIdOfPublicKey.
  std::string node_id;
};

// Verifies `certificate_der` (exactly one DER certificate, no NV padding)
// at time `now`:
// - its chain to `bundle` (any purpose; the EK certificate itself may carry
//   the TCG extensions OpenSSL does not know, see ek_certificate.cpp) and
//   the validity period of every certificate in it;
// - revocation, for each certificate of the chain whose issuer has a CRL in
//   the bundle (an issuer without one is not checked): the newest such CRL
//   covering the certificate must be current at `now` and not list it;
// - purpose (TCG EK Credential Profile): not a CA (basicConstraints cA,
//   keyCertSign or cRLSign), and a keyUsage extension that includes
//   keyEncipherment for an RSA EK, keyAgreement for an ECC EK;
// - that its public key is the key of `ek_public` (a marshaled
//   TPM2B_PUBLIC), compared as key material.
// Errors: kCorrupt (the certificate or EK does not parse), kUnsupported (an
// EK type without a public key), kVerificationFailed (chain, time,
// revocation, purpose or key mismatch; the message says which and what to
// check).
Result<EkCertificateInfo> VerifyEkCertificate(ByteView certificate_der, ByteView ek_public,
                                              const EkCaBundle& bundle, TimePoint now);
// The same at the system clock's time.
Result<EkCertificateInfo> VerifyEkCertificate(ByteView certificate_der, ByteView ek_public,
                                              const EkCaBundle& bundle);

}  // namespace attest::verifier
