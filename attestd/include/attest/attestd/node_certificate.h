// The node's TLS identity on disk, for workloads to use: the certificate
// chain the verifier issued (node.pem) and its key (node-key.pem: a TSS2
// PRIVATE KEY PEM usable only with this TPM, or a 0600 PEM file key), in
// the configured directory, each replaced atomically. And the CSR that asks
// for the next certificate, signed inside the TPM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "attest/attestd/config.h"
#include "attest/attestd/tpm.h"
#include "attest/error.h"

namespace attest::attestd {

struct InstalledCertificate {
  std::int64_t not_before = 0;  // unix seconds
  std::int64_t not_after = 0;
  std::string subject;
  std::string spiffe_id;  // the URI SAN, "" without one
  Bytes public_key_der;   // SubjectPublicKeyInfo, to match against the key
  // node.pem's mtime: when attestd installed it (0 when unknown).
  std::int64_t installed_at = 0;
};

// What the directory holds now; nullopt without a certificate. kCorrupt for
// a node.pem that does not parse.
Result<std::optional<InstalledCertificate>> ReadInstalledCertificate(const std::string& directory);

// When two thirds of the certificate's lifetime are gone. Its lifetime
// counts from when it was installed, not from notBefore: the verifier's CA
// backdates notBefore (by 60 s, for clock skew), which would otherwise make
// a short-lived certificate look due for renewal as soon as it arrives.
std::int64_t RenewalTime(const InstalledCertificate& certificate);

// Whether to ask for a certificate now: none, one for another key, or two
// thirds of its lifetime gone (docs/protocol.md §5).
bool NeedsRenewal(const std::optional<InstalledCertificate>& current, ByteView key_public_der,
                  std::int64_t now);

// A P-256 key and the PEM that workloads load: for kTpm, `tpm_key` is the
// TPM's key blob (the PEM is its TSS2 PRIVATE KEY form); for kFile a key
// file made once and kept.
struct NodeKey {
  NodeKeyKind kind = NodeKeyKind::kTpm;
  std::optional<KeyBlob> tpm_key;
  Bytes public_key_der;  // SubjectPublicKeyInfo
};

// Writes node-key.pem for `key` when it is not already there with the same
// contents (0640 for a TPM key, useless without the TPM; 0600 for a file
// key). For kFile, creates the key file when missing and loads it.
Result<NodeKey> PrepareNodeKey(const std::string& directory, NodeKeyKind kind,
                               const std::optional<KeyBlob>& tpm_key);

// A PKCS#10 request, subject CN=`common_name`, for `key`; a TPM key signs
// it through TPM2_Sign.
Result<std::string> MakeCertificateRequest(Tpm& tpm, const NodeKey& key,
                                           const std::string& directory,
                                           const std::string& common_name);

// Installs the PEM chain the verifier returned as node.pem, atomically:
// every block must be a certificate (they are written back re-encoded, so
// nothing else the answer carried reaches the file), the first for `key`,
// with CN = `node_id`, and valid at `now` (5 minutes of clock skew allowed).
Result<InstalledCertificate> InstallCertificate(const std::string& directory,
                                                const std::string& chain_pem, const NodeKey& key,
                                                const std::string& node_id, std::int64_t now);

}  // namespace attest::attestd
