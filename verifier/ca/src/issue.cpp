// Node and server certificates: the leaf profile (docs/protocol.md §5,
// X509-SVID) and the checks on what goes into it.
#include <algorithm>
#include <string>

#include <openssl/x509v3.h>

#include "attest/file.h"

#include "ca_internal.h"
#include "csr.h"
#include "names.h"

namespace attest::verifier {
namespace {

Error BadRequest(std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(what));
}

std::string SpiffeId(const NodeCertificateRequest& request) {
  return "spiffe://" + request.trust_domain + "/node/" + request.node_id;
}

}  // namespace

Result<IssuedCertificate> CertificateAuthority::Impl::IssueLeaf(EVP_PKEY* subject_key,
                                                                const LeafProfile& profile,
                                                                TimePoint now) const {
  if (profile.lifetime <= std::chrono::seconds(0)) {
    return BadRequest("certificate lifetime must be positive");
  }
  if (now >= not_after) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the CA certificate expired at " + FormatRfc3339Utc(not_after));
  }
  X509Ptr leaf(X509_new());
  if (!leaf || X509_set_version(leaf.get(), X509_VERSION_3) != 1) {
    return OpensslError("new certificate");
  }
  ATTEST_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, pki::RandomSerial());
  ATTEST_ASSIGN_OR_RETURN(X509NamePtr subject, pki::CommonName(profile.common_name));
  if (X509_set_serialNumber(leaf.get(), serial.get()) != 1 ||
      X509_set_subject_name(leaf.get(), subject.get()) != 1 ||
      X509_set_issuer_name(leaf.get(), X509_get_subject_name(certificate())) != 1 ||
      X509_set_pubkey(leaf.get(), subject_key) != 1) {
    return OpensslError("fill certificate");
  }
  ATTEST_RETURN_IF_ERROR(pki::SetTime(X509_getm_notBefore(leaf.get()), now - kClockSkew));
  ATTEST_RETURN_IF_ERROR(
      pki::SetTime(X509_getm_notAfter(leaf.get()), std::min(now + profile.lifetime, not_after)));
  X509* ca = certificate();
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(leaf.get(), ca, NID_basic_constraints, "critical,CA:FALSE"));
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(leaf.get(), ca, NID_key_usage, "critical,digitalSignature"));
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(leaf.get(), ca, NID_ext_key_usage, profile.extended_key_usage));
  ATTEST_RETURN_IF_ERROR(pki::AddExtension(leaf.get(), ca, NID_subject_key_identifier, "hash"));
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(leaf.get(), ca, NID_authority_key_identifier, "keyid:always"));
  ATTEST_RETURN_IF_ERROR(pki::AddSubjectAltName(leaf.get(), profile.alt_names));
  if (X509_sign(leaf.get(), key.get(), EVP_sha256()) <= 0) {
    return OpensslError("sign certificate");
  }
  IssuedCertificate issued;
  ATTEST_ASSIGN_OR_RETURN(issued.serial_hex, pki::SerialHex(serial.get()));
  ATTEST_ASSIGN_OR_RETURN(issued.not_before, pki::ToTimePoint(X509_get0_notBefore(leaf.get())));
  ATTEST_ASSIGN_OR_RETURN(issued.not_after, pki::ToTimePoint(X509_get0_notAfter(leaf.get())));
  ATTEST_ASSIGN_OR_RETURN(issued.certificate_pem, pki::CertificatePem(leaf.get()));
  issued.chain_pem = issued.certificate_pem + issuer_chain_pem;
  ATTEST_ASSIGN_OR_RETURN(issued.public_key_der, pki::PublicKeyDer(X509_get0_pubkey(leaf.get())));
  return issued;
}

Result<IssuedCertificate> CertificateAuthority::IssueNodeCertificate(
    const NodeCertificateRequest& request, TimePoint now) const {
  if (!names::IsNodeId(request.node_id)) {
    return BadRequest("node_id \"" + request.node_id + "\" is not 64 lowercase hex digits");
  }
  if (!names::IsTrustDomain(request.trust_domain)) {
    return BadRequest("trust domain \"" + request.trust_domain +
                      "\" is not 1 to 255 lowercase letters, digits, '.', '-' or '_'");
  }
  ATTEST_ASSIGN_OR_RETURN(X509ReqPtr csr, ParseCsr(request.csr_pem));
  EVP_PKEY* csr_key = X509_REQ_get0_pubkey(csr.get());
  ATTEST_RETURN_IF_ERROR(pki::RequireP256(csr_key, "CSR: its key"));
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr subject_key, pki::CanonicalP256PublicKey(csr_key));
  LeafProfile profile{request.node_id, {}, "clientAuth,serverAuth", request.lifetime};
  if (names::IsDnsName(request.hostname)) {
    profile.alt_names.push_back({pki::AltName::Kind::kDns, request.hostname});
  }
  profile.alt_names.push_back({pki::AltName::Kind::kUri, SpiffeId(request)});
  return impl_->IssueLeaf(subject_key.get(), profile, now);
}

Result<IssuedCertificate> CertificateAuthority::IssueServerCertificate(
    const std::vector<std::string>& names, const std::string& key_path,
    std::chrono::seconds lifetime, TimePoint now) const {
  if (names.empty()) return BadRequest("a server certificate needs at least one name");
  LeafProfile profile{names.front(), {}, "serverAuth", lifetime};
  for (const std::string& name : names) {
    if (std::optional<std::string> address = names::ParseIpAddress(name)) {
      profile.alt_names.push_back({pki::AltName::Kind::kIp, *address});
    } else if (names::IsDnsName(name)) {
      profile.alt_names.push_back({pki::AltName::Kind::kDns, name});
    } else {
      return BadRequest("server name \"" + name + "\" is neither an IP address nor a DNS name");
    }
  }
  if (PathExists(key_path)) {
    return MakeError(ErrorCode::kAlreadyExists, key_path + ": the server key already exists");
  }
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key, pki::GenerateP256Key());
  ATTEST_ASSIGN_OR_RETURN(IssuedCertificate issued, impl_->IssueLeaf(key.get(), profile, now));
  ATTEST_RETURN_IF_ERROR(pki::WritePrivateKey(key.get(), key_path));
  return issued;
}

}  // namespace attest::verifier
