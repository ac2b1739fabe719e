#include "attest/attestd/node_certificate.h"

#include <algorithm>
#include <ctime>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include "attest/file.h"
#include "attest/openssl.h"
#include "attest/sha256.h"
#include "attest/tpm/public_key.h"

namespace attest::attestd {
namespace {

constexpr std::size_t kMaxPemBytes = 1 << 20;

std::string CertificatePath(const std::string& directory) { return directory + "/node.pem"; }
std::string KeyPath(const std::string& directory) { return directory + "/node-key.pem"; }

Result<Bytes> PublicKeyDer(EVP_PKEY* key) {
  const int length = i2d_PUBKEY(key, nullptr);
  if (length <= 0) return OpensslError("i2d_PUBKEY");
  Bytes der(static_cast<std::size_t>(length));
  unsigned char* out = der.data();
  i2d_PUBKEY(key, &out);
  return der;
}

Result<std::int64_t> UnixTime(const ASN1_TIME* time, const char* what) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
    return MakeError(ErrorCode::kCorrupt, std::string("node certificate: bad ") + what);
  }
  return static_cast<std::int64_t>(timegm(&parts));
}

std::string UriSan(X509* certificate) {
  std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>> names(
      static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return "";
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                       static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  return "";
}

Result<InstalledCertificate> Describe(X509* certificate) {
  InstalledCertificate installed;
  ATTEST_ASSIGN_OR_RETURN(installed.not_before,
                          UnixTime(X509_get0_notBefore(certificate), "notBefore"));
  ATTEST_ASSIGN_OR_RETURN(installed.not_after,
                          UnixTime(X509_get0_notAfter(certificate), "notAfter"));
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof(subject));
  installed.subject = subject;
  installed.spiffe_id = UriSan(certificate);
  ATTEST_ASSIGN_OR_RETURN(installed.public_key_der, PublicKeyDer(X509_get0_pubkey(certificate)));
  return installed;
}

Result<X509Ptr> FirstCertificate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) return OpensslError("read the node certificate", ErrorCode::kCorrupt);
  return certificate;
}

Result<EvpPkeyPtr> LoadOrCreateFileKey(const std::string& path) {
  Result<SecretBytes> existing = ReadSecretFile(path, kMaxPemBytes);
  if (existing.ok()) {
    BioPtr bio(BIO_new_mem_buf(existing->data(), static_cast<int>(existing->size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) return OpensslError(path + ": not a PEM private key", ErrorCode::kCorrupt);
    return key;
  }
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpensslError("generate the node's P-256 key");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out ||
      PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("PEM-encode the node's key");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  ATTEST_RETURN_IF_ERROR(
      WriteFileAtomically(path, std::string_view(data, static_cast<std::size_t>(length)), 0600));
  return key;
}

// Writes `contents` to `path` unless the file already holds exactly that:
// a restart does not touch a key workloads have open.
Status WriteIfChanged(const std::string& path, std::string_view contents, mode_t mode) {
  Result<std::string> current = ReadFile(path, kMaxPemBytes);
  if (current.ok() && *current == contents) return OkStatus();
  return WriteFileAtomically(path, contents, mode);
}

Result<std::string> SignedRequestPem(X509_REQ* request) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509_REQ(out.get(), request) != 1) {
    return OpensslError("PEM-encode the CSR");
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

// Signs `request` with the TPM key: the DER of its CertificationRequestInfo
// hashed with SHA-256, TPM2_Sign, and the signature put in place with the
// ecdsa-with-SHA256 algorithm.
Status SignInTpm(Tpm& tpm, const KeyBlob& key, X509_REQ* request) {
  std::unique_ptr<X509_ALGOR, OpensslDeleter<X509_ALGOR_free>> algorithm(X509_ALGOR_new());
  if (!algorithm ||
      X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, nullptr) !=
          1 ||
      X509_REQ_set1_signature_algo(request, algorithm.get()) != 1) {
    return OpensslError("set the CSR's signature algorithm");
  }
  const int length = i2d_re_X509_REQ_tbs(request, nullptr);
  if (length <= 0) return OpensslError("encode the CSR's CertificationRequestInfo");
  Bytes info(static_cast<std::size_t>(length));
  unsigned char* out = info.data();
  i2d_re_X509_REQ_tbs(request, &out);
  const Sha256Digest digest = Sha256Of(info);
  ATTEST_ASSIGN_OR_RETURN(Bytes signature, tpm.SignDigest(key, AsBytes(digest)));
  ASN1_BIT_STRING* bits = ASN1_BIT_STRING_new();
  if (bits == nullptr ||
      ASN1_BIT_STRING_set(bits, signature.data(), static_cast<int>(signature.size())) != 1) {
    ASN1_BIT_STRING_free(bits);
    return OpensslError("set the CSR's signature");
  }
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  X509_REQ_set0_signature(request, bits);
  return OkStatus();
}

}  // namespace

