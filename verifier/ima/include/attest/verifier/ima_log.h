// The Linux IMA measurement list (securityfs binary_runtime_measurements and
// ascii_runtime_measurements, templates ima, ima-ng, ima-sig), parsed from
// untrusted bytes, and its replay to the PCR it extends (10 by default).
// A parsed ImaLog is unverified: only a replay that matches a quoted PCR says
// the list is the one the TPM saw. Functions are pure and thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/tpm/pcr.h"

namespace attest::verifier {

// The PCR the kernel's IMA extends (CONFIG_IMA_MEASURE_PCR_IDX, 10 in every
// distribution kernel). Its events are in the IMA list, not the firmware
// log, so a boot-log replay says nothing about it.
inline constexpr std::uint32_t kImaPcr = 10;

enum class ImaLogFormat { kAuto, kBinary, kAscii };

struct ImaLogOptions {
  // kAuto: ASCII when the first byte is printable ASCII (the kernel prints
  // the PCR as "%2d "), binary otherwise (a binary list starts with a
  // little-endian PCR index below 24, a control character).
  ImaLogFormat format = ImaLogFormat::kAuto;
  // 0 = detect from the first record; 20 (the classic list, sha1 template
  // digests) or 32 (the per-algorithm *_runtime_measurements_sha256 lists of
  // Linux >= 6.10). Every record of a list has the same size.
  std::size_t template_digest_size = 0;
  // Strict (false): any byte after the last complete record is an error.
  // Lenient (true), as tpm2-tss and evmctl read lists: a tail too short to
  // hold a record header (PCR, template digest, name length) is ignored and
  // counted in ImaLog::trailing_bytes. A record whose header is complete but
  // whose body is cut short is rejected either way. Binary lists only.
  bool allow_trailing_partial_header = false;
};

struct ImaEntry {
  std::size_t position;  // byte offset (binary) or 1-based line (ascii)
  std::uint32_t pcr;
  Bytes template_digest;  // as in the list (all zeros = violation)
  // "ima-ng", "ima-sig", "ima"; in binary lists also any other template
  // (ima-buf, ...), replayed from template_data with the file fields empty.
  std::string template_name;
  // The bytes the kernel hashes into the template digest and, per bank, into
  // the PCR. ima-ng/ima-sig: the template data of the binary list (each field
  // with its u32 length; ASCII lines are re-encoded to it). Legacy ima:
  // file digest || path NUL-padded to 256 bytes (the binary list stores the
  // path with a u32 length instead, and the hash does not cover it).
  Bytes template_data;
  std::string file_hash_algorithm;  // "sha256", "sha1", ... ("sha1" for legacy ima)
  Bytes file_digest;
  std::string path;        // bytes as measured (the kernel turns spaces into '_')
  Bytes signature;         // ima-sig only, may be empty
  bool violation() const;  // template digest all zeros
};

struct ImaLog {
  ImaLogFormat format;  // kBinary or kAscii, never kAuto
  std::size_t template_digest_size;
  std::vector<ImaEntry> entries;
  std::size_t trailing_bytes = 0;  // ignored tail (lenient mode only)
};

// Fails with kCorrupt, message "byte offset N: ..." (binary) or "line N: ..."
// (ascii), N where the offending field starts; kUnsupported for an ASCII
// record of another kernel template (ima-buf, ima-modsig, ...), which binary
// lists carry with its template data and so keep; kInvalidArgument for bad
// options. Binary lists are read as little-endian, the order x86 and arm64
// kernels write (lists from big-endian hosts are not supported).
Result<ImaLog> ParseImaLog(ByteView bytes, const ImaLogOptions& options = {});

// PCR -> value for the banks requested (TPM_ALG_IDs known to
// tpm::HashAlgorithmById), as kernels >= 5.8 extend them: each bank with its
// own hash of the template data, or with 0xff.. of the bank's size for a
// violation. Only PCRs named in the list appear; they start at zero.
// Also checks each non-violation record: the template digest in the list
// must equal the hash (sha1 for 20-byte, sha256 for 32-byte lists) of its
// template data, else kVerificationFailed naming the record's position.
// kInvalidArgument for an unknown or repeated bank.
Result<tpm::PcrValues> ReplayImaLog(const ImaLog& log, std::span<const std::uint16_t> banks);

// Kernels before per-bank template digests (< ~5.8): every bank extended
// with the sha1 template digest (20 x 0xff for a violation), zero-padded or
// truncated to the bank's size. Only for 20-byte lists (kInvalidArgument
// otherwise); checks template digests like ReplayImaLog.
Result<tpm::PcrValues> ReplayImaLogLegacyKernel(const ImaLog& log,
                                                std::span<const std::uint16_t> banks);

// One line per record and one per replayed PCR, for operators.
std::string RenderImaLogText(const ImaLog& log, const tpm::PcrValues& replayed);

// {"entries": [{"position", "pcr", "template_digest", "template",
//   "file_hash_algorithm", "file_digest", "path", "signature" (ima-sig only),
//   "violation"}...], "pcrs": {"sha256": {"10": "hex"}, ...}}. Digests in
// lowercase hex. A path that is not valid UTF-8 is given with each invalid
// byte as U+FFFD and in full as "path_hex".
nlohmann::json ImaLogToJson(const ImaLog& log, const tpm::PcrValues& replayed);

}  // namespace attest::verifier
