// The evidence document attestd posts (DESIGN §3) and the CLI reads from a
// file: a TPM quote, the PCR values it covers, and the logs that explain
// them. Everything in it is untrusted until the checks in verify.h pass.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/json.h"
#include "attest/runtime/log.h"
#include "attest/tpm/pcr.h"

namespace attest::verifier {

// A boot log is tens of KiB and a runtime log a few; anything near this is
// an attack or a mistake, refused before parsing.
inline constexpr std::size_t kMaxEvidenceBytes = std::size_t{16} * 1024 * 1024;

// TPM2_Certify of the CSR's key by the AK, with the key's public area (the
// certification names the key by a hash of it).
struct KeyCertification {
  Bytes key_public;  // marshaled TPM2B_PUBLIC of the certified key ("public")
  Bytes attest;      // marshaled TPMS_ATTEST
  Bytes signature;   // marshaled TPMT_SIGNATURE
};

struct Evidence {
  Bytes nonce;      // the verifier's challenge, as the node says it used it
  Bytes attest;     // marshaled TPMS_ATTEST: the signed bytes, kept exactly
  Bytes signature;  // marshaled TPMT_SIGNATURE
  tpm::PcrValues pcrs;
  std::optional<Bytes> boot_log;  // raw TCG event log
  std::optional<runtime::RuntimeLog> runtime_log;
  // How many entries of the node's runtime log `runtime_log` leaves out
  // before its first (its seq numbers start at runtime_log_start + 1): the
  // verifier's cursor (docs/protocol.md §6). 0: the log is whole. Set only
  // with a runtime_log.
  std::uint64_t runtime_log_start = 0;
  std::optional<std::string> csr;  // PKCS#10 PEM
  std::optional<KeyCertification> key_certification;
};

// Strict: unknown members, wrong types, bad hex or base64, PCR values of the
// wrong size for their bank are kCorrupt naming the member
// ("pcrs.sha256.4: ..."). `name` (a file name, or "evidence") starts every
// message.
Result<Evidence> ParseEvidence(std::string_view text, std::string_view name);
// ParseEvidence for documents from anyone on the network, before anything
// is authenticated: one the fast path leaves over `reread_limit` bytes is
// refused (kCorrupt) without the strict re-read that would name the member,
// whose JSON tree costs some 25 times the text (16 MiB of "{}" is ~0.4 GiB).
Result<Evidence> ParseUntrustedEvidence(std::string_view text, std::string_view name,
                                        std::size_t reread_limit);
namespace internal {
// ParseEvidence's two paths, exposed for the differential fuzzer: the fast
// one (simdjson, evidence_fast.cpp) gives nullopt for anything it leaves to
// the strict one, which has the final word and names the member.
std::optional<Evidence> ParseEvidenceFastPath(std::string_view text);
Result<Evidence> ParseEvidenceStrictPath(std::string_view text, std::string_view name);
}  // namespace internal
// The same document, for attestd and for tests. Fails only for a runtime
// log that SerializeRuntimeLog refuses.
Result<Json> EvidenceToJson(const Evidence& evidence);

// {"sha256": {"0": "hex", ...}, ...} both ways; banks by name. Reading
// fails with kCorrupt naming `field`.
Json PcrValuesToJson(const tpm::PcrValues& values);
Result<tpm::PcrValues> PcrValuesFromJson(const Json& value, std::string_view field);
// A PCR index as a JSON member name: "0" to "23", no sign, no leading zero.
std::optional<std::uint32_t> ParsePcrIndexKey(std::string_view text);

}  // namespace attest::verifier
