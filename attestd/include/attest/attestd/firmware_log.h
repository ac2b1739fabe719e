// Reading the firmware's TCG event log as the kernel exposes it. attestd
// ships the bytes as they are; the verifier parses and replays them.
#pragma once

#include <string>
#include <string_view>

#include "attest/bytes.h"
#include "attest/error.h"

namespace attest::attestd {

inline constexpr std::string_view kDefaultFirmwareLogPath =
    "/sys/kernel/security/tpm0/binary_bios_measurements";

// Real logs are tens of kilobytes; anything past this is not a boot log.
inline constexpr std::size_t kMaxFirmwareLogBytes = 16 << 20;

Result<Bytes> ReadFirmwareLog(const std::string& path = std::string(kDefaultFirmwareLogPath));

}  // namespace attest::attestd
