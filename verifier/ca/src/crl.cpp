// The CA's certificate revocation list (RFC 5280 §5): v2, signed with the
// CA key, naming the serials the service has revoked.
#include <set>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_internal.h"

namespace attest::verifier {
namespace {

using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OpensslDeleter<X509_REVOKED_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpensslDeleter<ASN1_TIME_free>>;

Result<Asn1TimePtr> MakeTime(TimePoint time) {
  Asn1TimePtr value(ASN1_TIME_new());
  if (!value) return OpensslError("allocate a time");
  ATTEST_RETURN_IF_ERROR(pki::SetTime(value.get(), time));
  return value;
}

Status AddRevoked(X509_CRL* crl, const RevokedCertificate& revoked) {
  ATTEST_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, pki::SerialFromHex(revoked.serial_hex));
  ATTEST_ASSIGN_OR_RETURN(Asn1TimePtr date, MakeTime(revoked.revoked_at));
  X509RevokedPtr entry(X509_REVOKED_new());
  if (!entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
      X509_REVOKED_set_revocationDate(entry.get(), date.get()) != 1 ||
      X509_CRL_add0_revoked(crl, entry.get()) != 1) {
    return OpensslError("add a revoked serial");
  }
  entry.release();  // owned by the CRL now
  return OkStatus();
}

}  // namespace

Result<std::string> CertificateAuthority::MakeCrl(std::span<const RevokedCertificate> revoked,
                                                  std::uint64_t crl_number, TimePoint now,
                                                  std::chrono::seconds validity) const {
  if (validity <= std::chrono::seconds(0)) {
    return MakeError(ErrorCode::kInvalidArgument, "CRL validity must be positive");
  }
  X509* ca = impl_->certificate();
  X509CrlPtr crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca)) != 1) {
    return OpensslError("new CRL");
  }
  ATTEST_ASSIGN_OR_RETURN(Asn1TimePtr last_update, MakeTime(now));
  ATTEST_ASSIGN_OR_RETURN(Asn1TimePtr next_update, MakeTime(now + validity));
  if (X509_CRL_set1_lastUpdate(crl.get(), last_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1) {
    return OpensslError("set CRL times");
  }
  std::set<std::string> seen;
  for (const RevokedCertificate& entry : revoked) {
    if (!seen.insert(entry.serial_hex).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "serial " + entry.serial_hex + " is listed twice");
    }
    ATTEST_RETURN_IF_ERROR(AddRevoked(crl.get(), entry));
  }
  Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_uint64(number.get(), crl_number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1) {
    return OpensslError("add CRL number");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca, nullptr, nullptr, crl.get(), 0);
  X509ExtensionPtr key_id(
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"));
  if (!key_id || X509_CRL_add_ext(crl.get(), key_id.get(), -1) != 1) {
    return OpensslError("add CRL authorityKeyIdentifier");
  }
  // Sorted by serial, as `openssl crl` and most relying parties expect.
  if (X509_CRL_sort(crl.get()) != 1 ||
      X509_CRL_sign(crl.get(), impl_->key.get(), EVP_sha256()) <= 0) {
    return OpensslError("sign CRL");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return OpensslError("encode CRL");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace attest::verifier
