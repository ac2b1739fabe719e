#include "tpm_test_util.h"

#include <openssl/pem.h>

#include "attest/tpm/public_key.h"

namespace attest::testing {

void TpmTest::SetUp() {
  SwtpmTest::SetUp();
  if (HasFatalFailure()) return;
  Reopen();
}

void TpmTest::Reopen() {
  tpm_.reset();
  auto opened = Tpm::Open(swtpm().tcti());
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

}  // namespace attest::testing
