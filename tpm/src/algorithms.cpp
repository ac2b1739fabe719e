#include "attest/tpm/algorithms.h"

#include <array>
#include <string>

#include <tss2/tss2_tpm2_types.h>

#include "attest/openssl.h"

namespace attest::tpm {
namespace {

// SM3 appears in PCR banks of TPMs sold in China, and so in their event logs.
constexpr std::array<HashAlgorithm, 5> kHashAlgorithms = {{
    {TPM2_ALG_SHA1, "sha1", 20, "SHA1"},
    {TPM2_ALG_SHA256, "sha256", 32, "SHA256"},
    {TPM2_ALG_SHA384, "sha384", 48, "SHA384"},
    {TPM2_ALG_SHA512, "sha512", 64, "SHA512"},
    {TPM2_ALG_SM3_256, "sm3_256", 32, "SM3"},
}};

}  // namespace

std::optional<HashAlgorithm> HashAlgorithmById(std::uint16_t id) {
  for (const HashAlgorithm& algorithm : kHashAlgorithms) {
    if (algorithm.id == id) return algorithm;
  }
  return std::nullopt;
}

Result<HashAlgorithm> HashAlgorithmByName(std::string_view name) {
  for (const HashAlgorithm& algorithm : kHashAlgorithms) {
    if (algorithm.name == name) return algorithm;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown hash algorithm \"" + std::string(name) +
                       "\" (expected sha1, sha256, sha384, sha512 or sm3_256)");
}

// Fetched once per algorithm and kept for the life of the process: a fetch
// costs more than hashing a quote.
const EVP_MD* FetchedDigest(const HashAlgorithm& algorithm) {
  static const std::array<EVP_MD*, kHashAlgorithms.size()> fetched = [] {
    std::array<EVP_MD*, kHashAlgorithms.size()> digests{};
    for (std::size_t i = 0; i < kHashAlgorithms.size(); ++i) {
      digests[i] = EVP_MD_fetch(nullptr, kHashAlgorithms[i].openssl_name, nullptr);
    }
    return digests;
  }();
  for (std::size_t i = 0; i < kHashAlgorithms.size(); ++i) {
    if (kHashAlgorithms[i].id == algorithm.id) return fetched[i];
  }
  return nullptr;
}

std::string AlgorithmIdHex(std::uint16_t id) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string text = "0x0000";
  for (int i = 0; i < 4; ++i) text[5 - i] = kDigits[(id >> (4 * i)) & 0xf];
  return text;
}

std::string AlgorithmName(std::uint16_t id) {
  std::optional<HashAlgorithm> algorithm = HashAlgorithmById(id);
  return algorithm ? std::string(algorithm->name) : AlgorithmIdHex(id);
}

Result<Bytes> HashWith(const HashAlgorithm& algorithm, ByteView data) {
  Bytes digest(algorithm.digest_size);
  unsigned int size = 0;
  const EVP_MD* md = FetchedDigest(algorithm);
  if (md == nullptr) return OpensslError(std::string("fetch ") + algorithm.openssl_name);
  int ok = EVP_Digest(data.data(), data.size(), digest.data(), &size, md, nullptr);
  if (ok != 1 || size != digest.size()) return OpensslError("digest");
  return digest;
}

}  // namespace attest::tpm
