// Replays an IMA list into PCR values: PCR := H(PCR || event digest) per
// record, where the event digest is the bank's hash of the template data
// (kernels >= 5.8) or the sha1 template digest padded to the bank (older
// kernels), and 0xff.. for a violation (ima_add_violation never extends zeros).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "attest/openssl.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/ima_log.h"

namespace attest::verifier {
namespace {

using EvpMdPtr = std::unique_ptr<EVP_MD, OpensslDeleter<EVP_MD_free>>;

// One bank's digest, fetched once and reused for every record.
class BankHasher {
 public:
  static Result<BankHasher> Create(std::uint16_t algorithm_id) {
    std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(algorithm_id);
    if (!algorithm) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unknown PCR bank algorithm " + std::to_string(algorithm_id));
    }
    EvpMdPtr md(EVP_MD_fetch(nullptr, algorithm->openssl_name, nullptr));
    if (!md) return OpensslError(std::string("fetch ") + algorithm->openssl_name);
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) return OpensslError("EVP_MD_CTX_new");
    return BankHasher(*algorithm, std::move(md), std::move(ctx));
  }

  const tpm::HashAlgorithm& algorithm() const { return algorithm_; }

  Result<Bytes> Hash(ByteView first, ByteView second = {}) {
    Bytes digest(algorithm_.digest_size);
    unsigned int size = 0;
    if (EVP_DigestInit_ex2(ctx_.get(), md_.get(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx_.get(), first.data(), first.size()) != 1 ||
        EVP_DigestUpdate(ctx_.get(), second.data(), second.size()) != 1 ||
        EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) != 1 || size != digest.size()) {
      return OpensslError(std::string("digest ") + algorithm_.openssl_name);
    }
    return digest;
  }

 private:
  BankHasher(tpm::HashAlgorithm algorithm, EvpMdPtr md, EvpMdCtxPtr ctx)
      : algorithm_(algorithm), md_(std::move(md)), ctx_(std::move(ctx)) {}

  tpm::HashAlgorithm algorithm_;
  EvpMdPtr md_;
  EvpMdCtxPtr ctx_;
};

std::string Where(const ImaLog& log, const ImaEntry& entry) {
  return (log.format == ImaLogFormat::kAscii ? "line " : "byte offset ") +
         std::to_string(entry.position);
}

Result<std::vector<BankHasher>> MakeHashers(std::span<const std::uint16_t> banks) {
  std::vector<BankHasher> hashers;
  for (std::size_t i = 0; i < banks.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (banks[j] == banks[i]) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "PCR bank " + std::to_string(banks[i]) + " requested twice");
      }
    }
    ATTEST_ASSIGN_OR_RETURN(BankHasher hasher, BankHasher::Create(banks[i]));
    hashers.push_back(std::move(hasher));
  }
  return hashers;
}

// The list's own template digest is sha1 (20 bytes) or sha256 (32 bytes) of
// the template data; a mismatch means the record was altered, or its path
// or digest mis-read, and no replay over it can be trusted.
class TemplateDigestChecker {
 public:
  static Result<TemplateDigestChecker> Create(const ImaLog& log) {
    std::uint16_t id = log.template_digest_size == 20 ? TPM2_ALG_SHA1 : TPM2_ALG_SHA256;
    if (log.template_digest_size != 20 && log.template_digest_size != 32) {
      return MakeError(ErrorCode::kInvalidArgument, "IMA template digest size " +
                                                        std::to_string(log.template_digest_size) +
                                                        " is not 20 or 32");
    }
    ATTEST_ASSIGN_OR_RETURN(BankHasher hasher, BankHasher::Create(id));
    return TemplateDigestChecker(std::move(hasher));
  }

  Status Check(const ImaLog& log, const ImaEntry& entry) {
    if (entry.violation()) return OkStatus();
    ATTEST_ASSIGN_OR_RETURN(Bytes digest, hasher_.Hash(entry.template_data));
    if (digest != entry.template_digest) {
      return MakeError(ErrorCode::kVerificationFailed,
                       Where(log, entry) + ": template digest does not match the " +
                           std::string(hasher_.algorithm().name) + " of the " +
                           entry.template_name + " template data");
    }
    return OkStatus();
  }

 private:
  explicit TemplateDigestChecker(BankHasher hasher) : hasher_(std::move(hasher)) {}
  BankHasher hasher_;
};

enum class KernelModel { kPerBankDigests, kSha1Padded };

Result<tpm::PcrValues> Replay(const ImaLog& log, std::span<const std::uint16_t> banks,
                              KernelModel model) {
  ATTEST_ASSIGN_OR_RETURN(std::vector<BankHasher> hashers, MakeHashers(banks));
  ATTEST_ASSIGN_OR_RETURN(TemplateDigestChecker checker, TemplateDigestChecker::Create(log));
  tpm::PcrValues values;
  for (const ImaEntry& entry : log.entries) {
    ATTEST_RETURN_IF_ERROR(checker.Check(log, entry));
    for (BankHasher& hasher : hashers) {
      std::size_t size = hasher.algorithm().digest_size;
      Bytes& pcr = values[hasher.algorithm().id][entry.pcr];
      if (pcr.empty()) pcr.assign(size, 0);
      Bytes event;
      if (model == KernelModel::kPerBankDigests) {
        if (entry.violation()) {
          event.assign(size, 0xff);
        } else {
          ATTEST_ASSIGN_OR_RETURN(event, hasher.Hash(entry.template_data));
        }
      } else {
        event = entry.violation() ? Bytes(20, 0xff) : entry.template_digest;
        event.resize(size, 0);
      }
      ATTEST_ASSIGN_OR_RETURN(pcr, hasher.Hash(pcr, event));
    }
  }
  return values;
}

}  // namespace

Result<tpm::PcrValues> ReplayImaLog(const ImaLog& log, std::span<const std::uint16_t> banks) {
  return Replay(log, banks, KernelModel::kPerBankDigests);
}

Result<tpm::PcrValues> ReplayImaLogLegacyKernel(const ImaLog& log,
                                                std::span<const std::uint16_t> banks) {
  if (log.template_digest_size != 20) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the legacy-kernel replay needs a list of 20-byte template digests, not " +
                         std::to_string(log.template_digest_size));
  }
  return Replay(log, banks, KernelModel::kSha1Padded);
}

}  // namespace attest::verifier
