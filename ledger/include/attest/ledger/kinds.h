// The entry kinds a ledger accepts (FORMAT.md §5), each spelled once: the
// signer, the verifier and the ledger's own validation name them from here.
#pragma once

#include <array>
#include <string_view>

namespace attest::ledger::kinds {

inline constexpr std::string_view kArtifactApproved = "artifact.approved";
inline constexpr std::string_view kArtifactRevoked = "artifact.revoked";
inline constexpr std::string_view kAttestationFailed = "attestation.failed";
inline constexpr std::string_view kCertIssued = "cert.issued";
inline constexpr std::string_view kCertRevoked = "cert.revoked";
inline constexpr std::string_view kConfigChanged = "config.changed";
inline constexpr std::string_view kNodeApproved = "node.approved";
inline constexpr std::string_view kNodeEnrolled = "node.enrolled";
inline constexpr std::string_view kNodeReenrollAllowed = "node.reenroll_allowed";
inline constexpr std::string_view kNodeRevoked = "node.revoked";
inline constexpr std::string_view kNodeTrusted = "node.trusted";
inline constexpr std::string_view kNodeUntrusted = "node.untrusted";
inline constexpr std::string_view kPolicyApplied = "policy.applied";
inline constexpr std::string_view kPolicySigned = "policy.signed";
inline constexpr std::string_view kTokenCreated = "token.created";
inline constexpr std::string_view kTokenRevoked = "token.revoked";

// Add a kind above, here and to FORMAT.md §5 before emitting it.
inline constexpr std::array<std::string_view, 16> kAll = {
    kArtifactApproved,    kArtifactRevoked, kAttestationFailed, kCertIssued,
    kCertRevoked,         kConfigChanged,   kNodeApproved,      kNodeEnrolled,
    kNodeReenrollAllowed, kNodeRevoked,     kNodeTrusted,       kNodeUntrusted,
    kPolicyApplied,       kPolicySigned,    kTokenCreated,      kTokenRevoked,
};

}  // namespace attest::ledger::kinds
