// Which PCRs to read or quote, and the values read: the plain-C++ form of
// TPML_PCR_SELECTION and of a set of PCR digests, with the text form
// operators use ("sha256:0,1,2,7+sha1:0").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <tss2/tss2_tpm2_types.h>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::tpm {

inline constexpr std::uint32_t kPcrCount = 24;  // PC Client platforms have 24 PCRs

struct PcrBankSelection {
  std::uint16_t hash_algorithm;        // TPM_ALG_ID
  std::vector<std::uint32_t> indexes;  // ascending, no duplicates
};

// Banks keep the order given: a quote's pcrDigest hashes them in that order.
struct PcrSelection {
  std::vector<PcrBankSelection> banks;

  bool empty() const;
  std::string ToString() const;  // "sha256:0,1,2+sha1:0"
};

// "sha256:0,1,2,7+sha1:0-3". Rejects unknown banks, indexes >= 24, a bank
// named twice, an empty list.
Result<PcrSelection> ParsePcrSelection(std::string_view text);

// kInvalidArgument for more banks than a TPML_PCR_SELECTION holds or a PCR
// past 23.
Result<TPML_PCR_SELECTION> ToTpmSelection(const PcrSelection& selection);
// What a TPM returned or signed. kCorrupt for a count or bitmap size past
// the structure's bounds, or a PCR past 23; a bank this build does not know
// is kept (ToString names it "alg<id>") and refused by whatever needs its
// algorithm.
Result<PcrSelection> FromTpmSelection(const TPML_PCR_SELECTION& selection);

// A PCR's value after a TPM reset (PC Client PTP): zeros, except the
// locality-4 DRTM PCRs 17-22, which start as all ones.
inline std::uint8_t PcrResetByte(std::uint32_t pcr) { return pcr >= 17 && pcr <= 22 ? 0xff : 0x00; }
inline Bytes PcrResetValue(std::uint32_t pcr, std::size_t digest_size) {
  return Bytes(digest_size, PcrResetByte(pcr));
}

// bank (TPM_ALG_ID) -> PCR index -> digest.
using PcrValues = std::map<std::uint16_t, std::map<std::uint32_t, Bytes>>;

// The quote's pcrDigest: the hash, with `digest_algorithm`, of the selected
// values concatenated in selection order. Fails if a selected value is
// missing from `values` or has the wrong size for its bank.
Result<Bytes> PcrCompositeDigest(const PcrSelection& selection, const PcrValues& values,
                                 std::uint16_t digest_algorithm);

}  // namespace attest::tpm
