// The fast path of ParseEvidence: the evidence read straight from
// simdjson's DOM, with no nlohmann document in between, and its base64
// decoded in one pass into buffers sized from the text. It accepts only
// what the strict path (evidence.cpp) accepts and gives up (nullopt) on
// anything else: an unknown or repeated member, a wrong type, a float, bad
// hex or base64. The strict path then has the final word and names the
// member. evidence_fuzzer checks that the two agree.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "attest/encoding.h"
#include "attest/runtime/entry.h"
#include "attest/runtime/log.h"
#include "attest/sha256.h"
#include "attest/tpm/algorithms.h"
#include "attest/verifier/evidence.h"

namespace attest::verifier::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// The same limits as the strict path (evidence.cpp, json_fast.cpp).
constexpr std::size_t kMaxNonceBytes = 64;
constexpr std::int64_t kMaxExactInteger = std::int64_t{1} << 53;
// Documents up to this size reuse one parser per thread; bigger ones get
// their own, so a rare huge document does not pin its buffers forever.
constexpr std::size_t kReusedParserLimit = std::size_t{1} << 20;

std::optional<std::string_view> StringOf(element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return text;
}

std::optional<Bytes> Base64Of(element value) {
  std::optional<std::string_view> text = StringOf(value);
  if (!text) return std::nullopt;
  std::optional<std::size_t> size = Base64DecodedSize(*text);
  if (!size) return std::nullopt;
  Bytes bytes(*size);
  if (!Base64DecodeInto(*text, bytes).ok()) return std::nullopt;
  return bytes;
}

std::optional<Bytes> NonceOf(element value) {
  std::optional<std::string_view> hex = StringOf(value);
  if (!hex || hex->size() % 2 != 0 || hex->size() / 2 > kMaxNonceBytes) return std::nullopt;
  Bytes bytes(hex->size() / 2);
  if (!DecodeLowercaseHex(*hex, bytes)) return std::nullopt;
  return bytes;
}

// {"sha256": {"0": "hex", ...}, ...}, as PcrValuesFromJson reads it (an
// empty bank object still makes an empty bank).
std::optional<tpm::PcrValues> PcrsOf(element value) {
  simdjson::dom::object banks;
  if (value.get_object().get(banks) != simdjson::SUCCESS) return std::nullopt;
  tpm::PcrValues values;
  for (simdjson::dom::key_value_pair bank_member : banks) {
    Result<tpm::HashAlgorithm> bank = tpm::HashAlgorithmByName(bank_member.key);
    simdjson::dom::object indexes;
    if (!bank.ok() || bank_member.value.get_object().get(indexes) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    auto [bank_values, new_bank] = values.try_emplace(bank->id);
    if (!new_bank) return std::nullopt;  // a repeated bank name
    for (simdjson::dom::key_value_pair index_member : indexes) {
      std::optional<std::uint32_t> index = ParsePcrIndexKey(index_member.key);
      std::optional<std::string_view> hex = StringOf(index_member.value);
      if (!index || !hex) return std::nullopt;
      auto [slot, new_index] = bank_values->second.try_emplace(*index, bank->digest_size);
      if (!new_index || !DecodeLowercaseHex(*hex, slot->second)) return std::nullopt;
    }
  }
  return values;
}

// The members of an object, each at most once and none unknown: a bit per
// name of `names`, and the values in the same order.
template <std::size_t N>
std::optional<std::array<std::optional<element>, N>> MembersOf(
    element value, const std::array<std::string_view, N>& names) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::array<std::optional<element>, N> members;
  for (simdjson::dom::key_value_pair member : object) {
    std::size_t i = 0;
    while (i < N && names[i] != member.key) ++i;
    if (i == N || members[i]) return std::nullopt;  // unknown or repeated
    members[i] = member.value;
  }
  return members;
}

constexpr std::array<std::string_view, 3> kKeyCertificationMembers = {"public", "attest",
                                                                      "signature"};