Result<std::optional<InstalledCertificate>> ReadInstalledCertificate(const std::string& directory) {
  Result<std::string> pem = ReadFile(CertificatePath(directory), kMaxPemBytes);
  if (!pem.ok()) {
    if (pem.error().code == ErrorCode::kNotFound) return std::optional<InstalledCertificate>();
    return pem.error();
  }
  ATTEST_ASSIGN_OR_RETURN(X509Ptr certificate, FirstCertificate(*pem));
  ATTEST_ASSIGN_OR_RETURN(InstalledCertificate installed, Describe(certificate.get()));
  struct stat file {};
  if (::stat(CertificatePath(directory).c_str(), &file) == 0)
    installed.installed_at = file.st_mtime;
  return std::optional<InstalledCertificate>(std::move(installed));
}

std::int64_t RenewalTime(const InstalledCertificate& certificate) {
  // Installed before notBefore (a clock set back) or after notAfter (a
  // copied file): notBefore, or notAfter, bound it.
  const std::int64_t start =
      std::clamp(certificate.installed_at, certificate.not_before, certificate.not_after);
  return start + (certificate.not_after - start) * 2 / 3;
}

bool NeedsRenewal(const std::optional<InstalledCertificate>& current, ByteView key_public_der,
                  std::int64_t now) {
  if (!current) return true;
  if (!std::equal(current->public_key_der.begin(), current->public_key_der.end(),
                  key_public_der.begin(), key_public_der.end())) {
    return true;
  }
  return current->not_after <= current->not_before || now >= RenewalTime(*current);
}

Result<NodeKey> PrepareNodeKey(const std::string& directory, NodeKeyKind kind,
                               const std::optional<KeyBlob>& tpm_key) {
  NodeKey key;
  key.kind = kind;
  if (kind == NodeKeyKind::kFile) {
    ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr file_key, LoadOrCreateFileKey(KeyPath(directory)));
    ATTEST_ASSIGN_OR_RETURN(key.public_key_der, PublicKeyDer(file_key.get()));
    return key;
  }
  if (!tpm_key) return MakeError(ErrorCode::kInternal, "PrepareNodeKey: no TPM key given");
  key.tpm_key = tpm_key;
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC public_area, tpm::ParsePublic(tpm_key->public_area));
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr public_key, tpm::PublicKeyFromTpm(public_area.publicArea));
  ATTEST_ASSIGN_OR_RETURN(key.public_key_der, PublicKeyDer(public_key.get()));
  ATTEST_ASSIGN_OR_RETURN(std::string pem, TssPrivateKeyPem(*tpm_key));
  ATTEST_RETURN_IF_ERROR(WriteIfChanged(KeyPath(directory), pem, 0640));
  return key;
}

