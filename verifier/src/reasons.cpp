#include "attest/verifier/reasons.h"

#include <array>
#include <utility>

namespace attest::verifier {
namespace {

constexpr std::array<std::string_view, 18> kNames = {
    "NONCE_UNKNOWN",         "NONCE_EXPIRED",
    "NONCE_REUSED",          "ATTEST_MALFORMED",
    "SIGNATURE_INVALID",     "NONCE_MISMATCH",
    "PCR_DIGEST_MISMATCH",   "BOOT_LOG_REQUIRED",
    "BOOT_LOG_MALFORMED",    "BOOT_LOG_REPLAY_MISMATCH",
    "RUNTIME_LOG_MALFORMED", "RUNTIME_LOG_REPLAY_MISMATCH",
    "BOOT_POLICY_VIOLATION", "RUNTIME_NOT_APPROVED",
    "RUNTIME_MISSING",       "CLOCK_ROLLBACK",
    "CLOCK_UNSAFE",          "REBOOTED",
};
static_assert(kNames.size() == static_cast<std::size_t>(ReasonCode::kRebooted) + 1);

}  // namespace

std::string_view ReasonCodeName(ReasonCode code) { return kNames[static_cast<std::size_t>(code)]; }

bool IsInformational(ReasonCode code) { return code == ReasonCode::kRebooted; }

Reason MakeReason(ReasonCode code, std::string detail) {
  return Reason{code, std::move(detail), std::nullopt, ""};
}

Reason MakePcrReason(ReasonCode code, std::uint32_t pcr, std::string detail) {
  return Reason{code, std::move(detail), pcr, ""};
}

Reason MakePathReason(ReasonCode code, std::string path, std::string detail) {
  return Reason{code, std::move(detail), std::nullopt, std::move(path)};
}

Json ReasonToJson(const Reason& reason) {
  Json json = {{"code", ReasonCodeName(reason.code)}, {"detail", reason.detail}};
  if (reason.pcr) json["pcr"] = *reason.pcr;
  if (!reason.path.empty()) json["path"] = reason.path;
  if (IsInformational(reason.code)) json["informational"] = true;
  return json;
}

}  // namespace attest::verifier
