#include "event_log_quirks.h"

#include <algorithm>
#include <optional>

#include "uefi_data.h"

namespace attest::verifier::quirks {
namespace {

// VariableName GUID, UnicodeNameLength and VariableDataLength.
constexpr std::size_t kUefiVariableHeaderSize = 16 + 8 + 8;

}  // namespace

bool DigestIsOfUefiVariableValue(ByteView data, ByteView digest,
                                 const tpm::HashAlgorithm& algorithm) {
  std::optional<uefi::UefiVariableData> variable = uefi::ParseUefiVariableData(data);
  // No trailing bytes: everything but the header, name and value is bound.
  if (!variable ||
      kUefiVariableHeaderSize + variable->name.size() + variable->data.size() != data.size()) {
    return false;
  }
  Result<Bytes> value_digest = tpm::HashWith(algorithm, variable->data);
  return value_digest.ok() && std::ranges::equal(*value_digest, digest);
}

}  // namespace attest::verifier::quirks
