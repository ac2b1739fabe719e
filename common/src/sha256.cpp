#include "attest/sha256.h"

#include <cstdio>
#include <cstdlib>
#include <new>

#include <openssl/evp.h>

namespace attest {
namespace {

// Fetched once: an implicit fetch per EVP_DigestInit costs more than hashing
// a small ledger entry.
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}

[[noreturn]] void DieOpenSsl(const char* what) {
  (void)std::fprintf(stderr, "fatal: OpenSSL SHA-256 %s failed\n", what);
  std::abort();
}

}  // namespace

void Sha256::CtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) throw std::bad_alloc();
  Restart();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Restart() {
  const EVP_MD* algorithm = Sha256Algorithm();
  if (algorithm == nullptr || EVP_DigestInit_ex2(ctx_.get(), algorithm, nullptr) != 1) {
    DieOpenSsl("init");
  }
}

Sha256& Sha256::Update(ByteView data) {
  if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) {
    DieOpenSsl("update");
  }
  return *this;
}

Sha256Digest Sha256::Finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &length) != 1 || length != digest.size()) {
    DieOpenSsl("final");
  }
  Restart();
  return digest;
}

Sha256Digest Sha256Of(ByteView data) {
  // Reused per thread: creating an EVP_MD_CTX costs more than hashing a
  // small input. Finish() leaves it ready for the next call.
  thread_local Sha256 hasher;
  return hasher.Update(data).Finish();
}

}  // namespace attest
