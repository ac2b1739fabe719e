#include "kdf.h"

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "attest/openssl.h"

namespace attest::verifier::internal {
namespace {

using EvpMacPtr = std::unique_ptr<EVP_MAC, OpensslDeleter<EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpensslDeleter<EVP_MAC_CTX_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, OpensslDeleter<EVP_MD_free>>;

std::array<std::uint8_t, 4> BigEndian32(std::uint32_t value) {
  return {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
          static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}

// The label and its NUL, as both KDFs hash it (Part 1 §11.4.10: a label
// that does not end in 0 gets one appended).
ByteView LabelWithNul(const std::string& label) {
  return {reinterpret_cast<const std::uint8_t*>(label.c_str()), label.size() + 1};
}

// Whole bytes only: every TPM key and seed size is a multiple of 8 bits, and
// the counter runs to at most 2^32 - 1 blocks.
Status CheckOutputSize(std::span<std::uint8_t> out) {
  if (out.empty() || out.size() > 0x1fffffff) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "KDF output of " + std::to_string(out.size()) + " bytes");
  }
  return OkStatus();
}

}  // namespace

Status KDFa(const tpm::HashAlgorithm& hash, ByteView key, std::string_view label,
            ByteView context_u, ByteView context_v, std::span<std::uint8_t> out) {
  ATTEST_RETURN_IF_ERROR(CheckOutputSize(out));
  const std::string label_text(label);  // NUL-terminated copy
  const ByteView label_bytes = LabelWithNul(label_text);
  const auto bits = BigEndian32(static_cast<std::uint32_t>(out.size() * 8));
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return OpensslError("KDFa: fetch HMAC");
  std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(hash.openssl_name),
                                       0),
      OSSL_PARAM_construct_end()};
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> block{};
  std::size_t written = 0;
  for (std::uint32_t counter = 1; written < out.size(); ++counter) {
    EvpMacCtxPtr context(EVP_MAC_CTX_new(mac.get()));
    const auto counter_bytes = BigEndian32(counter);
    std::size_t block_size = 0;
    if (!context || EVP_MAC_init(context.get(), key.data(), key.size(), params.data()) != 1 ||
        EVP_MAC_update(context.get(), counter_bytes.data(), counter_bytes.size()) != 1 ||
        EVP_MAC_update(context.get(), label_bytes.data(), label_bytes.size()) != 1 ||
        EVP_MAC_update(context.get(), context_u.data(), context_u.size()) != 1 ||
        EVP_MAC_update(context.get(), context_v.data(), context_v.size()) != 1 ||
        EVP_MAC_update(context.get(), bits.data(), bits.size()) != 1 ||
        EVP_MAC_final(context.get(), block.data(), &block_size, block.size()) != 1 ||
        block_size != hash.digest_size) {
      OPENSSL_cleanse(block.data(), block.size());
      return OpensslError("KDFa: HMAC-" + std::string(hash.name));
    }
    std::size_t take = std::min(block_size, out.size() - written);
    std::copy_n(block.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(written));
    written += take;
  }
  OPENSSL_cleanse(block.data(), block.size());
  return OkStatus();
}

Status KDFe(const tpm::HashAlgorithm& hash, ByteView z, std::string_view use, ByteView party_u_info,
            ByteView party_v_info, std::span<std::uint8_t> out) {
  ATTEST_RETURN_IF_ERROR(CheckOutputSize(out));
  const std::string use_text(use);
  const ByteView use_bytes = LabelWithNul(use_text);
  EvpMdPtr md(EVP_MD_fetch(nullptr, hash.openssl_name, nullptr));
  if (!md) return OpensslError("KDFe: fetch " + std::string(hash.name));
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> block{};
  std::size_t written = 0;
  for (std::uint32_t counter = 1; written < out.size(); ++counter) {
    EvpMdCtxPtr context(EVP_MD_CTX_new());
    const auto counter_bytes = BigEndian32(counter);
    unsigned int block_size = 0;
    if (!context || EVP_DigestInit_ex(context.get(), md.get(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), counter_bytes.data(), counter_bytes.size()) != 1 ||
        EVP_DigestUpdate(context.get(), z.data(), z.size()) != 1 ||
        EVP_DigestUpdate(context.get(), use_bytes.data(), use_bytes.size()) != 1 ||
        EVP_DigestUpdate(context.get(), party_u_info.data(), party_u_info.size()) != 1 ||
        EVP_DigestUpdate(context.get(), party_v_info.data(), party_v_info.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), block.data(), &block_size) != 1 ||
        block_size != hash.digest_size) {
      OPENSSL_cleanse(block.data(), block.size());
      return OpensslError("KDFe: " + std::string(hash.name));
    }
    std::size_t take = std::min<std::size_t>(block_size, out.size() - written);
    std::copy_n(block.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(written));
    written += take;
  }
  OPENSSL_cleanse(block.data(), block.size());
  return OkStatus();
}

}  // namespace attest::verifier::internal
