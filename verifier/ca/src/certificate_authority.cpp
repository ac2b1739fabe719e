// The CA's own key and certificate: creating a self-signed one, and loading
// it (or an operator's intermediate) with the checks that make it fit to sign.
#include "attest/verifier/certificate_authority.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "attest/file.h"

#include "ca_internal.h"

namespace attest::verifier {
namespace {

constexpr std::size_t kMaxChainBytes = 1024 * 1024;
constexpr std::size_t kMaxKeyBytes = 64 * 1024;

// A key file never prompts: an encrypted one is refused.
int NoPassphrase(char*, int, int, void*) { return 0; }

Error Unfit(const std::string& path, std::string what) {
  return MakeError(ErrorCode::kInvalidArgument, path + ": " + std::move(what));
}

// Every PEM block of `text` as a certificate, in order; anything else (a
// key, a CRL) is an error rather than silently skipped.
Result<std::vector<X509Ptr>> ParseChain(const std::string& text, const std::string& path) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return OpensslError("read " + path);
  std::vector<X509Ptr> chain;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(certificate);
  }
  ERR_clear_error();  // the end of the input
  std::size_t blocks = 0;
  for (std::size_t at = text.find("-----BEGIN "); at != std::string::npos;
       at = text.find("-----BEGIN ", at + 1)) {
    ++blocks;
  }
  if (chain.empty() || blocks != chain.size()) {
    return MakeError(ErrorCode::kCorrupt,
                     path + ": not a list of PEM certificates (" + std::to_string(chain.size()) +
                         " of " + std::to_string(blocks) + " PEM blocks are certificates)");
  }
  return chain;
}

// A CA per RFC 5280 §4.2.1.2-3, §4.2.1.9: basicConstraints CA:TRUE,
// keyUsage with keyCertSign and cRLSign, a subject key identifier.
Status CheckSigningCa(X509* certificate, const std::string& path) {
  const std::uint32_t flags = X509_get_extension_flags(certificate);
  if ((flags & EXFLAG_BCONS) == 0 || (flags & EXFLAG_CA) == 0) {
    return Unfit(path, "the first certificate is not a CA (basicConstraints CA:TRUE)");
  }
  const std::uint32_t usage = X509_get_key_usage(certificate);
  if ((flags & EXFLAG_KUSAGE) == 0 || (usage & KU_KEY_CERT_SIGN) == 0 ||
      (usage & KU_CRL_SIGN) == 0) {
    return Unfit(path, "the CA certificate's keyUsage lacks keyCertSign or cRLSign");
  }
  if (X509_get0_subject_key_id(certificate) == nullptr) {
    return Unfit(path, "the CA certificate has no subjectKeyIdentifier");
  }
  return OkStatus();
}

// Each certificate is issued and signed by the next one, a CA.
Status CheckChainLinks(const std::vector<X509Ptr>& chain, const std::string& path) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    X509* subject = chain[i].get();
    X509* issuer = chain[i + 1].get();
    if (X509_check_issued(issuer, subject) != X509_V_OK || X509_check_ca(issuer) == 0 ||
        X509_verify(subject, X509_get0_pubkey(issuer)) != 1) {
      ERR_clear_error();
      return Unfit(path, "certificate " + std::to_string(i + 2) + " did not issue certificate " +
                             std::to_string(i + 1));
    }
  }
  return OkStatus();
}

Result<EvpPkeyPtr> LoadKey(const std::string& key_path) {
  ATTEST_ASSIGN_OR_RETURN(SecretBytes pem, ReadSecretFile(key_path, kMaxKeyBytes));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("read " + key_path);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return OpensslError(key_path + ": not an unencrypted PEM private key", ErrorCode::kCorrupt);
  }
  ATTEST_RETURN_IF_ERROR(pki::RequireP256(key.get(), key_path + ": the CA key"));
  return key;
}

Result<std::string> ChainPem(const std::vector<X509Ptr>& chain, bool skip_self_signed) {
  std::string pem;
  for (const X509Ptr& certificate : chain) {
    if (skip_self_signed && (X509_get_extension_flags(certificate.get()) & EXFLAG_SS) != 0) {
      continue;
    }
    ATTEST_ASSIGN_OR_RETURN(std::string one, pki::CertificatePem(certificate.get()));
    pem += one;
  }
  return pem;
}

