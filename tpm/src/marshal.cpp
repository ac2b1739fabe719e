#include "attest/tpm/marshal.h"

#include <string>

#include <tss2/tss2_rc.h>

namespace attest::tpm::internal {

Error UnmarshalError(std::string_view type_name, std::uint32_t rc, std::size_t size) {
  Error error =
      MakeError(ErrorCode::kCorrupt, std::string(type_name) + " (" + std::to_string(size) +
                                         " bytes) does not parse: " + Tss2_RC_Decode(rc));
  error.tpm_response_code = rc;  // tss2-mu's code; not the TPM's (tpm::TpmResponseCode)
  return error;
}

Error TrailingBytesError(std::string_view type_name, std::size_t used, std::size_t size) {
  return MakeError(ErrorCode::kCorrupt, std::string(type_name) + " ends at byte " +
                                            std::to_string(used) + " but " +
                                            std::to_string(size - used) + " bytes follow it");
}

}  // namespace attest::tpm::internal
