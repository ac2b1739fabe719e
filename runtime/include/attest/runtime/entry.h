// One runtime measurement event (a container runtime binary or config file,
// DESIGN §4) and the digest attestd extends into the runtime PCR for it.
// Everything here is a pure function of its inputs; FORMAT.md §1-2 specifies
// the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/sha256.h"

namespace attest::runtime {

// PCR 15: not resettable from software (16 and 23 are), unused by firmware.
inline constexpr std::uint32_t kDefaultRuntimePcr = 15;
// PC Client TPMs have 24 PCRs; the runtime log accepts no other index.
inline constexpr std::uint32_t kMaxRuntimePcr = 23;

// What measuring a path found. Every outcome is an event that gets extended:
// a root attacker who deletes an error event from the log breaks replay.
enum class RuntimeKind {
  kFile,        // a regular file, hashed: sha256 and size are set
  kMissing,     // the path does not exist (ENOENT, ENOTDIR)
  kUnreadable,  // exists but cannot be hashed: EACCES, ELOOP, not a regular file, EIO,
                // or a name that is not UTF-8 (logged escaped)
  kUnstable,    // kept changing while it was hashed, on every attempt
  kSaveFailed,  // not a measurement: attestd could not save its log (FORMAT.md §6);
                // path is always kSaveFailedMarkerPath. Never approvable.
};

// The stable spelling used in the log and in the extend digest: "file",
// "missing", "unreadable", "unstable", "save-failed".
std::string_view RuntimeKindName(RuntimeKind kind);
// The inverse; nullopt for anything else (including other capitalizations).
std::optional<RuntimeKind> RuntimeKindFromName(std::string_view name);

// The fixed path of every kSaveFailed entry, whatever log path attestd is
// configured with, so the marker's extend digest is one constant that a
// verifier can recognize (kSaveFailedExtendDigest).
inline constexpr std::string_view kSaveFailedMarkerPath = "/run/attestd/runtime-log.json";

struct RuntimeEntry {
  std::uint32_t pcr = kDefaultRuntimePcr;
  std::string path;  // absolute, valid UTF-8, as the pattern or glob named it
  RuntimeKind kind = RuntimeKind::kFile;
  Sha256Digest sha256{};   // kFile only; all zero otherwise
  std::uint64_t size = 0;  // kFile only; 0 otherwise
  std::string detail;      // other kinds only: why, e.g. "open: Permission denied (EACCES)"
  std::string time;        // when measured, RFC 3339 UTC (attest::FormatRfc3339Utc)

  bool operator==(const RuntimeEntry&) const = default;
};

// Domain separation for the encoding below; the trailing "v1" changes with
// any change to the encoding.
inline constexpr std::string_view kRuntimeEventDomain = "attestd runtime measurement v1";

// FORMAT.md §2:
//   "attestd runtime measurement v1" || 0x00
//   || u32be(len(kind)) || kind || u32be(len(path)) || path
//   || u32be(len(digest)) || digest
// where digest is the 32-byte sha256 for kFile and empty for other kinds.
// pcr, size, detail and time are not covered (see FORMAT.md §2 for why).
Bytes RuntimeEventEncoding(const RuntimeEntry& entry);

// SHA-256 of RuntimeEventEncoding(entry): what gets extended into the PCR's
// sha256 bank.
Sha256Digest RuntimeExtendDigest(const RuntimeEntry& entry);

// The failure marker attestd extends when it cannot save its log: kind
// kSaveFailed, path kSaveFailedMarkerPath, `detail` saying why (not
// covered by the digest).
RuntimeEntry SaveFailedMarker(std::uint32_t pcr, std::string detail, std::string time);

// RuntimeExtendDigest of every save-failed marker (FORMAT.md §6):
// 13319b58...421e9392 (pinned in tests/entry_test.cpp).
Sha256Digest SaveFailedExtendDigest();

// The sha256 PCR value after extending every entry's extend digest in order
// (PCR_new = SHA-256(PCR_old || extend_digest)), starting from
// `initial_pcr_value`: 32 zero bytes after reset, or the result of
// replaying the firmware's events for the same PCR first. Precondition: the
// entries are all for one PCR.
Sha256Digest Replay(std::span<const RuntimeEntry> entries,
                    const Sha256Digest& initial_pcr_value = Sha256Digest{});

}  // namespace attest::runtime
