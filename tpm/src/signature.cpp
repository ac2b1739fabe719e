#include "attest/tpm/signature.h"

#include <string>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"

namespace attest::tpm {
namespace {

using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslDeleter<ECDSA_SIG_free>>;

Result<HashAlgorithm> SigningHash(TPMI_ALG_HASH id) {
  if (id == TPM2_ALG_SHA256 || id == TPM2_ALG_SHA384 || id == TPM2_ALG_SHA512) {
    return *HashAlgorithmById(id);
  }
  return MakeError(ErrorCode::kUnsupported, "signature hash algorithm " + AlgorithmIdHex(id) +
                                                " is not accepted (sha256, sha384 or sha512 only)");
}

// TPM ECDSA signatures carry r and s as big-endian integers; OpenSSL
// verifies the DER SEQUENCE of the two.
Result<Bytes> EcdsaDer(const TPMS_SIGNATURE_ECDSA& ecdsa) {
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(ecdsa.signatureR.buffer, ecdsa.signatureR.size, nullptr);
  BIGNUM* s = BN_bin2bn(ecdsa.signatureS.buffer, ecdsa.signatureS.size, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpensslError("build ECDSA signature");
  }
  unsigned char* der = nullptr;
  int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) return OpensslError("encode ECDSA signature");
  Bytes out(der, der + size);
  OPENSSL_free(der);
  return out;
}

Status VerifyDigestSignature(EVP_PKEY* key, const HashAlgorithm& hash, ByteView signed_bytes,
                             ByteView signature, int rsa_padding) {
  ATTEST_ASSIGN_OR_RETURN(Bytes digest, HashWith(hash, signed_bytes));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return OpensslError("verify init");
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_get_digestbyname(hash.openssl_name)) != 1) {
    return OpensslError("set signature digest");
  }
  if (rsa_padding != 0) {
    if (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), rsa_padding) != 1) {
      return OpensslError("set RSA padding");
    }
    // The TPM picks the PSS salt length (digest size on TPM 2.0 rev 1.16+,
    // the maximum on older ones); the signature tells which.
    if (rsa_padding == RSA_PKCS1_PSS_PADDING &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1) {
      return OpensslError("set PSS salt length");
    }
  }
  int verified =
      EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(), digest.size());
  if (verified != 1) {
    ERR_clear_error();
    return MakeError(ErrorCode::kVerificationFailed,
                     "the signature does not verify with the key over the signed bytes");
  }
  return OkStatus();
}

Status CheckKeyType(EVP_PKEY* key, int expected, const char* scheme) {
  if (EVP_PKEY_get_base_id(key) != expected) {
    return MakeError(ErrorCode::kUnsupported,
                     std::string(scheme) + " signature does not fit the key's type");
  }
  return OkStatus();
}

}  // namespace

Result<TPMT_SIGNATURE> ParseSignature(ByteView marshaled) {
  return Unmarshal<TPMT_SIGNATURE>(marshaled, Tss2_MU_TPMT_SIGNATURE_Unmarshal, "TPMT_SIGNATURE");
}

Status VerifySignature(EVP_PKEY* key, ByteView signed_bytes, const TPMT_SIGNATURE& signature) {
  switch (signature.sigAlg) {
    case TPM2_ALG_ECDSA: {
      ATTEST_RETURN_IF_ERROR(CheckKeyType(key, EVP_PKEY_EC, "an ECDSA"));
      ATTEST_ASSIGN_OR_RETURN(HashAlgorithm hash, SigningHash(signature.signature.ecdsa.hash));
      ATTEST_ASSIGN_OR_RETURN(Bytes der, EcdsaDer(signature.signature.ecdsa));
      return VerifyDigestSignature(key, hash, signed_bytes, der, 0);
    }
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
      bool pss = signature.sigAlg == TPM2_ALG_RSAPSS;
      ATTEST_RETURN_IF_ERROR(CheckKeyType(key, EVP_PKEY_RSA, pss ? "an RSAPSS" : "an RSASSA"));
      const TPMS_SIGNATURE_RSA& rsa = pss ? signature.signature.rsapss : signature.signature.rsassa;
      ATTEST_ASSIGN_OR_RETURN(HashAlgorithm hash, SigningHash(rsa.hash));
      return VerifyDigestSignature(key, hash, signed_bytes, ByteView(rsa.sig.buffer, rsa.sig.size),
                                   pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING);
    }
    default:
      return MakeError(ErrorCode::kUnsupported, "signature scheme " +
                                                    AlgorithmIdHex(signature.sigAlg) +
                                                    " is not supported (ECDSA, RSASSA or RSAPSS)");
  }
}

}  // namespace attest::tpm
