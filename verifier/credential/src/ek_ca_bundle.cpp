#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/file.h"
#include "attest/verifier/ek_certificate.h"

#include "ek_revocation.h"

namespace attest::verifier {
namespace {

// A CA certificate file is small; a bundle file of many roots, or a
// manufacturer's CRL, stays far below.
constexpr std::size_t kMaxBundleFileBytes = 4 << 20;
constexpr std::string_view kPemCertificateBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kPemCrlBegin = "-----BEGIN X509 CRL-----";

struct BundleFile {
  std::vector<X509Ptr> certificates;
  std::vector<X509CrlPtr> crls;
};

struct OpensslFree {
  void operator()(void* memory) const { OPENSSL_free(memory); }
};

std::size_t CountOccurrences(std::string_view text, std::string_view what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + what.size())) {
    ++count;
  }
  return count;
}

// `der` as exactly one `T` (no bytes after it), or null.
template <typename T, auto Parse, auto Free>
std::unique_ptr<T, OpensslDeleter<Free>> ParseWhole(const unsigned char* der, long length) {
  const unsigned char* cursor = der;
  std::unique_ptr<T, OpensslDeleter<Free>> parsed(Parse(nullptr, &cursor, length));
  if (parsed && cursor != der + length) parsed.reset();
  return parsed;
}

// Every CERTIFICATE and X509 CRL block of a PEM file (each must parse);
// other blocks (keys, parameters) are skipped, as OpenSSL's loaders do.
Result<BundleFile> ParsePem(const std::string& file, const std::string& contents,
                            std::size_t certificate_blocks, std::size_t crl_blocks) {
  BundleFile parsed;
  BioPtr bio(BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size())));
  while (bio) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) break;
    std::unique_ptr<char, OpensslFree> owned_name(name);
    std::unique_ptr<char, OpensslFree> owned_header(header);
    std::unique_ptr<unsigned char, OpensslFree> owned_data(data);
    if (std::string_view(name) == PEM_STRING_X509) {
      auto certificate = ParseWhole<X509, d2i_X509, X509_free>(data, length);
      if (!certificate) break;
      parsed.certificates.push_back(std::move(certificate));
    } else if (std::string_view(name) == PEM_STRING_X509_CRL) {
      auto crl = ParseWhole<X509_CRL, d2i_X509_CRL, X509_CRL_free>(data, length);
      if (!crl) break;
      parsed.crls.push_back(std::move(crl));
    }
  }
  ERR_clear_error();  // the end of the input reads as "no start line"
  if (parsed.certificates.size() != certificate_blocks) {
    return MakeError(ErrorCode::kCorrupt,
                     file + ": " + std::to_string(certificate_blocks - parsed.certificates.size()) +
                         " of " + std::to_string(certificate_blocks) +
                         " PEM certificates do not parse");
  }
  if (parsed.crls.size() != crl_blocks) {
    return MakeError(ErrorCode::kCorrupt,
                     file + ": " + std::to_string(crl_blocks - parsed.crls.size()) + " of " +
                         std::to_string(crl_blocks) + " PEM CRLs do not parse");
  }
  return parsed;
}

// PEM certificates and CRLs, or else exactly one DER certificate or CRL.
Result<BundleFile> ParseBundleFile(const std::string& file, const std::string& contents) {
  const std::size_t certificate_blocks = CountOccurrences(contents, kPemCertificateBegin);
  const std::size_t crl_blocks = CountOccurrences(contents, kPemCrlBegin);
  if (certificate_blocks + crl_blocks > 0) {
    return ParsePem(file, contents, certificate_blocks, crl_blocks);
  }
  BundleFile parsed;
  const auto* der = reinterpret_cast<const unsigned char*>(contents.data());
  const auto length = static_cast<long>(contents.size());
  if (auto certificate = ParseWhole<X509, d2i_X509, X509_free>(der, length)) {
    parsed.certificates.push_back(std::move(certificate));
  } else if (auto crl = ParseWhole<X509_CRL, d2i_X509_CRL, X509_CRL_free>(der, length)) {
    parsed.crls.push_back(std::move(crl));
  } else {
    return OpensslError(file + ": neither PEM certificates or CRLs nor one DER certificate or CRL",
                        ErrorCode::kCorrupt);
  }
  ERR_clear_error();  // a DER CRL first failed to parse as a certificate
  return parsed;
}

// The files a bundle path names, in a stable order.
Result<std::vector<std::string>> BundleFiles(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return std::vector<std::string>{path};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file(error)) continue;
    files.push_back(entry.path().string());
  }
  if (error) {
    return MakeError(ErrorCode::kIo, "list TPM CA directory " + path + ": " + error.message());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<EkCaBundle> EkCaBundle::Load(const std::string& path) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::string> files, BundleFiles(path));
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpensslError("TPM CA bundle");
  std::vector<X509Ptr> certificates;
  std::vector<std::pair<std::string, X509CrlPtr>> crls;  // with the file each came from
  for (const std::string& file : files) {
    ATTEST_ASSIGN_OR_RETURN(std::string contents, ReadFile(file, kMaxBundleFileBytes));
    ATTEST_ASSIGN_OR_RETURN(BundleFile parsed, ParseBundleFile(file, contents));
    for (X509Ptr& certificate : parsed.certificates) {
      // The store takes its own reference; a duplicate is not an error.
      if (X509_STORE_add_cert(store.get(), certificate.get()) != 1) {
        return OpensslError("add " + file + " to the TPM CA bundle");
      }
      certificates.push_back(std::move(certificate));
    }
    for (X509CrlPtr& crl : parsed.crls) crls.emplace_back(file, std::move(crl));
  }
  if (certificates.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "TPM CA bundle " + path + " holds no certificate");
  }
  // Checked once every certificate is in: a CRL may come before its issuer.
  std::vector<X509CrlPtr> checked;
  for (auto& [file, crl] : crls) {
    ATTEST_RETURN_IF_ERROR(
        std::move(internal::CheckBundleCrl(crl.get(), certificates)).WithContext(file));
    checked.push_back(std::move(crl));
  }
  return EkCaBundle(path, std::move(store), certificates.size(), std::move(checked));
}

}  // namespace attest::verifier
