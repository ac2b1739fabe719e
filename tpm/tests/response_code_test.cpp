// TPM response codes kept in errors and classified, over the codes TPMs
// return (TPM 2.0 Part 2, 6.6) and codes the software layers of tpm2-tss make.
#include "attest/tpm/response_code.h"

#include <cstdint>

#include <gtest/gtest.h>
#include <tss2/tss2_common.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

namespace attest::tpm {
namespace {

Error Failed(std::uint32_t rc) { return TpmError(rc, "TPM2_Test"); }

TEST(ResponseCodeTest, TheErrorKeepsTheCodeThroughContext) {
  Error error = Failed(0x921);
  EXPECT_EQ(error.code, ErrorCode::kTpm);
  ASSERT_TRUE(error.tpm_response_code.has_value());
  EXPECT_EQ(*error.tpm_response_code, 0x921u);
  EXPECT_NE(error.message.find("TPM2_Test: "), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("(0x00000921)"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("dictionary-attack lockout"), std::string::npos) << error.message;

  Error outer = error.WithContext("quote").WithContext("attest");
  EXPECT_EQ(outer.tpm_response_code, error.tpm_response_code);
  EXPECT_TRUE(IsLockout(outer));
  Status status = Status(error).WithContext("pass");
  EXPECT_EQ(status.error().tpm_response_code, 0x921u);
  EXPECT_FALSE(MakeError(ErrorCode::kTpm, "no code").tpm_response_code.has_value());
}

TEST(ResponseCodeTest, LockoutIsTheWarningAndNothingElse) {
  EXPECT_TRUE(IsLockout(Failed(TPM2_RC_LOCKOUT)));
  EXPECT_TRUE(IsLockout(Failed(0x921)));
  // Passed on by a resource manager (tpm2-abrmd marks the layer).
  EXPECT_TRUE(IsLockout(Failed(TSS2_RESMGR_TPM_RC_LAYER | 0x921)));
  EXPECT_FALSE(IsAuthorizationFailure(Failed(0x921)));
  EXPECT_FALSE(IsRetryable(Failed(0x921)));
  EXPECT_FALSE(IsLockout(Failed(0x922)));  // TPM_RC_RETRY
  // The same low bits from a software layer are not the TPM's lockout.
  EXPECT_FALSE(IsLockout(Failed(TSS2_SYS_RC_LAYER | 0x921)));
  EXPECT_FALSE(IsLockout(Failed(TSS2_TCTI_RC_LAYER | 0x921)));
}

TEST(ResponseCodeTest, AuthorizationFailuresInEveryQualifiedForm) {
  for (std::uint32_t rc : {
           0x08eu,  // TPM_RC_AUTH_FAIL, unqualified
           0x98eu,  // TPM_RC_AUTH_FAIL + TPM_RC_S + TPM_RC_1: session 1 (a wrong password)
           0xa8eu,  // session 2
           0x18eu,  // handle 1
           0x0a2u,  // TPM_RC_BAD_AUTH, unqualified
           0x9a2u,  // session 1 (a noDA object's wrong password)
           0x1e2u,  // TPM_RC_BAD_AUTH + TPM_RC_P + TPM_RC_1: parameter 1
           0xfe2u,  // parameter 15
           0x2a2u,  // handle 2
       }) {
    Error error = Failed(rc);
    EXPECT_TRUE(IsAuthorizationFailure(error)) << std::hex << rc;
    EXPECT_FALSE(IsLockout(error)) << std::hex << rc;
    EXPECT_FALSE(IsRetryable(error)) << std::hex << rc;
  }
  EXPECT_TRUE(IsAuthorizationFailure(Failed(TSS2_RESMGR_TPM_RC_LAYER | 0x98e)));
  // Neighbours that are something else.
  EXPECT_FALSE(IsAuthorizationFailure(Failed(0x98f)));  // TPM_RC_NONCE, session 1
  EXPECT_FALSE(IsAuthorizationFailure(Failed(0x99d)));  // TPM_RC_POLICY_FAIL, session 1
  EXPECT_FALSE(IsAuthorizationFailure(Failed(0x124)));  // TPM_RC_AUTH_TYPE (format zero)
  EXPECT_FALSE(IsAuthorizationFailure(Failed(0x00e)));  // format-zero bits of AUTH_FAIL's number
  EXPECT_FALSE(IsAuthorizationFailure(Failed(TSS2_ESYS_RC_BAD_VALUE)));
}

TEST(ResponseCodeTest, RetryYieldedAndTestingAreRetryable) {
  EXPECT_TRUE(IsRetryable(Failed(TPM2_RC_RETRY)));    // 0x922
  EXPECT_TRUE(IsRetryable(Failed(TPM2_RC_YIELDED)));  // 0x908
  EXPECT_TRUE(IsRetryable(Failed(TPM2_RC_TESTING)));  // 0x90a
  EXPECT_EQ(TPM2_RC_RETRY, 0x922u);
  EXPECT_EQ(TPM2_RC_YIELDED, 0x908u);
  EXPECT_EQ(TPM2_RC_TESTING, 0x90au);
  EXPECT_FALSE(IsRetryable(Failed(TPM2_RC_LOCKOUT)));
  EXPECT_FALSE(IsRetryable(Failed(0x902)));  // TPM_RC_OBJECT_MEMORY: not without flushing
  EXPECT_FALSE(IsRetryable(Failed(0x101)));  // TPM_RC_FAILURE
  EXPECT_FALSE(IsRetryable(Failed(TSS2_ESYS_RC_TRY_AGAIN)));  // ESYS's own, not the TPM's
  EXPECT_FALSE(IsRetryable(Failed(TSS2_TCTI_RC_TRY_AGAIN)));
}

TEST(ResponseCodeTest, ErrorsWithoutATpmCodeClassifyAsNothing) {
  Error plain = MakeError(ErrorCode::kTpm, "TPM2_Quote: something");
  EXPECT_FALSE(IsLockout(plain));
  EXPECT_FALSE(IsAuthorizationFailure(plain));
  EXPECT_FALSE(IsRetryable(plain));
  EXPECT_FALSE(TpmResponseCode(TSS2_RC_SUCCESS).has_value());
  EXPECT_FALSE(TpmResponseCode(TSS2_MU_RC_INSUFFICIENT_BUFFER).has_value());
  EXPECT_EQ(TpmResponseCode(TSS2_RESMGR_TPM_RC_LAYER | 0x9a2), 0x9a2u);
  EXPECT_EQ(BaseResponseCode(0x9a2), TPM2_RC_BAD_AUTH);
  EXPECT_EQ(BaseResponseCode(0x1e2), TPM2_RC_BAD_AUTH);
  EXPECT_EQ(BaseResponseCode(0x921), 0x921u);
}

}  // namespace
}  // namespace attest::tpm
