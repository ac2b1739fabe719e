// A literal, slow transcription of RFC 9162 §2.1 over a full list of leaf
// hashes, to cross-check the store-backed implementation. Test-only.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "attest/ledger/merkle.h"

namespace attest::ledger::reference {

// MTH(D[begin:end]).
inline Hash Mth(const std::vector<Hash>& leaves, std::uint64_t begin, std::uint64_t end) {
  if (end == begin) return EmptyRoot();
  if (end - begin == 1) return leaves[begin];
  std::uint64_t k = std::bit_floor(end - begin - 1);
  return NodeHash(Mth(leaves, begin, begin + k), Mth(leaves, begin + k, end));
}

// PATH(m, D[begin:end]), m relative to begin.
inline std::vector<Hash> Path(const std::vector<Hash>& leaves, std::uint64_t m, std::uint64_t begin,
                              std::uint64_t end) {
  if (end - begin <= 1) return {};
  std::uint64_t k = std::bit_floor(end - begin - 1);
  std::vector<Hash> path;
  if (m < k) {
    path = Path(leaves, m, begin, begin + k);
    path.push_back(Mth(leaves, begin + k, end));
  } else {
    path = Path(leaves, m - k, begin + k, end);
    path.push_back(Mth(leaves, begin, begin + k));
  }
  return path;
}

// SUBPROOF(m, D[begin:end], b).
inline std::vector<Hash> SubProof(const std::vector<Hash>& leaves, std::uint64_t m,
                                  std::uint64_t begin, std::uint64_t end, bool b) {
  std::uint64_t n = end - begin;
  if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{Mth(leaves, begin, end)};
  std::uint64_t k = std::bit_floor(n - 1);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = SubProof(leaves, m, begin, begin + k, b);
    proof.push_back(Mth(leaves, begin + k, end));
  } else {
    proof = SubProof(leaves, m - k, begin + k, end, false);
    proof.push_back(Mth(leaves, begin, begin + k));
  }
  return proof;
}

}  // namespace attest::ledger::reference
