#include "attest/verifier/attestation_key.h"

#include <array>
#include <string>
#include <string_view>

#include <openssl/pem.h>

#include "attest/tpm/public_key.h"

namespace attest::verifier {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPemPublicKey = "-----BEGIN PUBLIC KEY-----";

// The first line, without its line ending. A TPM2B_PUBLIC cannot start
// with "-----": its size field would be 0x2d2d, larger than any public area.
std::string_view FirstLine(ByteView bytes) {
  std::string_view text = AsText(bytes);
  std::string_view line = text.substr(0, text.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

Result<AttestationKey> FromPem(ByteView bytes) {
  BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!bio) return OpensslError("read PEM");
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return OpensslError("parse PEM public key", ErrorCode::kCorrupt);
  int type = EVP_PKEY_get_base_id(key.get());
  if (type != EVP_PKEY_EC && type != EVP_PKEY_RSA) {
    return MakeError(ErrorCode::kInvalidArgument, "the PEM key is neither ECC nor RSA");
  }
  return AttestationKey{std::move(key), std::nullopt, {}};
}

}  // namespace

const ObjectAttributeRule* FirstBrokenAttributeRule(const TPMT_PUBLIC& public_area,
                                                    std::span<const ObjectAttributeRule> rules) {
  for (const ObjectAttributeRule& rule : rules) {
    const bool set = (public_area.objectAttributes & rule.bit) != 0;
    if (set != rule.required) return &rule;
  }
  return nullptr;
}

Status CheckAttestationKeyAttributes(const TPMT_PUBLIC& public_area) {
  static constexpr std::array<ObjectAttributeRule, 6> kRules = {{
      {TPMA_OBJECT_FIXEDTPM, true, "fixedTPM"},
      {TPMA_OBJECT_FIXEDPARENT, true, "fixedParent"},
      {TPMA_OBJECT_SENSITIVEDATAORIGIN, true, "sensitiveDataOrigin"},
      {TPMA_OBJECT_RESTRICTED, true, "restricted"},
      {TPMA_OBJECT_SIGN_ENCRYPT, true, "sign"},
      {TPMA_OBJECT_DECRYPT, false, "decrypt"},
  }};
  if (const ObjectAttributeRule* broken = FirstBrokenAttributeRule(public_area, kRules)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("not an attestation key: attribute ") + broken->name + " is " +
                         (broken->required ? "clear" : "set") + ", an AK must have it " +
                         (broken->required ? "set" : "clear"));
  }
  if (public_area.type != TPM2_ALG_ECC && public_area.type != TPM2_ALG_RSA) {
    return MakeError(ErrorCode::kInvalidArgument, "not an attestation key: neither ECC nor RSA");
  }
  return OkStatus();
}

Result<AttestationKey> ParseAttestationKey(ByteView bytes, AttestationKeyOptions options) {
  std::string_view first_line = FirstLine(bytes);
  if (first_line.starts_with(kPemBegin)) {
    if (first_line != kPemPublicKey) {
      return MakeError(ErrorCode::kCorrupt,
                       "a PEM file whose first line is not " + std::string(kPemPublicKey));
    }
    if (!options.allow_bare_public_key) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a bare PEM public key shows nothing of the key's TPM attributes; give "
                       "the AK's TPM2B_PUBLIC (`tpm2_createak -u`), or accept the key "
                       "unchecked with --allow-bare-ak");
    }
    return FromPem(bytes);
  }
  ATTEST_ASSIGN_OR_RETURN(TPM2B_PUBLIC marshaled, tpm::ParsePublic(bytes));
  ATTEST_RETURN_IF_ERROR(CheckAttestationKeyAttributes(marshaled.publicArea));
  ATTEST_ASSIGN_OR_RETURN(EvpPkeyPtr key, tpm::PublicKeyFromTpm(marshaled.publicArea));
  ATTEST_ASSIGN_OR_RETURN(Bytes name, tpm::ObjectName(marshaled.publicArea));
  return AttestationKey{std::move(key), marshaled.publicArea, std::move(name)};
}

}  // namespace attest::verifier
