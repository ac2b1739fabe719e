// SHA-256 through OpenSSL's EVP interface (hardware-accelerated where the CPU
// has SHA extensions). Hashing cannot fail short of memory exhaustion or a
// broken OpenSSL install; both abort the process rather than return a
// digest nobody could trust.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "attest/bytes.h"

struct evp_md_ctx_st;

namespace attest {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental hasher. Not thread-safe; cheap to reuse: Finish() resets it.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& Update(ByteView data);
  Sha256& Update(std::uint8_t byte) { return Update(ByteView(&byte, 1)); }
  Sha256Digest Finish();

 private:
  void Restart();
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
};

Sha256Digest Sha256Of(ByteView data);

inline ByteView AsBytes(const Sha256Digest& digest) { return {digest.data(), digest.size()}; }

}  // namespace attest
