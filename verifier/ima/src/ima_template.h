// What the binary and ASCII readers share: the kernel's template field
// encodings (security/integrity/ima/ima_template_lib.c), their limits, and
// the positioned errors both report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "attest/byte_reader.h"
#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/verifier/ima_log.h"

namespace attest::verifier::ima_internal {

inline constexpr std::string_view kTemplateIma = "ima";
inline constexpr std::string_view kTemplateImaNg = "ima-ng";
inline constexpr std::string_view kTemplateImaSig = "ima-sig";

// Template names are short ("ima-modsig"); a custom format string used as a
// name is longer but still far below this.
inline constexpr std::size_t kMaxTemplateNameSize = 255;
// IMA_EVENT_NAME_LEN_MAX: the legacy ima template truncates longer names,
// and hashes the name NUL-padded to this plus one.
inline constexpr std::size_t kMaxLegacyNameSize = 255;
inline constexpr std::size_t kLegacyHashedNameSize = kMaxLegacyNameSize + 1;
inline constexpr std::size_t kLegacyFileDigestSize = 20;  // sha1
// The kernel's CRYPTO_MAX_ALG_NAME bounds the "algo:" prefix of d-ng.
inline constexpr std::size_t kMaxAlgorithmNameSize = 64;
// PC Client TPMs have 24 PCRs; IMA's policy cannot name another.
inline constexpr std::uint32_t kPcrCount = 24;

Error CorruptAtOffset(std::size_t offset, std::string_view message);
Error CorruptAtLine(std::size_t line, std::string_view message);
// `text` fit for an error message: at most 64 bytes, anything but printable
// ASCII shown as '?'.
std::string Printable(std::string_view text);

// Digest size of a kernel hash_algo_name, nullopt for a name we do not know.
std::optional<std::size_t> FileDigestSize(std::string_view algorithm);

// Parses the template data of ima-ng ("d-ng|n-ng") or ima-sig
// ("d-ng|n-ng|sig") from `fields` (absolute offsets), filling the file
// fields of `entry`. Every field must be present and `fields` consumed.
Status ParseImaNgFields(ByteReader& fields, bool has_signature, ImaEntry& entry);

// Checks that `fields` is a sequence of u32-length-prefixed fields, the shape
// of every template but the legacy one, for templates we replay but do not
// interpret.
Status CheckGenericFields(ByteReader& fields);

// The template data the kernel hashes for ima-ng/ima-sig, from the decoded
// fields: d-ng = "algo:" NUL digest, n-ng = path NUL, sig = signature.
Bytes EncodeImaNgTemplateData(std::string_view algorithm, ByteView file_digest,
                              std::string_view path, const Bytes* signature);

// The legacy ima template's hash input: file digest || path NUL-padded to
// 256 bytes. Precondition: path.size() <= kMaxLegacyNameSize.
Bytes EncodeLegacyImaHashInput(ByteView file_digest, std::string_view path);

// The two readers behind ParseImaLog. `digest_size` is 0 (detect), 20 or 32.
Result<ImaLog> ParseBinaryImaList(ByteView bytes, std::size_t digest_size,
                                  bool allow_trailing_partial_header);
Result<ImaLog> ParseAsciiImaList(ByteView bytes, std::size_t digest_size);

}  // namespace attest::verifier::ima_internal
