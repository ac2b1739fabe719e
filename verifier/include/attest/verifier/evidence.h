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
#include "attest/protocol/evidence_document.h"

namespace attest::verifier {

using protocol::Evidence;
using protocol::EvidenceToJson;
using protocol::KeyCertification;
using protocol::kMaxEvidenceBytes;
using protocol::ParsePcrIndexKey;
using protocol::PcrValuesFromJson;
using protocol::PcrValuesToJson;

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
}  // namespace attest::verifier