std::optional<KeyCertification> KeyCertificationOf(element value) {
  auto members = MembersOf(value, kKeyCertificationMembers);
  if (!members) return std::nullopt;
  auto& [key_public, attest, signature] = *members;
  if (!key_public || !attest || !signature) return std::nullopt;
  KeyCertification certification;
  std::optional<Bytes> key_public_bytes = Base64Of(*key_public);
  std::optional<Bytes> attest_bytes = Base64Of(*attest);
  std::optional<Bytes> signature_bytes = Base64Of(*signature);
  if (!key_public_bytes || !attest_bytes || !signature_bytes) return std::nullopt;
  certification.key_public = std::move(*key_public_bytes);
  certification.attest = std::move(*attest_bytes);
  certification.signature = std::move(*signature_bytes);
  return certification;
}

// A non-negative integer as ParseJsonStrict and JsonFields::Unsigned take
// it: no float, nothing beyond 2^53.
std::optional<std::uint64_t> UnsignedOf(element value) {
  if (value.type() == element_type::UINT64) {
    std::uint64_t number = value.get_uint64().value_unsafe();
    if (number > static_cast<std::uint64_t>(kMaxExactInteger)) return std::nullopt;
    return number;
  }
  if (value.type() == element_type::INT64) {
    std::int64_t number = value.get_int64().value_unsafe();
    if (number < 0 || number > kMaxExactInteger) return std::nullopt;
    return static_cast<std::uint64_t>(number);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 9> kRuntimeEntryMembers = {
    "seq", "pcr", "path", "kind", "sha256", "size", "detail", "time", "extend_digest"};

// One entry of runtime/FORMAT.md §4 with every rule of the runtime log's
// reader (runtime/src/log.cpp): members by kind, seq counting from
// skipped + 1 (the evidence's runtime_log_start), the log's PCR,
// CheckRuntimeEntry, and the extend digest recomputed.
std::optional<runtime::RuntimeEntry> RuntimeEntryOf(element value, std::size_t index,
                                                    std::uint64_t skipped, std::uint32_t pcr) {
  auto members = MembersOf(value, kRuntimeEntryMembers);
  if (!members) return std::nullopt;
  auto& [seq, entry_pcr, path, kind, sha256, size, detail, time, extend_digest] = *members;
  if (!seq || !entry_pcr || !path || !kind || !time || !extend_digest) return std::nullopt;
  if (UnsignedOf(*seq) != skipped + index + 1 || UnsignedOf(*entry_pcr) != pcr) {
    return std::nullopt;
  }
  runtime::RuntimeEntry entry;
  entry.pcr = pcr;
  std::optional<std::string_view> path_text = StringOf(*path);
  std::optional<std::string_view> kind_name = StringOf(*kind);
  std::optional<std::string_view> time_text = StringOf(*time);
  if (!path_text || !kind_name || !time_text) return std::nullopt;
  std::optional<runtime::RuntimeKind> entry_kind = runtime::RuntimeKindFromName(*kind_name);
  if (!entry_kind) return std::nullopt;
  entry.path = std::string(*path_text);
  entry.kind = *entry_kind;
  entry.time = std::string(*time_text);
  if (entry.kind == runtime::RuntimeKind::kFile) {
    std::optional<std::string_view> hex = sha256 ? StringOf(*sha256) : std::nullopt;
    std::optional<std::uint64_t> file_size = size ? UnsignedOf(*size) : std::nullopt;
    if (!hex || !file_size || detail || !DecodeLowercaseHex(*hex, entry.sha256)) {
      return std::nullopt;
    }
    entry.size = *file_size;
  } else {
    std::optional<std::string_view> detail_text = detail ? StringOf(*detail) : std::nullopt;
    if (sha256 || size || !detail_text) return std::nullopt;
    entry.detail = std::string(*detail_text);
  }
  if (!runtime::CheckRuntimeEntry(entry, pcr, index).ok()) return std::nullopt;
  std::optional<std::string_view> stored = StringOf(*extend_digest);
  Sha256Digest stored_digest{};
  if (!stored || !DecodeLowercaseHex(*stored, stored_digest) ||
      stored_digest != runtime::RuntimeExtendDigest(entry)) {
    return std::nullopt;
  }
  return entry;
}

constexpr std::array<std::string_view, 4> kRuntimeLogMembers = {"version", "pcr", "bank",
                                                                "entries"};

// `skipped`: the evidence's runtime_log_start (seq counts on from it).
std::optional<runtime::RuntimeLog> RuntimeLogOf(element value, std::uint64_t skipped) {
  auto members = MembersOf(value, kRuntimeLogMembers);
  if (!members) return std::nullopt;
  auto& [version, pcr, bank, entries] = *members;
  if (!version || !pcr || !bank || !entries) return std::nullopt;
  std::optional<std::uint64_t> log_pcr = UnsignedOf(*pcr);
  simdjson::dom::array items;
  if (UnsignedOf(*version) != runtime::kRuntimeLogVersion || !log_pcr ||
      *log_pcr > runtime::kMaxRuntimePcr || StringOf(*bank) != "sha256" ||
      entries->get_array().get(items) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  runtime::RuntimeLog log;
  log.pcr = static_cast<std::uint32_t>(*log_pcr);
  log.entries.reserve(items.size());
  for (element item : items) {
    std::optional<runtime::RuntimeEntry> entry =
        RuntimeEntryOf(item, log.entries.size(), skipped, log.pcr);
    if (!entry) return std::nullopt;
    log.entries.push_back(std::move(*entry));
  }
  return log;
}

constexpr std::array<std::string_view, 9> kEvidenceMembers = {"nonce",
                                                              "attest",
                                                              "signature",
                                                              "pcrs",
                                                              "boot_log",
                                                              "runtime_log",
                                                              "csr",
                                                              "key_certification",
                                                              "runtime_log_start"};

std::optional<Evidence> EvidenceOf(element root) {
  auto members = MembersOf(root, kEvidenceMembers);
  if (!members) return std::nullopt;
  auto& [nonce, attest, signature, pcrs, boot_log, runtime_log, csr, key_certification,
         runtime_log_start] = *members;
  if (!nonce || !attest || !signature || !pcrs) return std::nullopt;
  Evidence evidence;
  std::optional<Bytes> nonce_bytes = NonceOf(*nonce);
  std::optional<Bytes> attest_bytes = Base64Of(*attest);
  std::optional<Bytes> signature_bytes = Base64Of(*signature);
  std::optional<tpm::PcrValues> pcr_values = PcrsOf(*pcrs);
  if (!nonce_bytes || !attest_bytes || !signature_bytes || !pcr_values) return std::nullopt;
  evidence.nonce = std::move(*nonce_bytes);
  evidence.attest = std::move(*attest_bytes);
  evidence.signature = std::move(*signature_bytes);
  evidence.pcrs = std::move(*pcr_values);
  if (boot_log) {
    evidence.boot_log = Base64Of(*boot_log);
    if (!evidence.boot_log) return std::nullopt;
  }
  if (runtime_log_start) {
    std::optional<std::uint64_t> start = UnsignedOf(*runtime_log_start);
    if (!start || !runtime_log) return std::nullopt;
    evidence.runtime_log_start = *start;
  }
  if (runtime_log) {
    evidence.runtime_log = RuntimeLogOf(*runtime_log, evidence.runtime_log_start);
    if (!evidence.runtime_log) return std::nullopt;
  }
  if (csr) {
    std::optional<std::string_view> text = StringOf(*csr);
    if (!text) return std::nullopt;
    evidence.csr = std::string(*text);
  }
  if (key_certification) {
    evidence.key_certification = KeyCertificationOf(*key_certification);
    if (!evidence.key_certification) return std::nullopt;
  }
  return evidence;
}

}  // namespace

std::optional<Evidence> ParseEvidenceFastPath(std::string_view text) {
  if (text.size() > kMaxEvidenceBytes) return std::nullopt;
  thread_local simdjson::dom::parser reused;
  simdjson::dom::parser fresh;
  simdjson::dom::parser& parser = text.size() <= kReusedParserLimit ? reused : fresh;
  element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  return EvidenceOf(root);
}

}  // namespace attest::verifier::internal
