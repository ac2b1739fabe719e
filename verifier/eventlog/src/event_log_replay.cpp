// Replay: PCR[i] = H(PCR[i] || digest) for every extending event, per bank,
// from the reset values (README rules 1-4 and 8 of the test vectors).
#include <algorithm>
#include <array>
#include <cstring>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "attest/openssl.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/event_log.h"

namespace attest::verifier {
namespace {

using EvpMdPtr = std::unique_ptr<EVP_MD, OpensslDeleter<EVP_MD_free>>;

// One bank's 24 PCRs in fixed storage, so the replay loop never allocates.
struct BankState {
  std::uint16_t algorithm_id = 0;
  std::size_t digest_size = 0;
  EvpMdPtr md;
  std::array<std::array<std::uint8_t, EVP_MAX_MD_SIZE>, tpm::kPcrCount> values{};
  std::array<bool, tpm::kPcrCount> touched{};  // extended, or initial value set
  std::array<bool, tpm::kPcrCount> unknown{};  // an extend lacked this bank's digest
};

// PCR 0's initial value: locality 4 for H-CRTM, else the StartupLocality.
std::optional<std::uint8_t> Pcr0Locality(const EventLog& log) {
  if (log.hcrtm) return std::uint8_t{4};
  return log.startup_locality;
}

// Precondition: digest.size() == bank.digest_size. `initialized` holds a
// context already initialized for the bank: copying it is cheaper than
// EVP_DigestInit_ex2, and one Update of PCR || digest cheaper than two.
bool Extend(EVP_MD_CTX* ctx, const EVP_MD_CTX* initialized, BankState& bank, std::uint32_t pcr,
            ByteView digest) {
  std::uint8_t* value = bank.values[pcr].data();
  std::array<std::uint8_t, 2 * EVP_MAX_MD_SIZE> input;
  std::memcpy(input.data(), value, bank.digest_size);
  std::memcpy(input.data() + bank.digest_size, digest.data(), bank.digest_size);
  unsigned int out_size = 0;
  return EVP_MD_CTX_copy_ex(ctx, initialized) == 1 &&
         EVP_DigestUpdate(ctx, input.data(), 2 * bank.digest_size) == 1 &&
         EVP_DigestFinal_ex(ctx, value, &out_size) == 1 && out_size == bank.digest_size;
}

void ReplayBank(const EventLog& log, EVP_MD_CTX* ctx, const EVP_MD_CTX* initialized,
                BankState& bank) {
  for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
    std::memset(bank.values[pcr].data(), tpm::PcrResetByte(pcr), bank.digest_size);
  }
  if (std::optional<std::uint8_t> locality = Pcr0Locality(log)) {
    bank.values[0][bank.digest_size - 1] = *locality;
    bank.touched[0] = true;
  }
  for (const BootEvent& event : log.events) {
    if (event.type == kEvNoAction) continue;
    // The parser rejects extending events with PCR >= 24; a hand-built
    // EventLog may not have gone through it.
    if (event.pcr >= tpm::kPcrCount) continue;
    bank.touched[event.pcr] = true;
    const EventDigest* digest = event.digests.Find(bank.algorithm_id);
    if (digest == nullptr || digest->digest.size() != bank.digest_size ||
        !Extend(ctx, initialized, bank, event.pcr, digest->digest)) {
      bank.unknown[event.pcr] = true;
    }
  }
}

}  // namespace

tpm::PcrValues ReplayEventLog(const EventLog& log) { return ReplayEventLog(log, log.banks); }

tpm::PcrValues ReplayEventLog(const EventLog& log, std::span<const std::uint16_t> banks) {
  tpm::PcrValues result;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EvpMdCtxPtr initialized(EVP_MD_CTX_new());
  if (!ctx || !initialized) return result;
  BankState bank_storage;
  for (std::uint16_t algorithm_id : log.banks) {
    if (std::ranges::find(banks, algorithm_id) == banks.end()) continue;
    std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(algorithm_id);
    if (!algorithm || algorithm->digest_size > EVP_MAX_MD_SIZE) continue;
    // Fetched once per bank, not per event: EVP_MD_fetch is a locked lookup.
    bank_storage = BankState{};
    BankState* bank = &bank_storage;
    bank->algorithm_id = algorithm_id;
    bank->digest_size = algorithm->digest_size;
    bank->md.reset(EVP_MD_fetch(nullptr, algorithm->openssl_name, nullptr));
    if (!bank->md || EVP_DigestInit_ex2(initialized.get(), bank->md.get(), nullptr) != 1) {
      ERR_clear_error();
      continue;  // this OpenSSL cannot hash the bank (e.g. SM3 disabled)
    }
    ReplayBank(log, ctx.get(), initialized.get(), *bank);
    std::map<std::uint32_t, Bytes>& values = result[algorithm_id];
    for (std::uint32_t pcr = 0; pcr < tpm::kPcrCount; ++pcr) {
      if (!bank->touched[pcr] || bank->unknown[pcr]) continue;
      const std::uint8_t* value = bank->values[pcr].data();
      values.emplace(pcr, Bytes(value, value + bank->digest_size));
    }
    if (values.empty()) result.erase(algorithm_id);
  }
  return result;
}

}  // namespace attest::verifier
