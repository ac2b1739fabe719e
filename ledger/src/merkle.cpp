#include "attest/ledger/merkle.h"

#include <algorithm>
#include <bit>

#include "attest/encoding.h"

namespace attest::ledger {
namespace {

std::string ShortHex(const Hash& hash) { return HexEncode(ByteView(hash.data(), 8)) + ".."; }

// The largest power of two strictly less than `n` (n >= 2): RFC 9162's k.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[begin:end]) for end > begin, from perfect subtrees.
Result<Hash> SubtreeHash(std::uint64_t begin, std::uint64_t end, const NodeReader& read) {
  std::uint64_t size = end - begin;
  if (std::has_single_bit(size) && begin % size == 0) {
    int level = std::countr_zero(size);
    return read(level, begin >> level);
  }
  std::uint64_t k = SplitPoint(size);
  ATTEST_ASSIGN_OR_RETURN(Hash left, SubtreeHash(begin, begin + k, read));
  ATTEST_ASSIGN_OR_RETURN(Hash right, SubtreeHash(begin + k, end, read));
  return NodeHash(left, right);
}

// SUBPROOF(m, D[begin:end], complete) of RFC 9162 §2.1.4.1; m counts leaves
// from `begin`.
Status SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
                const NodeReader& read, std::vector<Hash>& out) {
  std::uint64_t size = end - begin;
  if (m == size) {
    if (!complete) {
      ATTEST_ASSIGN_OR_RETURN(Hash hash, SubtreeHash(begin, end, read));
      out.push_back(hash);
    }
    return OkStatus();
  }
  std::uint64_t k = SplitPoint(size);
  if (m <= k) {
    ATTEST_RETURN_IF_ERROR(SubProof(m, begin, begin + k, complete, read, out));
    ATTEST_ASSIGN_OR_RETURN(Hash right, SubtreeHash(begin + k, end, read));
    out.push_back(right);
  } else {
    ATTEST_RETURN_IF_ERROR(SubProof(m - k, begin + k, end, false, read, out));
    ATTEST_ASSIGN_OR_RETURN(Hash left, SubtreeHash(begin, begin + k, read));
    out.push_back(left);
  }
  return OkStatus();
}

// One hasher per thread: creating an OpenSSL digest context costs more than
// hashing the 65 bytes of a node.
Sha256& ThreadHasher() {
  thread_local Sha256 hasher;
  return hasher;
}

Error ProofError(std::string message) {
  return MakeError(ErrorCode::kVerificationFailed, std::move(message));
}

}  // namespace

Hash LeafHash(ByteView leaf_data) {
  return ThreadHasher().Update(std::uint8_t{0x00}).Update(leaf_data).Finish();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return ThreadHasher()
      .Update(std::uint8_t{0x01})
      .Update(AsBytes(left))
      .Update(AsBytes(right))
      .Finish();
}

Hash EmptyRoot() { return Sha256Of({}); }

Result<CompactRange> CompactRange::Load(std::uint64_t size, const NodeReader& read) {
  CompactRange range;
  std::uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    std::uint64_t width = std::uint64_t{1} << level;
    if ((size & width) == 0) continue;
    ATTEST_ASSIGN_OR_RETURN(Hash hash, read(level, begin >> level));
    range.nodes_.push_back(Node{level, begin >> level, hash});
    begin += width;
  }
  range.size_ = size;
  return range;
}

Status CompactRange::Append(const Hash& leaf_hash, const NodeSink& sink) {
  nodes_.push_back(Node{0, size_, leaf_hash});
  ++size_;
  while (nodes_.size() >= 2 && nodes_[nodes_.size() - 2].level == nodes_.back().level) {
    const Node& left = nodes_[nodes_.size() - 2];
    Node parent{left.level + 1, left.index >> 1, NodeHash(left.hash, nodes_.back().hash)};
    nodes_.pop_back();
    nodes_.back() = parent;
    if (sink) ATTEST_RETURN_IF_ERROR(sink(parent));
  }
  return OkStatus();
}

Hash CompactRange::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  Hash root = nodes_.back().hash;
  for (auto node = nodes_.rbegin() + 1; node != nodes_.rend(); ++node) {
    root = NodeHash(node->hash, root);
  }
  return root;
}

Result<Hash> RootFromStore(std::uint64_t size, const NodeReader& read) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(0, size, read);
}

Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t size,
                                         const NodeReader& read) {
  if (index >= size) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "leaf " + std::to_string(index) + " is not in a tree of size " + std::to_string(size));
  }
  std::vector<Hash> proof;
  std::uint64_t begin = 0;
  std::uint64_t end = size;
  while (end - begin > 1) {
    std::uint64_t k = SplitPoint(end - begin);
    if (index < begin + k) {
      ATTEST_ASSIGN_OR_RETURN(Hash right, SubtreeHash(begin + k, end, read));
      proof.push_back(right);
      end = begin + k;
    } else {
      ATTEST_ASSIGN_OR_RETURN(Hash left, SubtreeHash(begin, begin + k, read));
      proof.push_back(left);
      begin += k;
    }
  }
  std::reverse(proof.begin(), proof.end());  // RFC order: leaf to root
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size,
                                           const NodeReader& read) {
  if (old_size > new_size) {
    return MakeError(ErrorCode::kInvalidArgument, "old size " + std::to_string(old_size) +
                                                      " is larger than new size " +
                                                      std::to_string(new_size));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  ATTEST_RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, read, proof));
  return proof;
}

Status VerifyInclusion(std::uint64_t index, std::uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& proof, const Hash& root) {
  if (index >= size) {
    return ProofError("leaf " + std::to_string(index) + " is not in a tree of size " +
                      std::to_string(size));
  }
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofError("inclusion proof has more hashes than the tree size allows");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofError("inclusion proof has fewer hashes than the tree size needs");
  if (r != root) {
    return ProofError("inclusion proof leads to root " + ShortHex(r) + ", expected " +
                      ShortHex(root));
  }
  return OkStatus();
}

Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                         const Hash& new_root, const std::vector<Hash>& proof) {
  if (old_size > new_size) {
    return ProofError("old size " + std::to_string(old_size) + " is larger than new size " +
                      std::to_string(new_size));
  }
  if (old_size == new_size) {
    if (!proof.empty()) return ProofError("trees of equal size need an empty proof");
    if (old_root != new_root) return ProofError("trees of equal size have different roots");
    return OkStatus();
  }
  if (old_size == 0) {
    if (!proof.empty()) return ProofError("the empty tree needs an empty proof");
    return OkStatus();
  }
  if (proof.empty()) return ProofError("consistency proof is empty");

  std::vector<Hash> path;
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path.front();
  Hash sr = path.front();
  for (auto c = path.begin() + 1; c != path.end(); ++c) {
    if (sn == 0) return ProofError("consistency proof has more hashes than the sizes allow");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(*c, fr);
      sr = NodeHash(*c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, *c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofError("consistency proof has fewer hashes than the sizes need");
  if (fr != old_root) {
    return ProofError("consistency proof leads to old root " + ShortHex(fr) + ", expected " +
                      ShortHex(old_root));
  }
  if (sr != new_root) {
    return ProofError("consistency proof leads to new root " + ShortHex(sr) + ", expected " +
                      ShortHex(new_root));
  }
  return OkStatus();
}

}  // namespace attest::ledger
