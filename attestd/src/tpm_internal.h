// What the Tpm implementation files share: the owned TCTI + ESYS context and
// small helpers for ESAPI's heap-allocated outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "attest/attestd/tpm.h"

namespace attest::attestd {

struct EsysFree {
  void operator()(void* pointer) const { Esys_Free(pointer); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree>;

struct Tpm::Connection {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ~Connection() {
    if (esys != nullptr) Esys_Finalize(&esys);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }
};

// "0x01c00002": TPM handles and response codes as the TPM specs print them.
std::string HexHandle(std::uint32_t value);

// The templates every key attestd creates derives from (tpm_templates.cpp).
TPM2B_PUBLIC StoragePrimaryTemplate();
TPM2B_PUBLIC AttestationKeyTemplate(AkAlgorithm algorithm);
TPM2B_PUBLIC SigningKeyTemplate();
TPM2B_PUBLIC EndorsementKeyTemplate(const EkProfile& profile);
const std::vector<EkProfile>& EkProfiles(EkAlgorithm algorithm);

// The EK Credential Profile's authorization policies in one hash algorithm:
// A = PolicySecret(TPM_RH_ENDORSEMENT), the low-range templates' policy;
// C = PolicyAuthorizeNV(the profile's policy index); B = PolicyOR(A, C),
// the high-range templates' policy.
struct EkPolicyDigests {
  ByteView a;
  ByteView b;
  ByteView c;
};
// For SHA-256 and SHA-384; nullopt for another algorithm.
std::optional<EkPolicyDigests> EkPolicyDigestsFor(TPMI_ALG_HASH hash);

}  // namespace attest::attestd
