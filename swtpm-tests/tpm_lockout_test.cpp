// Dictionary-attack lockout as a denial of service (issue 10, item 15): any
// process that can open the TPM can put it into lockout by failing
// authorizations on a key of its own. attestd's keys are noDA and its EK is
// authorized by policy, so quoting, certification and credential activation
// keep working; a key without noDA is refused, and the error says lockout.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/encoding.h"
#include "attest/tpm/marshal.h"
#include "attest/tpm/public_key.h"
#include "attest/tpm/response_code.h"

#include "tpm_test_util.h"

namespace attest::test {
namespace {

using attestd::AkAlgorithm;
using attestd::EkAlgorithm;
using attestd::Endorsement;
using attestd::KeyBlob;

class LockoutTest : public TpmTest {
 protected:
  // tpm2-tools, as any other local process could: a low max-tries, a key
  // with a password, and wrong passwords until the TPM locks out.
  void ProvokeLockout() {
    CommandResult set = Tool({"tpm2_dictionarylockout", "-s", "-n", "3", "-t", "600", "-l", "600"});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    CommandResult primary =
        Tool({"tpm2_createprimary", "-C", "o", "-p", "right", "-c", File("locked.ctx")});
    ASSERT_EQ(primary.exit_code, 0) << primary.err;
    for (int attempt = 0; attempt < 5 && !InLockout(); ++attempt) {
      CommandResult bad = Tool({"tpm2_create", "-C", File("locked.ctx"), "-P", "wrong", "-u",
                                File("x.pub"), "-r", File("x.priv")});
      EXPECT_NE(bad.exit_code, 0);
      // Without a resource manager the tool leaves its parent loaded.
      Tool({"tpm2_flushcontext", "-t"});
    }
    ASSERT_TRUE(InLockout()) << Tool({"tpm2_getcap", "properties-variable"}).out;
  }

  bool InLockout() {
    CommandResult variable = Tool({"tpm2_getcap", "properties-variable"});
    EXPECT_EQ(variable.exit_code, 0) << variable.err;
    return variable.out.find("inLockout:                 1") != std::string::npos;
  }

  // An AK as attestd made them before noDA: the same storage primary (the
  // tpm2 OpenSSL provider's template), the same attributes but noDA.
  KeyBlob AkWithoutNoDa() {
    CommandResult primary =
        Tool({"tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc256:null:aes128cfb", "-a",
              "userwithauth|restricted|decrypt|noda|fixedtpm|fixedparent|sensitivedataorigin", "-c",
              File("srk.ctx")});
    EXPECT_EQ(primary.exit_code, 0) << primary.err;
    CommandResult created =
        Tool({"tpm2_create", "-C", File("srk.ctx"), "-G", "ecc256:ecdsa-sha256:null", "-a",
              "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign", "-u",
              File("old-ak.pub"), "-r", File("old-ak.priv")});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    Tool({"tpm2_flushcontext", "-t"});
    return KeyBlob{ToBytes(ReadText(File("old-ak.pub"))), ToBytes(ReadText(File("old-ak.priv")))};
  }
};

// Regression (issue 10, item 15).
TEST_F(LockoutTest, LockoutThroughAnotherKeyLeavesQuoteCertifyAndActivationWorking) {
  auto ak = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  auto node_key = tpm().CreateSigningKey();
  auto rsa_ek = tpm().ReadEndorsement(EkAlgorithm::kRsa);  // L-1: policy A
  auto ecc_ek = tpm().ReadEndorsement(EkAlgorithm::kEcc);  // H-3: policy B, userWithAuth
  ASSERT_TRUE(ak.ok() && node_key.ok() && rsa_ek.ok() && ecc_ek.ok());
  ASSERT_TRUE(ecc_ek->profile.high_range);
  const KeyBlob old_ak = AkWithoutNoDa();
  const Bytes nonce(32, 0x10);
  auto selection = tpm::ParsePcrSelection("sha256:0,15");
  ASSERT_TRUE(selection.ok());
  ASSERT_TRUE(tpm().MakeQuote(old_ak, nonce, *selection).ok())
      << "the control AK must work at first";

  ProvokeLockout();

  // The control: a key without noDA is refused now, and the error says why.
  auto refused = tpm().MakeQuote(old_ak, nonce, *selection);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kTpm);
  EXPECT_NE(refused.error().message.find("TPM2_Quote"), std::string::npos);
  EXPECT_NE(refused.error().message.find("(0x00000921)"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("dictionary-attack lockout"), std::string::npos)
      << refused.error().message;
  // The code travels with the error, so a caller need not read the message.
  EXPECT_EQ(refused.error().tpm_response_code, std::optional<std::uint32_t>(TPM2_RC_LOCKOUT));
  EXPECT_TRUE(tpm::IsLockout(refused.error()));
  EXPECT_FALSE(tpm::IsAuthorizationFailure(refused.error()));
  EXPECT_FALSE(tpm::IsRetryable(refused.error()));

  auto quote = tpm().MakeQuote(*ak, nonce, *selection);
  EXPECT_TRUE(quote.ok()) << quote.error().ToString();
  auto certification = tpm().Certify(*node_key, *ak, nonce);
  EXPECT_TRUE(certification.ok()) << certification.error().ToString();
  for (const Endorsement* endorsement : {&*rsa_ek, &*ecc_ek}) {
    auto [blob, secret] =
        MakeCredentialWithTools(endorsement->public_key, *ak, "enrollment secret during lockout");
    auto recovered = tpm().ActivateCredential(*ak, *endorsement, blob, secret);
    ASSERT_TRUE(recovered.ok()) << endorsement->profile.name << ": "
                                << recovered.error().ToString();
    EXPECT_EQ(std::string(AsText(*recovered)), "enrollment secret during lockout");
  }
  EXPECT_TRUE(InLockout());
  EXPECT_EQ(TransientHandles(), "");
  EXPECT_EQ(LoadedSessions(), "");
}

// The other failure a caller must tell from lockout: a wrong authorization.
// With an owner password set (by anyone who had the hierarchy), attestd's
// storage primary key, created with an empty owner authorization, is refused.
TEST_F(LockoutTest, AWrongOwnerAuthorizationClassifiesAsAnAuthorizationFailure) {
  CommandResult set = Tool({"tpm2_changeauth", "-c", "owner", "owner-password"});
  ASSERT_EQ(set.exit_code, 0) << set.err;

  auto refused = tpm().CreateAttestationKey(AkAlgorithm::kEccP256);
  ASSERT_FALSE(refused.ok());
  const Error& error = refused.error();
  EXPECT_EQ(error.code, ErrorCode::kTpm);
  ASSERT_TRUE(error.tpm_response_code.has_value()) << error.message;
  EXPECT_TRUE(tpm::IsAuthorizationFailure(error))
      << error.message << " (0x" << std::hex << *error.tpm_response_code << ")";
  EXPECT_FALSE(tpm::IsLockout(error)) << error.message;
  EXPECT_FALSE(tpm::IsRetryable(error)) << error.message;
  EXPECT_NE(error.message.find("TPM2_CreatePrimary"), std::string::npos) << error.message;
  EXPECT_FALSE(InLockout());
}

}  // namespace
}  // namespace attest::test
