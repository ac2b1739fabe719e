#include "attest/verifier/verified_event_log.h"

#include <algorithm>

#include "attest/tpm/algorithms.h"

namespace attest::verifier {
namespace {

bool LogHasBank(const EventLog& log, std::uint16_t bank) {
  return std::ranges::find(log.banks, bank) != log.banks.end();
}

// The extends of `pcr` with their `bank` digests; nullopt when one of them
// lacks a digest of the bank's size (the PCR's value is then unknown, and
// a quote at the reset value must not make made-up events look verified).
std::optional<std::vector<VerifiedExtend>> ExtendsOf(const EventLog& log, std::uint32_t pcr,
                                                     std::uint16_t bank, std::size_t digest_size) {
  std::vector<VerifiedExtend> extends;
  for (std::size_t index = 0; index < log.events.size(); ++index) {
    const BootEvent& event = log.events[index];
    if (event.pcr != pcr || event.type == kEvNoAction) continue;
    const EventDigest* digest = event.digests.Find(bank);
    if (digest == nullptr || digest->digest.size() != digest_size) return std::nullopt;
    extends.push_back(VerifiedExtend{&event, index, extends.size(), digest->digest});
  }
  return extends;
}

// ReplayEventLog leaves out a bank this OpenSSL cannot hash (SM3 under a
// FIPS-only configuration): nothing of it is known.
bool CanHash(const tpm::HashAlgorithm& algorithm) {
  return tpm::HashWith(algorithm, ByteView()).ok();
}

}  // namespace

std::optional<std::span<const VerifiedExtend>> VerifiedEventLog::Extends(std::uint32_t pcr,
                                                                         std::uint16_t bank) const {
  auto found = verified_.find({pcr, bank});
  if (found == verified_.end()) return std::nullopt;
  return std::span<const VerifiedExtend>(found->second);
}

std::optional<std::uint16_t> VerifiedEventLog::StrongestBank(std::uint32_t pcr) const {
  std::optional<std::uint16_t> strongest;
  std::size_t strongest_size = 0;
  for (const auto& [key, extends] : verified_) {
    if (key.first != pcr) continue;
    std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(key.second);
    if (algorithm && algorithm->digest_size > strongest_size) {
      strongest = key.second;
      strongest_size = algorithm->digest_size;
    }
  }
  return strongest;
}

VerifiedEventLog VerifyEventLog(const EventLog& log, const tpm::PcrValues& replayed,
                                const tpm::PcrValues& quoted,
                                std::span<const std::uint32_t> excluded_pcrs) {
  VerifiedEventLog result;
  for (const auto& [bank, values] : quoted) {
    std::optional<tpm::HashAlgorithm> algorithm = tpm::HashAlgorithmById(bank);
    if (!algorithm || !LogHasBank(log, bank) || !CanHash(*algorithm)) {
      result.unexplained_banks_.push_back(bank);
      continue;
    }
    auto bank_replay = replayed.find(bank);
    for (const auto& [pcr, quoted_value] : values) {
      if (std::ranges::find(excluded_pcrs, pcr) != excluded_pcrs.end()) continue;
      std::optional<std::vector<VerifiedExtend>> extends =
          ExtendsOf(log, pcr, bank, algorithm->digest_size);
      std::optional<Bytes> replayed_value;
      if (bank_replay != replayed.end()) {
        auto value = bank_replay->second.find(pcr);
        if (value != bank_replay->second.end()) replayed_value = value->second;
      }
      // The reset value only for a PCR the log never extends: a PCR with
      // events but no replayed value is unknown, not at reset.
      if (extends && !extends->empty() && !replayed_value) extends.reset();
      Bytes expected = replayed_value.value_or(tpm::PcrResetValue(pcr, algorithm->digest_size));
      if (!extends) {
        result.mismatches_.push_back(PcrMismatch{pcr, bank, {}, quoted_value});
      } else if (expected != quoted_value) {
        result.mismatches_.push_back(PcrMismatch{pcr, bank, std::move(expected), quoted_value});
      } else {
        result.verified_.emplace(std::make_pair(pcr, bank), std::move(*extends));
      }
    }
  }
  return result;
}

}  // namespace attest::verifier
