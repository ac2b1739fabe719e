// What crosses the TPM bus (issue 10, item 16): ActivateCredential returns
// the enrollment secret through a session salted to the EK with response
// encryption, so a bus interposer sees only ciphertext. The evidence is
// tpm2-tss's own trace (TSS2_LOG), which dumps every command and response
// buffer the TCTI writes to and reads from the TPM, i.e. exactly what an
// interposer would see.
#include <algorithm>
#include <sstream>

#include <openssl/rand.h>

#include "attest/encoding.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;

constexpr std::uint32_t kTpmCcActivateCredential = 0x00000147;

// One buffer the TCTI sent or received, as the trace dumped it.
struct BusBuffer {
  bool command;  // false: a response
  Bytes bytes;
};

// The buffers the TCTI logged: a "tcti:" line ending in "(size=N): " is
// followed by hex lines "0000: 8001000000160000017a...  ascii". Lines of
// other modules (esys, marshal) dump memory inside the process, not bus
// traffic, and are skipped.
std::vector<BusBuffer> BusBuffers(const std::string& trace) {
  std::vector<BusBuffer> buffers;
  std::istringstream lines(trace);
  std::string line;
  BusBuffer* current = nullptr;
  while (std::getline(lines, line)) {
    const bool hex_line = line.size() > 6 && line[4] == ':' && line[5] == ' ' &&
                          std::all_of(line.begin(), line.begin() + 4, [](char c) {
                            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                          });
    if (hex_line && current != nullptr) {
      std::string hex = line.substr(6, line.find(' ', 6) - 6);
      auto bytes = HexDecode(hex);
      EXPECT_TRUE(bytes.ok()) << line;
      if (bytes.ok()) current->bytes.insert(current->bytes.end(), bytes->begin(), bytes->end());
      continue;
    }
    current = nullptr;
    if (line.find(":tcti:") == std::string::npos && line.rfind("debug:tcti:", 0) != 0 &&
        line.rfind("trace:tcti:", 0) != 0) {
      continue;
    }
    if (line.find("socket_xmit_buf() Writing") != std::string::npos) {
      buffers.push_back({true, {}});
      current = &buffers.back();
    } else if (line.find("Response received: (size=") != std::string::npos) {
      buffers.push_back({false, {}});
      current = &buffers.back();
    }
  }
  return buffers;
}

bool Contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

std::uint32_t CommandCode(const Bytes& command) {
  if (command.size() < 10) return 0;
  return static_cast<std::uint32_t>(command[6]) << 24 |
         static_cast<std::uint32_t>(command[7]) << 16 |
         static_cast<std::uint32_t>(command[8]) << 8 | command[9];
}

class BusTraceTest : public TpmTest {
 protected:
  // Runs the probe with the trace on; returns the trace.
  std::string TracedProbe(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv = {ATTEST_TSS_LOG_PROBE};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const std::string trace = File("trace-" + std::to_string(++runs_) + ".log");
    CommandResult probe =
        RunCommand(argv, WithEnvironment({{"TSS2_LOG", "all+trace"}, {"TSS2_LOGFILE", trace}}));
    EXPECT_EQ(probe.exit_code, 0) << probe.err;
    return ReadText(trace);
  }

  int runs_ = 0;
};

class BusEncryptionTest : public BusTraceTest, public ::testing::WithParamInterface<EkAlgorithm> {};

