// A separate process for the bus-encryption test (tpm_bus_test.cpp):
// tpm2-tss reads TSS2_LOG once per process, at its first log call, so the
// test runs the TPM operations it wants traced here, with TSS2_LOG and
// TSS2_LOGFILE set, and reads the trace afterwards.
//
//   tss_log_probe activate TCTI AK_PUB AK_PRIV rsa|ecc BLOB SECRET OUT
//     ReadEndorsement, then ActivateCredential; writes the secret to OUT.
//   tss_log_probe read-nv TCTI INDEX OUT
//     Reads an NV index without any session; writes its contents to OUT.
// Exit 0 on success, 1 on a failed operation (message on stderr), 2 on
// bad arguments.
#include <cstdio>
#include <string>
#include <vector>

#include "attest/attestd/tpm.h"
#include "attest/file.h"

namespace {

using attest::Bytes;

bool ReadBytes(const std::string& path, Bytes& out) {
  auto text = attest::ReadFile(path, 1 << 20);
  if (!text.ok()) return false;
  out.assign(text->begin(), text->end());
  return true;
}

int Fail(const attest::Error& error) {
  (void)std::fprintf(stderr, "%s\n", error.ToString().c_str());
  return 1;
}

int Write(const std::string& path, const Bytes& bytes) {
  attest::Status written = attest::WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), 0600);
  return written.ok() ? 0 : Fail(written.error());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 8 && args[0] == "activate") {
    attest::attestd::KeyBlob ak;
    Bytes blob;
    Bytes secret;
    if (!ReadBytes(args[2], ak.public_area) || !ReadBytes(args[3], ak.private_area) ||
        !ReadBytes(args[5], blob) || !ReadBytes(args[6], secret)) {
      return 2;
    }
    auto tpm = attest::attestd::Tpm::Open(args[1]);
    if (!tpm.ok()) return Fail(tpm.error());
    auto endorsement = (*tpm)->ReadEndorsement(
        args[4] == "rsa" ? attest::attestd::EkAlgorithm::kRsa : attest::attestd::EkAlgorithm::kEcc);
    if (!endorsement.ok()) return Fail(endorsement.error());
    auto recovered = (*tpm)->ActivateCredential(ak, *endorsement, blob, secret);
    if (!recovered.ok()) return Fail(recovered.error());
    return Write(args[7], *recovered);
  }
  if (args.size() == 4 && args[0] == "read-nv") {
    auto tpm = attest::attestd::Tpm::Open(args[1]);
    if (!tpm.ok()) return Fail(tpm.error());
    auto contents = (*tpm)->ReadNv(static_cast<std::uint32_t>(std::stoul(args[2], nullptr, 0)));
    if (!contents.ok()) return Fail(contents.error());
    if (!contents->has_value()) return 1;
    return Write(args[3], **contents);
  }
  (void)std::fprintf(stderr, "usage: see the comment at the top of tss_log_probe.cpp\n");
  return 2;
}
