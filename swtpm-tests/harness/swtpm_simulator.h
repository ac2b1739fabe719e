// A private swtpm per test: its own state directory and local CA (so tests
// never touch the machine's /var/lib/swtpm-localca and can run in
// parallel), unix sockets in that directory (nothing to share or race for),
// and a process that is stopped by PID however the test ends.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <sys/types.h>

#include "attest/error.h"

namespace attest::test {

struct SwtpmOptions {
  std::string pcr_banks = "sha1,sha256";  // swtpm_setup's active_pcr_banks
  bool create_ek_certificates = true;     // RSA and ECC EK + platform certificate
};

class SwtpmSimulator {
 public:
  // Manufactures a TPM (swtpm_setup, ~1 s) in a new temp dir and starts it.
  static Result<std::unique_ptr<SwtpmSimulator>> Start(const SwtpmOptions& options = {});
  ~SwtpmSimulator();
  SwtpmSimulator(const SwtpmSimulator&) = delete;
  SwtpmSimulator& operator=(const SwtpmSimulator&) = delete;

  // Stops the process (SIGTERM, then SIGKILL after 5 s) and reaps it.
  void Stop();
  // Stop, then start on the same state: a reboot (PCRs reset, resetCount
  // grows), on the same sockets.
  Status Restart();

  // "swtpm:path=DIR/swtpm.sock", for attestd and for tpm2-tools (-T).
  std::string tcti() const { return "swtpm:path=" + socket_path(); }
  // The TPM command socket; the swtpm TCTI finds the control socket at
  // this path + ".ctrl".
  std::string socket_path() const { return directory_ + "/swtpm.sock"; }
  pid_t pid() const { return pid_; }
  const std::string& directory() const { return directory_; }
  std::string state_directory() const { return directory_ + "/state"; }
  // The local CA: its self-signed root, and the intermediate that signs
  // the EK and platform certificates.
  std::string root_certificate_path() const {
    return directory_ + "/ca/swtpm-localca-rootca-cert.pem";
  }
  std::string issuer_certificate_path() const { return directory_ + "/ca/issuercert.pem"; }

 private:
  explicit SwtpmSimulator(std::string directory) : directory_(std::move(directory)) {}
  Status Manufacture(const SwtpmOptions& options);
  Status Launch();
  Status WaitUntilAnswering();

  std::string directory_;
  pid_t pid_ = -1;
};

// A fixture with one simulator per test.
class SwtpmTest : public ::testing::Test {
 protected:
  void SetUp() override;
  virtual SwtpmOptions Options() const { return {}; }
  SwtpmSimulator& swtpm() { return *swtpm_; }

 private:
  std::unique_ptr<SwtpmSimulator> swtpm_;
};

}  // namespace attest::test
