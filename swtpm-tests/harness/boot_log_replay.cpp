#include "harness/boot_log_replay.h"

#include <map>
#include <set>
#include <string>

#include "attest/encoding.h"
#include "attest/verifier/event_log.h"

namespace attest::test {

Result<std::size_t> ExtendBootLog(attestd::Tpm& tpm, ByteView log) {
  ATTEST_ASSIGN_OR_RETURN(verifier::EventLog parsed, verifier::ParseEventLog(log));
  if (parsed.startup_locality.has_value() || parsed.hcrtm) {
    return MakeError(ErrorCode::kUnsupported,
                     "the log starts from a locality other than 0 or an H-CRTM sequence, which "
                     "extends from software cannot reproduce");
  }
  ATTEST_ASSIGN_OR_RETURN(std::vector<std::uint16_t> active, tpm.ActivePcrBanks());
  const std::set<std::uint16_t> tpm_banks(active.begin(), active.end());
  std::size_t extends = 0;
  tpm::PcrSelection touched;
  std::map<std::uint16_t, std::set<std::uint32_t>> pcrs_by_bank;
  for (const verifier::BootEvent& event : parsed.events) {
    if (event.type == verifier::kEvNoAction) continue;
    std::map<std::uint16_t, Bytes> digests;
    for (const verifier::EventDigest& digest : event.digests) {
      if (!tpm_banks.contains(digest.algorithm_id)) continue;
      digests[digest.algorithm_id] = Bytes(digest.digest.begin(), digest.digest.end());
      pcrs_by_bank[digest.algorithm_id].insert(event.pcr);
    }
    if (digests.empty()) continue;
    ATTEST_RETURN_IF_ERROR(tpm.ExtendPcr(event.pcr, digests));
    ++extends;
  }
  // The TPM must now hold what the verifier's replay of the log computes.
  const tpm::PcrValues replay = verifier::ReplayEventLog(parsed);
  for (const auto& [bank, pcrs] : pcrs_by_bank) {
    touched.banks.push_back({bank, std::vector<std::uint32_t>(pcrs.begin(), pcrs.end())});
  }
  ATTEST_ASSIGN_OR_RETURN(tpm::PcrValues values, tpm.ReadPcrs(touched));
  for (const auto& [bank, pcrs] : pcrs_by_bank) {
    for (std::uint32_t pcr : pcrs) {
      if (values[bank][pcr] != replay.at(bank).at(pcr)) {
        return MakeError(ErrorCode::kVerificationFailed,
                         "PCR " + std::to_string(pcr) + " holds " + HexEncode(values[bank][pcr]) +
                             " after the extends, but the log replays to " +
                             HexEncode(replay.at(bank).at(pcr)));
      }
    }
  }
  return extends;
}

}  // namespace attest::test
