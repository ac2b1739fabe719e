#include "ek_certificate_info.h"

#include <array>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "attest/tpm/public_key.h"

#include "ek_revocation.h"

namespace attest::verifier::internal {
namespace {

using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslDeleter<GENERAL_NAMES_free>>;

struct OpensslUtf8Free {
  void operator()(unsigned char* memory) const { OPENSSL_free(memory); }
};

// TPM attributes in the SAN directoryName (TCG EK Credential Profile
// subjectAltName, tcg-at-tpmManufacturer / tpmModel / tpmVersion).
constexpr std::string_view kTpmManufacturer = "2.23.133.2.1";
constexpr std::string_view kTpmModel = "2.23.133.2.2";
constexpr std::string_view kTpmVersion = "2.23.133.2.3";

Result<std::string> NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return OpensslError("EK certificate name");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Result<std::string> TimeText(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return OpensslError("EK certificate time");
  std::array<char, 32> text{};
  std::size_t length = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text.data(), length);
}

std::string EntryText(const X509_NAME_ENTRY* entry) {
  unsigned char* raw = nullptr;
  int length = ASN1_STRING_to_UTF8(&raw, X509_NAME_ENTRY_get_data(entry));
  std::unique_ptr<unsigned char, OpensslUtf8Free> utf8(raw);
  if (length < 0) return "";
  return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<std::size_t>(length));
}

void ReadTpmAttributes(X509* certificate, EkCertificateInfo* info) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DIRNAME) continue;
    const X509_NAME* directory = name->d.directoryName;
    for (int j = 0; j < X509_NAME_entry_count(directory); ++j) {
      const X509_NAME_ENTRY* entry = X509_NAME_get_entry(directory, j);
      std::array<char, 64> oid{};
      OBJ_obj2txt(oid.data(), static_cast<int>(oid.size()), X509_NAME_ENTRY_get_object(entry), 1);
      const std::string_view id(oid.data());
      if (id == kTpmManufacturer) info->tpm_manufacturer = EntryText(entry);
      if (id == kTpmModel) info->tpm_model = EntryText(entry);
      if (id == kTpmVersion) info->tpm_version = EntryText(entry);
    }
  }
}

}  // namespace

Result<EkCertificateInfo> DescribeEkCertificate(X509* certificate) {
  EkCertificateInfo info;
  ATTEST_ASSIGN_OR_RETURN(info.subject, NameText(X509_get_subject_name(certificate)));
  ATTEST_ASSIGN_OR_RETURN(info.issuer, NameText(X509_get_issuer_name(certificate)));
  ATTEST_ASSIGN_OR_RETURN(info.not_after, TimeText(X509_get0_notAfter(certificate)));
  info.serial = SerialHex(certificate);
  ATTEST_ASSIGN_OR_RETURN(info.node_id,
                          std::move(tpm::NodeIdOfPublicKey(X509_get0_pubkey(certificate)))
                              .WithContext("EK certificate key"));
  ReadTpmAttributes(certificate, &info);
  return info;
}

}  // namespace attest::verifier::internal