// Regression (issue 10, item 16): the secret crossed the bus in the clear.
TEST_P(BusEncryptionTest, TheActivatedSecretNeverCrossesTheBusInTheClear) {
  const char* algorithm = GetParam() == EkAlgorithm::kRsa ? "rsa" : "ecc";
  auto endorsement = tpm().ReadEndorsement(GetParam());
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_TRUE(endorsement.ok() && ak.ok());
  Bytes secret(32);
  ASSERT_EQ(RAND_bytes(secret.data(), static_cast<int>(secret.size())), 1);
  auto [blob, encrypted_secret] =
      MakeCredentialWithTools(endorsement->public_key, *ak, std::string(AsText(secret)));
  WriteBytes("ak.pub", ak->public_area);
  WriteBytes("ak.priv", ak->private_area);
  WriteBytes("blob", blob);
  WriteBytes("encrypted-secret", encrypted_secret);

  const std::string trace =
      TracedProbe({"activate", swtpm().tcti(), File("ak.pub"), File("ak.priv"), algorithm,
                   File("blob"), File("encrypted-secret"), File("recovered")});
  EXPECT_EQ(ToBytes(ReadText(File("recovered"))), secret) << "the call must still work";

  std::vector<BusBuffer> buffers = BusBuffers(trace);
  auto activate = std::find_if(buffers.begin(), buffers.end(), [](const BusBuffer& buffer) {
    return buffer.command && CommandCode(buffer.bytes) == kTpmCcActivateCredential;
  });
  ASSERT_NE(activate, buffers.end()) << "the trace must show ActivateCredential on the bus";
  auto response = std::find_if(activate + 1, buffers.end(),
                               [](const BusBuffer& buffer) { return !buffer.command; });
  ASSERT_NE(response, buffers.end());
  // TPM_ST_SESSIONS, TPM_RC_SUCCESS, parameterSize, then certInfo: a
  // TPM2B_DIGEST of the secret's size whose bytes are not the secret.
  ASSERT_GE(response->bytes.size(), 16 + secret.size());
  EXPECT_EQ(HexEncode(Bytes(response->bytes.begin() + 6, response->bytes.begin() + 10)),
            "00000000");
  EXPECT_EQ(response->bytes[14] << 8 | response->bytes[15], static_cast<int>(secret.size()));
  EXPECT_NE(Bytes(response->bytes.begin() + 16,
                  response->bytes.begin() + 16 + static_cast<long>(secret.size())),
            secret);
  for (const BusBuffer& buffer : buffers) {
    EXPECT_FALSE(Contains(buffer.bytes, secret))
        << (buffer.command ? "command " : "response ") << HexEncode(buffer.bytes);
  }
  EXPECT_EQ(TransientHandles(), "");
  EXPECT_EQ(LoadedSessions(), "");
}

// The control: the same secret read from NV without an encrypting session
// is found by the same parser in the same trace format, so the test above
// would see it if it were there.
TEST_F(BusTraceTest, TheTraceShowsASecretThatIsSentInTheClear) {
  Bytes secret(32);
  ASSERT_EQ(RAND_bytes(secret.data(), static_cast<int>(secret.size())), 1);
  WriteBytes("nv-secret", secret);
  ASSERT_EQ(Tool({"tpm2_nvdefine", "0x01500001", "-C", "o", "-s", "32", "-a",
                  "ownerwrite|ownerread|authread"})
                .exit_code,
            0);
  ASSERT_EQ(Tool({"tpm2_nvwrite", "0x01500001", "-C", "o", "-i", File("nv-secret")}).exit_code, 0);

  const std::string trace = TracedProbe({"read-nv", swtpm().tcti(), "0x01500001", File("read")});
  EXPECT_EQ(ToBytes(ReadText(File("read"))), secret);
  std::vector<BusBuffer> buffers = BusBuffers(trace);
  EXPECT_TRUE(std::any_of(buffers.begin(), buffers.end(), [&](const BusBuffer& buffer) {
    return !buffer.command && Contains(buffer.bytes, secret);
  })) << "no response buffer carries the secret; is the trace format still understood?";
}

INSTANTIATE_TEST_SUITE_P(RsaAndEcc, BusEncryptionTest,
                         ::testing::Values(EkAlgorithm::kRsa, EkAlgorithm::kEcc),
                         [](const auto& param_info) {
                           return param_info.param == EkAlgorithm::kRsa ? "Rsa" : "Ecc";
                         });

}  // namespace
}  // namespace attest::test
