#include "attest/verifier/reasons.h"

#include <array>
#include <utility>

namespace attest::verifier {
namespace {

constexpr std::array<std::string_view, 22> kNames = {
    "NONCE_UNKNOWN",         "NONCE_EXPIRED",
    "NONCE_REUSED",          "ATTEST_MALFORMED",
    "SIGNATURE_INVALID",     "NONCE_MISMATCH",
    "PCR_DIGEST_MISMATCH",   "BOOT_LOG_REQUIRED",
    "BOOT_LOG_MALFORMED",    "BOOT_LOG_REPLAY_MISMATCH",
    "RUNTIME_LOG_MALFORMED", "RUNTIME_LOG_REPLAY_MISMATCH",
    "BOOT_POLICY_VIOLATION", "RUNTIME_NOT_APPROVED",
    "RUNTIME_MISSING",       "CLOCK_ROLLBACK",
    "CLOCK_UNSAFE",          "REBOOTED",
    "NONCE_NOT_CHECKED",     "BOOT_LOG_RUNTIME_PCR",
    "BOOT_EVENT_UNBOUND",    "RUNTIME_LOG_REQUIRED",
};
static_assert(kNames.size() == static_cast<std::size_t>(ReasonCode::kRuntimeLogRequired) + 1);

}  // namespace

std::string_view ReasonCodeName(ReasonCode code) { return kNames[static_cast<std::size_t>(code)]; }

bool IsInformational(ReasonCode code) {
  return code == ReasonCode::kRebooted || code == ReasonCode::kBootEventUnbound;
}

Reason MakeReason(ReasonCode code, std::string detail) {
  return Reason{code, std::move(detail), std::nullopt, "", std::nullopt};
}

Reason MakePcrReason(ReasonCode code, std::uint32_t pcr, std::string detail) {
  return Reason{code, std::move(detail), pcr, "", std::nullopt};
}

Reason MakePathReason(ReasonCode code, std::string path, std::string detail) {
  return Reason{code, std::move(detail), std::nullopt, std::move(path), std::nullopt};
}

Reason MakeEventReason(ReasonCode code, std::size_t event, std::uint32_t pcr, std::string detail) {
  return Reason{code, std::move(detail), pcr, "", event};
}

Json ReasonToJson(const Reason& reason) {
  Json json = {{"code", ReasonCodeName(reason.code)}, {"detail", reason.detail}};
  if (reason.pcr) json["pcr"] = *reason.pcr;
  if (!reason.path.empty()) json["path"] = reason.path;
  if (reason.event) json["event"] = *reason.event;
  if (IsInformational(reason.code)) json["informational"] = true;
  return json;
}

}  // namespace attest::verifier
