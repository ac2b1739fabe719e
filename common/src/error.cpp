#include "attest/error.h"

namespace attest {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case ErrorCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case ErrorCode::kIo:
      return "IO_ERROR";
    case ErrorCode::kCorrupt:
      return "CORRUPT";
    case ErrorCode::kVerificationFailed:
      return "VERIFICATION_FAILED";
    case ErrorCode::kCrypto:
      return "CRYPTO_ERROR";
    case ErrorCode::kDatabase:
      return "DATABASE_ERROR";
    case ErrorCode::kBusy:
      return "BUSY";
    case ErrorCode::kUnsupported:
      return "UNSUPPORTED";
    case ErrorCode::kInternal:
      return "INTERNAL";
    case ErrorCode::kTpm:
      return "TPM_ERROR";
  }
  return "INTERNAL";
}

std::string Error::ToString() const {
  std::string text(ErrorCodeName(code));
  text += ": ";
  text += message;
  return text;
}

}  // namespace attest
