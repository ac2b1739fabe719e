#include "tpm_test_util.h"

#include <openssl/pem.h>

#include "attest/encoding.h"
#include "attest/tpm/public_key.h"

namespace attest::test {

void TpmTest::SetUp() {
  SwtpmTest::SetUp();
  if (HasFatalFailure()) return;
  Reopen();
}

void TpmTest::Reopen() {
  tpm_.reset();
  auto opened = attestd::Tpm::Open(swtpm().tcti());
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  tpm_ = std::move(opened).value();
}

void TpmTest::WriteBytes(const std::string& name, ByteView bytes) const {
  WriteText(File(name), std::string(AsText(bytes)));
}

CommandResult TpmTest::Tool(const std::vector<std::string>& argv) {
  return RunCommand(argv, WithEnvironment({{"TPM2TOOLS_TCTI", swtpm().tcti()}}));
}

std::string TpmTest::TransientHandles() {
  CommandResult handles = Tool({"tpm2_getcap", "handles-transient"});
  EXPECT_EQ(handles.exit_code, 0) << handles.err;
  return handles.out;
}

std::string TpmTest::LoadedSessions() {
  CommandResult sessions = Tool({"tpm2_getcap", "handles-loaded-session"});
  EXPECT_EQ(sessions.exit_code, 0) << sessions.err;
  return sessions.out;
}

std::pair<Bytes, Bytes> TpmTest::MakeCredentialWithTools(const TPM2B_PUBLIC& ek,
                                                         const attestd::KeyBlob& ak,
                                                         const std::string& secret) {
  auto ak_public = tpm::ParsePublic(ak.public_area);
  EXPECT_TRUE(ak_public.ok());
  if (!ak_public.ok()) return {};
  auto name = tpm::ObjectName(ak_public->publicArea);
  EXPECT_TRUE(name.ok());
  if (!name.ok()) return {};
  WriteBytes("credential-ek.pub", tpm::MarshalPublic(ek));
  WriteText(File("credential-secret"), secret);
  CommandResult made =
      RunCommand({"tpm2_makecredential", "-T", "none", "-u", File("credential-ek.pub"), "-s",
                  File("credential-secret"), "-n", HexEncode(*name), "-o", File("credential")});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  // tpm2-tools' file: magic and version (8 bytes), then TPM2B_ID_OBJECT and
  // TPM2B_ENCRYPTED_SECRET in wire form.
  Bytes file = ToBytes(ReadText(File("credential")));
  if (file.size() < 10) return {};
  std::size_t id_size = 2 + (static_cast<std::size_t>(file[8]) << 8 | file[9]);
  if (file.size() < 8 + id_size) return {};
  return {Bytes(file.begin() + 8, file.begin() + 8 + static_cast<long>(id_size)),
          Bytes(file.begin() + 8 + static_cast<long>(id_size), file.end())};
}

std::string PublicKeyPem(ByteView marshaled_tpm2b_public) {
  auto parsed = tpm::ParsePublic(marshaled_tpm2b_public);
  EXPECT_TRUE(parsed.ok()) << parsed.error().ToString();
  if (!parsed.ok()) return "";
  auto key = tpm::PublicKeyFromTpm(parsed->publicArea);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  if (!key.ok()) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key->get());
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

void WriteRuntimeFiles(const TempDir& directory) {
  WriteText(directory.File("runc"), "runc binary v1");
  WriteText(directory.File("containerd"), "containerd binary");
  WriteText(directory.File("config.toml"), "[plugins]\n");
}

}  // namespace attest::test
