#include "attest/verifier/ima_log.h"

#include <algorithm>

#include "ima_template.h"

namespace attest::verifier {

bool ImaEntry::violation() const {
  return std::all_of(template_digest.begin(), template_digest.end(),
                     [](std::uint8_t byte) { return byte == 0; });
}

Result<ImaLog> ParseImaLog(ByteView bytes, const ImaLogOptions& options) {
  std::size_t digest_size = options.template_digest_size;
  if (digest_size != 0 && digest_size != 20 && digest_size != 32) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "IMA template digest size " + std::to_string(digest_size) + " is not 0 (detect), 20 or 32");
  }
  ImaLogFormat format = options.format;
  if (format == ImaLogFormat::kAuto) {
    // A binary list opens with a little-endian PCR index below 24, so its
    // first byte is a control character; an ASCII list's is a digit or the
    // space that pads a one-digit PCR. Other text goes to the ASCII reader,
    // which explains what is wrong with it.
    bool ascii = !bytes.empty() && bytes[0] >= 0x20 && bytes[0] <= 0x7e;
    format = ascii ? ImaLogFormat::kAscii : ImaLogFormat::kBinary;
  }
  if (format == ImaLogFormat::kAscii) return ima_internal::ParseAsciiImaList(bytes, digest_size);
  return ima_internal::ParseBinaryImaList(bytes, digest_size,
                                          options.allow_trailing_partial_header);
}

}  // namespace attest::verifier
