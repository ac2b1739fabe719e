#include "attest/tpm/pcr.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "attest/tpm/algorithms.h"

namespace attest::tpm {
namespace {

Error SelectionError(std::string_view text, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "PCR selection \"" + std::string(text) + "\": " + why);
}

Result<std::uint32_t> ParsePcrIndex(std::string_view text, std::string_view whole) {
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    std::string why = "\"";  // appended: "\"" + std::string(...) is a false -Wrestrict in GCC 12
    why += text;
    why += "\" is not a PCR index";
    return SelectionError(whole, why);
  }
  if (value >= kPcrCount) {
    return SelectionError(whole, "PCR " + std::to_string(value) + " does not exist (0-23)");
  }
  return value;
}

Result<PcrBankSelection> ParseBank(std::string_view bank_text, std::string_view whole) {
  std::size_t colon = bank_text.find(':');
  if (colon == std::string_view::npos) {
    return SelectionError(whole, "expected BANK:INDEXES, e.g. sha256:0,1,7");
  }
  ATTEST_ASSIGN_OR_RETURN(HashAlgorithm algorithm, HashAlgorithmByName(bank_text.substr(0, colon)));
  std::set<std::uint32_t> indexes;
  std::string_view list = bank_text.substr(colon + 1);
  while (!list.empty() || indexes.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    std::size_t dash = item.find('-');
    ATTEST_ASSIGN_OR_RETURN(std::uint32_t first, ParsePcrIndex(item.substr(0, dash), whole));
    std::uint32_t last = first;
    if (dash != std::string_view::npos) {
      ATTEST_ASSIGN_OR_RETURN(last, ParsePcrIndex(item.substr(dash + 1), whole));
      if (last < first) return SelectionError(whole, "range " + std::string(item) + " is empty");
    }
    for (std::uint32_t index = first; index <= last; ++index) indexes.insert(index);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    if (list.empty()) return SelectionError(whole, "trailing comma");
  }
  return PcrBankSelection{algorithm.id, {indexes.begin(), indexes.end()}};
}

}  // namespace

bool PcrSelection::empty() const {
  return std::all_of(banks.begin(), banks.end(),
                     [](const PcrBankSelection& bank) { return bank.indexes.empty(); });
}

std::string PcrSelection::ToString() const {
  std::string text;
  for (const PcrBankSelection& bank : banks) {
    if (!text.empty()) text += '+';
    text += AlgorithmName(bank.hash_algorithm);
    text += ':';
    for (std::size_t i = 0; i < bank.indexes.size(); ++i) {
      if (i > 0) text += ',';
      text += std::to_string(bank.indexes[i]);
    }
  }
  return text;
}

Result<PcrSelection> ParsePcrSelection(std::string_view text) {
  if (text.empty()) return SelectionError(text, "empty");
  PcrSelection selection;
  std::string_view rest = text;
  while (true) {
    std::size_t plus = rest.find('+');
    ATTEST_ASSIGN_OR_RETURN(PcrBankSelection bank, ParseBank(rest.substr(0, plus), text));
    for (const PcrBankSelection& seen : selection.banks) {
      if (seen.hash_algorithm == bank.hash_algorithm) {
        return SelectionError(text, "a bank is named twice");
      }
    }
    selection.banks.push_back(std::move(bank));
    if (plus == std::string_view::npos) break;
    rest.remove_prefix(plus + 1);
  }
  return selection;
}

Result<TPML_PCR_SELECTION> ToTpmSelection(const PcrSelection& selection) {
  TPML_PCR_SELECTION tpm{};
  if (selection.banks.size() > TPM2_NUM_PCR_BANKS) {
    return MakeError(ErrorCode::kInvalidArgument, "too many PCR banks in one selection");
  }
  for (const PcrBankSelection& bank : selection.banks) {
    TPMS_PCR_SELECTION& out = tpm.pcrSelections[tpm.count++];
    out.hash = bank.hash_algorithm;
    out.sizeofSelect = 3;
    for (std::uint32_t index : bank.indexes) {
      if (index >= kPcrCount) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "PCR " + std::to_string(index) + " does not exist (0-23)");
      }
      out.pcrSelect[index / 8] |= static_cast<std::uint8_t>(1u << (index % 8));
    }
  }
  return tpm;
}

Result<PcrSelection> FromTpmSelection(const TPML_PCR_SELECTION& tpm_selection) {
  if (tpm_selection.count > TPM2_NUM_PCR_BANKS) {
    return MakeError(ErrorCode::kCorrupt,
                     "PCR selection lists " + std::to_string(tpm_selection.count) +
                         " banks; at most " + std::to_string(TPM2_NUM_PCR_BANKS) + " exist");
  }
  PcrSelection selection;
  for (std::uint32_t i = 0; i < tpm_selection.count; ++i) {
    const TPMS_PCR_SELECTION& in = tpm_selection.pcrSelections[i];
    if (in.sizeofSelect > sizeof(in.pcrSelect)) {
      return MakeError(ErrorCode::kCorrupt, "PCR selection bitmap is too long");
    }
    PcrBankSelection bank{in.hash, {}};
    for (std::uint32_t byte = 0; byte < in.sizeofSelect; ++byte) {
      for (std::uint32_t bit = 0; bit < 8; ++bit) {
        if ((in.pcrSelect[byte] & (1u << bit)) == 0) continue;
        // tss2-mu allows a 4-byte bitmap; PCRs 24-31 do not exist here.
        if (byte * 8 + bit >= kPcrCount) {
          return MakeError(ErrorCode::kCorrupt, "PCR selection names PCR " +
                                                    std::to_string(byte * 8 + bit) +
                                                    ", which does not exist (0-23)");
        }
        bank.indexes.push_back(byte * 8 + bit);
      }
    }
    selection.banks.push_back(std::move(bank));
  }
  return selection;
}

Result<Bytes> PcrCompositeDigest(const PcrSelection& selection, const PcrValues& values,
                                 std::uint16_t digest_algorithm) {
  auto algorithm = HashAlgorithmById(digest_algorithm);
  if (!algorithm) {
    return MakeError(
        ErrorCode::kUnsupported,
        "PCR digest algorithm " + std::to_string(digest_algorithm) + " is not supported");
  }
  Bytes concatenated;
  for (const PcrBankSelection& bank : selection.banks) {
    auto bank_algorithm = HashAlgorithmById(bank.hash_algorithm);
    auto bank_values = values.find(bank.hash_algorithm);
    for (std::uint32_t index : bank.indexes) {
      std::string where = "PCR " + std::to_string(index) + " of bank " +
                          (bank_algorithm ? std::string(bank_algorithm->name)
                                          : std::to_string(bank.hash_algorithm));
      if (bank_values == values.end() || !bank_values->second.contains(index)) {
        return MakeError(ErrorCode::kInvalidArgument, where + " is selected but has no value");
      }
      const Bytes& value = bank_values->second.at(index);
      if (!bank_algorithm || value.size() != bank_algorithm->digest_size) {
        return MakeError(ErrorCode::kInvalidArgument,
                         where + " has " + std::to_string(value.size()) + " bytes");
      }
      concatenated.insert(concatenated.end(), value.begin(), value.end());
    }
  }
  return HashWith(*algorithm, concatenated);
}

}  // namespace attest::tpm