Result<std::string> MakeCertificateRequest(Tpm& tpm, const NodeKey& key,
                                           const std::string& directory,
                                           const std::string& common_name) {
  X509ReqPtr request(X509_REQ_new());
  X509NamePtr name(X509_NAME_new());
  if (!request || !name || X509_REQ_set_version(request.get(), 0) != 1 ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_REQ_set_subject_name(request.get(), name.get()) != 1) {
    return OpensslError("build the CSR");
  }
  if (key.kind == NodeKeyKind::kFile) {
    ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr file_key, LoadOrCreateFileKey(KeyPath(directory)));
    if (X509_REQ_set_pubkey(request.get(), file_key.get()) != 1 ||
        X509_REQ_sign(request.get(), file_key.get(), EVP_sha256()) <= 0) {
      return OpensslError("sign the CSR with the file key");
    }
    return SignedRequestPem(request.get());
  }
  const unsigned char* der = key.public_key_der.data();
  EvpPkeyPtr public_key(d2i_PUBKEY(nullptr, &der, static_cast<long>(key.public_key_der.size())));
  if (!public_key || X509_REQ_set_pubkey(request.get(), public_key.get()) != 1) {
    return OpensslError("put the TPM key in the CSR");
  }
  ATTEST_RETURN_IF_ERROR(SignInTpm(tpm, *key.tpm_key, request.get()));
  // The TPM's signature is checked here, once, before the verifier sees it.
  if (X509_REQ_verify(request.get(), public_key.get()) != 1) {
    return OpensslError("the TPM's CSR signature does not verify", ErrorCode::kTpm);
  }
  return SignedRequestPem(request.get());
}

Result<InstalledCertificate> InstallCertificate(const std::string& directory,
                                                const std::string& chain_pem, const NodeKey& key,
                                                const std::string& node_id, std::int64_t now) {
  constexpr std::int64_t kClockSkew = 300;
  constexpr int kMaxChainLength = 8;
  BioPtr in(BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())));
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!in || !out) return OpensslError("install the node certificate");
  std::optional<InstalledCertificate> leaf;
  int count = 0;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(in.get(), &name, &header, &data, &length) != 1) {
      ERR_clear_error();  // the end of the text
      break;
    }
    const std::string block_name = name;
    const unsigned char* cursor = data;
    X509Ptr certificate(block_name == "CERTIFICATE" ? d2i_X509(nullptr, &cursor, length) : nullptr);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!certificate) {
      return MakeError(ErrorCode::kCorrupt,
                       "the certificate chain holds a \"" + block_name +
                           "\" block that is not a certificate; not installed");
    }
    if (++count > kMaxChainLength) {
      return MakeError(ErrorCode::kCorrupt,
                       "the certificate chain is longer than 8; not installed");
    }
    if (!leaf) {
      ATTEST_ASSIGN_OR_RETURN(leaf, Describe(certificate.get()));
      if (leaf->public_key_der != key.public_key_der) {
        return MakeError(ErrorCode::kVerificationFailed,
                         "the verifier returned a certificate for another key; not installed");
      }
      if (leaf->subject != "/CN=" + node_id) {
        return MakeError(ErrorCode::kVerificationFailed,
                         "the verifier returned a certificate for " + leaf->subject +
                             ", not CN=" + node_id + "; not installed");
      }
      if (now + kClockSkew < leaf->not_before || now >= leaf->not_after) {
        return MakeError(
            ErrorCode::kVerificationFailed,
            "the verifier returned a certificate that is not valid now; not installed");
      }
    }
    if (PEM_write_bio_X509(out.get(), certificate.get()) != 1) {
      return OpensslError("encode the node certificate");
    }
  }
  if (!leaf) return MakeError(ErrorCode::kCorrupt, "the verifier returned no certificate");
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  ATTEST_RETURN_IF_ERROR(WriteFileAtomically(
      CertificatePath(directory), std::string_view(data, static_cast<std::size_t>(length)), 0644));
  return *leaf;
}

}  // namespace attest::attestd
