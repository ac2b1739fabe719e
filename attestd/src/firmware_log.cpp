#include "attest/attestd/firmware_log.h"

#include "attest/file.h"

namespace attest::attestd {

Result<Bytes> ReadFirmwareLog(const std::string& path) {
  Result<std::string> contents = ReadFile(path, kMaxFirmwareLogBytes);
  if (!contents.ok()) {
    Error error = contents.error();
    if (error.code == ErrorCode::kNotFound) {
      error.message +=
          " (is securityfs mounted at /sys/kernel/security, and does the firmware "
          "publish a TPM 2.0 event log? Set the path in attestd.conf otherwise)";
    }
    return error.WithContext("firmware event log");
  }
  if (contents->empty()) {
    return MakeError(ErrorCode::kCorrupt, "firmware event log " + path + " is empty");
  }
  return ToBytes(*contents);
}

}  // namespace attest::attestd
