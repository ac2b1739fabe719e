#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest/file.h"
#include "attest/verifier/ek_certificate.h"

namespace attest::verifier {
namespace {

// A CA certificate file is small; a bundle file of many roots stays far below.
constexpr std::size_t kMaxCertificateFileBytes = 4 << 20;
constexpr std::string_view kPemCertificateBegin = "-----BEGIN CERTIFICATE-----";

std::size_t CountOccurrences(std::string_view text, std::string_view what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + what.size())) {
    ++count;
  }
  return count;
}

// Every certificate in `contents`: all PEM CERTIFICATE blocks (each must
// parse), or else exactly one DER certificate.
Result<std::vector<X509Ptr>> ParseCertificates(const std::string& file,
                                               const std::string& contents) {
  std::vector<X509Ptr> certificates;
  const std::size_t pem_blocks = CountOccurrences(contents, kPemCertificateBegin);
  if (pem_blocks > 0) {
    BioPtr bio(BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size())));
    while (bio) {
      X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
      if (certificate == nullptr) break;
      certificates.emplace_back(certificate);
    }
    ERR_clear_error();  // the end of the input reads as "no start line"
    if (certificates.size() != pem_blocks) {
      return MakeError(ErrorCode::kInvalidArgument,
                       file + ": " + std::to_string(pem_blocks - certificates.size()) + " of " +
                           std::to_string(pem_blocks) + " PEM certificates do not parse");
    }
    return certificates;
  }
  const auto* cursor = reinterpret_cast<const unsigned char*>(contents.data());
  X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(contents.size())));
  if (!certificate ||
      cursor != reinterpret_cast<const unsigned char*>(contents.data()) + contents.size()) {
    return OpensslError(file + ": neither PEM certificates nor one DER certificate",
                        ErrorCode::kInvalidArgument);
  }
  certificates.push_back(std::move(certificate));
  return certificates;
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
  std::size_t count = 0;
  for (const std::string& file : files) {
    ATTEST_ASSIGN_OR_RETURN(std::string contents, ReadFile(file, kMaxCertificateFileBytes));
    ATTEST_ASSIGN_OR_RETURN(std::vector<X509Ptr> certificates, ParseCertificates(file, contents));
    for (const X509Ptr& certificate : certificates) {
      // The store takes its own reference; a duplicate is not an error.
      if (X509_STORE_add_cert(store.get(), certificate.get()) != 1) {
        return OpensslError("add " + file + " to the TPM CA bundle");
      }
      ++count;
    }
  }
  if (count == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "TPM CA bundle " + path + " holds no certificate");
  }
  return EkCaBundle(path, std::move(store), count);
}

}  // namespace attest::verifier
