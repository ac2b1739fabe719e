// What the TPM-layer tests against swtpm share: attestd's Tpm opened on the
// fixture's simulator, files in a temp dir, the tpm2-tools with the right
// TCTI, and checks written the way an outside verifier would do them.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "attest/attestd/tpm.h"
#include "attest/bytes.h"
#include "attest/testing/test_support.h"

#include "harness/swtpm_simulator.h"

namespace attest::test {

class TpmTest : public SwtpmTest {
 protected:
  void SetUp() override;
  attestd::Tpm& tpm() { return *tpm_; }
  // A new connection (a new ESYS context), as a restarted daemon has.
  void Reopen();
  std::string File(const std::string& name) const { return files_.File(name); }
  void WriteBytes(const std::string& name, ByteView bytes) const;
  // tpm2-tools on this simulator.
  CommandResult Tool(const std::vector<std::string>& argv);
  // The transient object handles loaded in the TPM right now ("" if none).
  std::string TransientHandles();
  // The sessions loaded in the TPM right now ("" if none): every session
  // attestd starts is flushed when its operation (or its owner) ends.
  std::string LoadedSessions();
  // tpm2_makecredential -T none (in software, as the verifier does) of
  // `secret` for the EK and the AK's name: the TPM2B_ID_OBJECT and the
  // TPM2B_ENCRYPTED_SECRET, marshaled.
  std::pair<Bytes, Bytes> MakeCredentialWithTools(const TPM2B_PUBLIC& ek,
                                                  const attestd::KeyBlob& ak,
                                                  const std::string& secret);

 private:
  TempDir files_{"tpm_test"};
  std::unique_ptr<attestd::Tpm> tpm_;
};

// A public key in PEM, for tools that want one.
std::string PublicKeyPem(ByteView marshaled_tpm2b_public);

// The runtime files the runtime-measurement tests measure: runc,
// containerd and config.toml in `directory`.
void WriteRuntimeFiles(const TempDir& directory);

}  // namespace attest::test
