// Feeds arbitrary bytes to the IMA list reader in every format, then replays
// and renders whatever it accepts: nothing may crash, leak or read out of
// bounds, and an accepted list must replay or fail with an Error.
#include <array>
#include <cstddef>
#include <cstdint>

#include "attest/verifier/ima_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using attest::verifier::ImaLogFormat;
  attest::ByteView bytes(data, size);
  static constexpr std::array<std::uint16_t, 3> kBanks = {0x0004, 0x000B, 0x000C};
  for (ImaLogFormat format : {ImaLogFormat::kAuto, ImaLogFormat::kBinary, ImaLogFormat::kAscii}) {
    attest::verifier::ImaLogOptions options;
    options.format = format;
    options.allow_trailing_partial_header = size % 2 == 0;
    attest::Result<attest::verifier::ImaLog> log = attest::verifier::ParseImaLog(bytes, options);
    if (!log.ok()) continue;
    attest::Result<attest::tpm::PcrValues> pcrs = attest::verifier::ReplayImaLog(*log, kBanks);
    attest::tpm::PcrValues values = pcrs.ok() ? *pcrs : attest::tpm::PcrValues{};
    if (log->template_digest_size == 20) {
      (void)attest::verifier::ReplayImaLogLegacyKernel(*log, kBanks);
    }
    (void)attest::verifier::ImaLogToJson(*log, values).dump();
    (void)attest::verifier::RenderImaLogText(*log, values);
  }
  return 0;
}