Result<X509Ptr> MakeSelfSignedCertificate(EVP_PKEY* key, const NewCaOptions& options,
                                          TimePoint now) {
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1) {
    return OpensslError("new CA certificate");
  }
  ATTEST_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, pki::RandomSerial());
  ATTEST_ASSIGN_OR_RETURN(X509NamePtr name, pki::CommonName(options.common_name));
  if (X509_set_serialNumber(certificate.get(), serial.get()) != 1 ||
      X509_set_subject_name(certificate.get(), name.get()) != 1 ||
      X509_set_issuer_name(certificate.get(), name.get()) != 1 ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return OpensslError("fill CA certificate");
  }
  ATTEST_RETURN_IF_ERROR(pki::SetTime(X509_getm_notBefore(certificate.get()), now));
  ATTEST_RETURN_IF_ERROR(
      pki::SetTime(X509_getm_notAfter(certificate.get()), now + options.lifetime));
  X509* self = certificate.get();
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(self, self, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  ATTEST_RETURN_IF_ERROR(
      pki::AddExtension(self, self, NID_key_usage, "critical,keyCertSign,cRLSign"));
  ATTEST_RETURN_IF_ERROR(pki::AddExtension(self, self, NID_subject_key_identifier, "hash"));
  if (X509_sign(self, key, EVP_sha256()) <= 0) return OpensslError("sign CA certificate");
  return certificate;
}

}  // namespace

Status CreateSelfSignedCa(const NewCaOptions& options, TimePoint now) {
  if (options.lifetime <= std::chrono::seconds(0)) {
    return MakeError(ErrorCode::kInvalidArgument, "CA lifetime must be positive");
  }
  if (options.common_name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "CA common name must not be empty");
  }
  for (const std::string& path : {options.key_path, options.certificate_path}) {
    if (PathExists(path)) return MakeError(ErrorCode::kAlreadyExists, path + ": already exists");
  }
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key, pki::GenerateP256Key());
  ATTEST_ASSIGN_OR_RETURN(X509Ptr certificate, MakeSelfSignedCertificate(key.get(), options, now));
  ATTEST_ASSIGN_OR_RETURN(std::string pem, pki::CertificatePem(certificate.get()));
  ATTEST_RETURN_IF_ERROR(pki::WritePrivateKey(key.get(), options.key_path));
  if (Status written = WriteFileAtomically(options.certificate_path, pem, 0644); !written.ok()) {
    ::unlink(options.key_path.c_str());  // no key without its certificate
    return written;
  }
  return OkStatus();
}

Result<CertificateAuthority> CertificateAuthority::Load(const std::string& chain_path,
                                                        const std::string& key_path) {
  auto impl = std::make_unique<Impl>();
  ATTEST_ASSIGN_OR_RETURN(std::string text, ReadFile(chain_path, kMaxChainBytes));
  ATTEST_ASSIGN_OR_RETURN(impl->chain, ParseChain(text, chain_path));
  ATTEST_ASSIGN_OR_RETURN(impl->key, LoadKey(key_path));
  if (X509_check_private_key(impl->certificate(), impl->key.get()) != 1) {
    ERR_clear_error();
    return Unfit(key_path, "the key does not match the CA certificate in " + chain_path);
  }
  ATTEST_RETURN_IF_ERROR(CheckSigningCa(impl->certificate(), chain_path));
  ATTEST_RETURN_IF_ERROR(CheckChainLinks(impl->chain, chain_path));
  ATTEST_ASSIGN_OR_RETURN(impl->not_after,
                          pki::ToTimePoint(X509_get0_notAfter(impl->certificate())));
  ATTEST_ASSIGN_OR_RETURN(impl->chain_pem, ChainPem(impl->chain, false));
  ATTEST_ASSIGN_OR_RETURN(impl->issuer_chain_pem, ChainPem(impl->chain, true));
  return CertificateAuthority(std::move(impl));
}

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CertificateAuthority::~CertificateAuthority() = default;
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;

const std::string& CertificateAuthority::chain_pem() const { return impl_->chain_pem; }
TimePoint CertificateAuthority::not_after() const { return impl_->not_after; }

}  // namespace attest::verifier
