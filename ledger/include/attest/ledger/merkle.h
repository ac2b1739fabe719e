// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and
// their verification. Everything here is a pure function of its inputs; the
// only storage it sees is a NodeReader that returns perfect-subtree hashes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "attest/bytes.h"
#include "attest/error.h"
#include "attest/sha256.h"

namespace attest::ledger {

using Hash = Sha256Digest;

// RFC 9162 §2.1.1: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || l || r).
Hash LeafHash(ByteView leaf_data);
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

// The hash of the perfect subtree holding leaves [index << level,
// (index + 1) << level): level 0 is a leaf hash. Stored nodes never change
// once written, so a reader can answer for any tree size up to the current.
using NodeReader = std::function<Result<Hash>(int level, std::uint64_t index)>;

// The right edge of a tree: the roots of its perfect subtrees, largest (left)
// first, one per set bit of the size. Enough to append leaves and compute
// the root without reading anything else.
class CompactRange {
 public:
  struct Node {
    int level;
    std::uint64_t index;
    Hash hash;
  };
  // Called for every perfect subtree that an append completes, level >= 1.
  using NodeSink = std::function<Status(const Node&)>;

  CompactRange() = default;
  static Result<CompactRange> Load(std::uint64_t size, const NodeReader& read);

  std::uint64_t size() const { return size_; }
  const std::vector<Node>& nodes() const { return nodes_; }

  // Appends one leaf hash. `sink` (may be empty) receives the new interior nodes.
  Status Append(const Hash& leaf_hash, const NodeSink& sink = {});
  Hash Root() const;

 private:
  std::uint64_t size_ = 0;
  std::vector<Node> nodes_;
};

// The root of the tree of `size` leaves, from O(log size) stored nodes.
Result<Hash> RootFromStore(std::uint64_t size, const NodeReader& read);

// RFC 9162 §2.1.3.1 PATH(index, D[size]), leaf to root. Reads O(log size) nodes.
Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const NodeReader& read);
// RFC 9162 §2.1.4.1 PROOF(old_size, D[new_size]). Reads O(log new_size) nodes.
Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const NodeReader& read);

// RFC 9162 §2.1.3.2. kVerificationFailed with the reason when the proof does
// not lead from `leaf_hash` to `root`.
Status VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 §2.1.4.2. Size 0 is consistent with everything (empty proof);
// equal sizes need equal roots and an empty proof.
Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& proof);

}  // namespace attest::ledger
