#include "attest/ledger/merkle.h"

#include <map>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "attest/encoding.h"

#include "merkle_reference.h"

namespace attest::ledger {
namespace {

Hash H(std::string_view hex) {
  Bytes bytes = HexDecode(hex).value();
  Hash hash{};
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

// SHA-256 by a route that shares no code with the library: OpenSSL one-shot.
Hash Sha(const Bytes& data) {
  Hash out{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &length, EVP_sha256(), nullptr);
  return out;
}
Hash Leaf(std::string_view data) {
  Bytes input = {0x00};
  input.insert(input.end(), data.begin(), data.end());
  return Sha(input);
}
Hash Node(const Hash& left, const Hash& right) {
  Bytes input = {0x01};
  input.insert(input.end(), left.begin(), left.end());
  input.insert(input.end(), right.begin(), right.end());
  return Sha(input);
}

// An in-memory store of perfect subtrees, filled the way the ledger fills
// its database: leaf hashes at level 0, CompactRange's completed nodes above.
class MemoryTree {
 public:
  void Append(const Hash& leaf) {
    nodes_[{0, range_.size()}] = leaf;
    leaves_.push_back(leaf);
    ASSERT_TRUE(range_
                    .Append(leaf,
                            [this](const CompactRange::Node& node) {
                              nodes_[{node.level, node.index}] = node.hash;
                              return OkStatus();
                            })
                    .ok());
  }
  NodeReader Reader() {
    return [this](int level, std::uint64_t index) -> Result<Hash> {
      ++reads_;
      auto found = nodes_.find({level, index});
      if (found == nodes_.end()) return MakeError(ErrorCode::kNotFound, "no such node");
      return found->second;
    };
  }
  const std::vector<Hash>& leaves() const { return leaves_; }
  const CompactRange& range() const { return range_; }
  int reads() const { return reads_; }

 private:
  std::map<std::pair<int, std::uint64_t>, Hash> nodes_;
  std::vector<Hash> leaves_;
  CompactRange range_;
  int reads_ = 0;
};

// RFC 6962's reference leaves, as used by every CT implementation's tests.
const std::vector<std::string> kVectorLeaves = {"",
                                                "00",
                                                "10",
                                                "2021",
                                                "3031",
                                                "40414243",
                                                "5051525354555657",
                                                "606162636465666768696a6b6c6d6e6f"};

MemoryTree VectorTree(std::size_t size) {
  MemoryTree tree;
  for (std::size_t i = 0; i < size; ++i) tree.Append(LeafHash(HexDecode(kVectorLeaves[i]).value()));
  return tree;
}

TEST(MerkleTest, EmptyTreeRootIsHashOfNothing) {
  EXPECT_EQ(HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(CompactRange().Root(), EmptyRoot());
}

TEST(MerkleTest, Rfc6962ReferenceRoots) {
  const char* roots[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  for (std::size_t size = 1; size <= 8; ++size) {
    MemoryTree tree = VectorTree(size);
    EXPECT_EQ(HexEncode(tree.range().Root()), roots[size - 1]) << "size " << size;
    EXPECT_EQ(HexEncode(RootFromStore(size, tree.Reader()).value()), roots[size - 1]);
  }
}

TEST(MerkleTest, Rfc6962ReferenceProofs) {
  MemoryTree tree = VectorTree(8);
  // Inclusion of leaf 0 in 8, leaf 5 in 8, leaf 2 in 3, leaf 1 in 5.
  EXPECT_EQ(
      InclusionProof(0, 8, tree.Reader()).value(),
      (std::vector<Hash>{H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                         H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}));
  EXPECT_EQ(
      InclusionProof(5, 8, tree.Reader()).value(),
      (std::vector<Hash>{H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                         H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                         H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
  EXPECT_EQ(
      InclusionProof(2, 3, tree.Reader()).value(),
      (std::vector<Hash>{H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}));
  EXPECT_EQ(
      InclusionProof(1, 5, tree.Reader()).value(),
      (std::vector<Hash>{H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                         H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}));
  // Consistency 1->8, 6->8, 2->5, 6->7.
  EXPECT_EQ(
      ConsistencyProof(1, 8, tree.Reader()).value(),
      (std::vector<Hash>{H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                         H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}));
  EXPECT_EQ(
      ConsistencyProof(6, 8, tree.Reader()).value(),
      (std::vector<Hash>{H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                         H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                         H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
  EXPECT_EQ(
      ConsistencyProof(2, 5, tree.Reader()).value(),
      (std::vector<Hash>{H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}));
  EXPECT_EQ(
      ConsistencyProof(6, 7, tree.Reader()).value(),
      (std::vector<Hash>{H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                         H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                         H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
}

// Small trees worked out by hand from the RFC 9162 definitions, with leaves
// "a", "b", ... hashed by OpenSSL directly (no library code involved).
class HandComputedTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char c = 'a'; c < 'a' + 9; ++c) l_.push_back(Leaf(std::string(1, c)));
  }
  MemoryTree Tree(std::size_t size) {
    MemoryTree tree;
    for (std::size_t i = 0; i < size; ++i) tree.Append(l_[i]);
    return tree;
  }
  std::vector<Hash> l_;  // l_[i] = SHA-256(0x00 || letter i)
};

TEST_F(HandComputedTreeTest, Size1) {
  // A single leaf is its own root and needs an empty proof.
  MemoryTree tree = Tree(1);
  EXPECT_EQ(tree.range().Root(), l_[0]);
  EXPECT_TRUE(InclusionProof(0, 1, tree.Reader()).value().empty());
  EXPECT_TRUE(VerifyInclusion(0, 1, l_[0], {}, l_[0]).ok());
}

TEST_F(HandComputedTreeTest, Size2) {
  MemoryTree tree = Tree(2);
  Hash root = Node(l_[0], l_[1]);
  EXPECT_EQ(tree.range().Root(), root);
  EXPECT_EQ(InclusionProof(0, 2, tree.Reader()).value(), std::vector<Hash>{l_[1]});
  EXPECT_EQ(InclusionProof(1, 2, tree.Reader()).value(), std::vector<Hash>{l_[0]});
  EXPECT_EQ(ConsistencyProof(1, 2, tree.Reader()).value(), std::vector<Hash>{l_[1]});
}

TEST_F(HandComputedTreeTest, Size3) {
  // k = 2: root = H(H(a,b), c). c's sibling is the left pair; a's path is b then c.
  MemoryTree tree = Tree(3);
  Hash ab = Node(l_[0], l_[1]);
  EXPECT_EQ(tree.range().Root(), Node(ab, l_[2]));
  EXPECT_EQ(InclusionProof(2, 3, tree.Reader()).value(), std::vector<Hash>{ab});
  EXPECT_EQ(InclusionProof(0, 3, tree.Reader()).value(), (std::vector<Hash>{l_[1], l_[2]}));
  // 2 -> 3: the old tree is a complete subtree, so only c is needed.
  EXPECT_EQ(ConsistencyProof(2, 3, tree.Reader()).value(), std::vector<Hash>{l_[2]});
  // 1 -> 3: b, then c.
  EXPECT_EQ(ConsistencyProof(1, 3, tree.Reader()).value(), (std::vector<Hash>{l_[1], l_[2]}));
}

TEST_F(HandComputedTreeTest, Size7) {
  // k = 4: root = H(H(H(a,b),H(c,d)), H(H(e,f), g)).
  MemoryTree tree = Tree(7);
  Hash ab = Node(l_[0], l_[1]), cd = Node(l_[2], l_[3]), ef = Node(l_[4], l_[5]);
  Hash abcd = Node(ab, cd), efg = Node(ef, l_[6]);
  EXPECT_EQ(tree.range().Root(), Node(abcd, efg));
  // g: sibling ef, then abcd.
  EXPECT_EQ(InclusionProof(6, 7, tree.Reader()).value(), (std::vector<Hash>{ef, abcd}));
  // d: c, ab, efg.
  EXPECT_EQ(InclusionProof(3, 7, tree.Reader()).value(), (std::vector<Hash>{l_[2], ab, efg}));
  // 4 -> 7: abcd is complete, so the proof is just efg.
  EXPECT_EQ(ConsistencyProof(4, 7, tree.Reader()).value(), std::vector<Hash>{efg});
  // 6 -> 7: ef, g, abcd (the RFC's SUBPROOF order).
  EXPECT_EQ(ConsistencyProof(6, 7, tree.Reader()).value(), (std::vector<Hash>{ef, l_[6], abcd}));
}

TEST_F(HandComputedTreeTest, Size8) {
  MemoryTree tree = Tree(8);
  Hash ab = Node(l_[0], l_[1]), cd = Node(l_[2], l_[3]);
  Hash ef = Node(l_[4], l_[5]), gh = Node(l_[6], l_[7]);
  Hash abcd = Node(ab, cd), efgh = Node(ef, gh);
  EXPECT_EQ(tree.range().Root(), Node(abcd, efgh));
  EXPECT_EQ(InclusionProof(5, 8, tree.Reader()).value(), (std::vector<Hash>{l_[4], gh, abcd}));
  // The compact range of a perfect tree is its root alone.
  ASSERT_EQ(tree.range().nodes().size(), 1u);
  EXPECT_EQ(tree.range().nodes()[0].level, 3);
}

TEST_F(HandComputedTreeTest, Size9) {
  // k = 8: root = H(abcdefgh, i). i's proof is the whole left tree.
  MemoryTree tree = Tree(9);
  Hash ab = Node(l_[0], l_[1]), cd = Node(l_[2], l_[3]);
  Hash ef = Node(l_[4], l_[5]), gh = Node(l_[6], l_[7]);
  Hash left = Node(Node(ab, cd), Node(ef, gh));
  EXPECT_EQ(tree.range().Root(), Node(left, l_[8]));
  EXPECT_EQ(InclusionProof(8, 9, tree.Reader()).value(), std::vector<Hash>{left});
  EXPECT_EQ(InclusionProof(0, 9, tree.Reader()).value(),
            (std::vector<Hash>{l_[1], cd, Node(ef, gh), l_[8]}));
  EXPECT_EQ(ConsistencyProof(8, 9, tree.Reader()).value(), std::vector<Hash>{l_[8]});
}

// Every way to damage a valid inclusion proof must fail verification.
void ExpectInclusionCorruptionsFail(std::uint64_t index, std::uint64_t size, const Hash& leaf,
                                    const std::vector<Hash>& proof, const Hash& root) {
  auto fails = [&](std::uint64_t i, std::uint64_t n, const Hash& l, const std::vector<Hash>& p,
                   const Hash& r, const char* what) {
    EXPECT_FALSE(VerifyInclusion(i, n, l, p, r).ok())
        << what << " (" << index << "," << size << ")";
  };
  if (index > 0) fails(index - 1, size, leaf, proof, root, "index - 1");
  if (index + 1 < size) fails(index + 1, size, leaf, proof, root, "index + 1");
  // A proof fixes the shape of the path, not the size: sizes that share the
  // shape (e.g. 10 and 11 for leaf 0) accept the same proof, which is why a
  // signed checkpoint binds root and size. Doubling or halving changes the
  // shape, so those must fail.
  fails(index, size * 2, leaf, proof, root, "size * 2");
  if (size > 1) {
    fails(index, size / 2, leaf, proof, root, "size / 2");
  }
  fails(size, size, leaf, proof, root, "index == size");
  Hash other = leaf;
  other[0] ^= 1;
  fails(index, size, other, proof, root, "wrong leaf");
  fails(index, size, leaf, proof, other, "wrong root");
  std::vector<Hash> longer = proof;
  longer.push_back(root);
  fails(index, size, leaf, longer, root, "extra hash");
  if (!proof.empty()) {
    std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
    fails(index, size, leaf, shorter, root, "missing hash");
    for (std::size_t k = 0; k < proof.size(); ++k) {
      std::vector<Hash> flipped = proof;
      flipped[k][31] ^= 0x80;
      fails(index, size, leaf, flipped, root, "flipped bit");
    }
  }
}

TEST(MerkleCrossCheckTest, EveryInclusionProofUpTo64) {
  MemoryTree tree;
  for (std::uint64_t n = 1; n <= 64; ++n) {
    tree.Append(LeafHash(AsBytes("leaf " + std::to_string(n - 1))));
    const Hash root = reference::Mth(tree.leaves(), 0, n);
    ASSERT_EQ(tree.range().Root(), root) << n;
    ASSERT_EQ(RootFromStore(n, tree.Reader()).value(), root) << n;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(i, n, tree.Reader());
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, reference::Path(tree.leaves(), i, 0, n)) << i << "/" << n;
      ASSERT_TRUE(VerifyInclusion(i, n, tree.leaves()[i], *proof, root).ok()) << i << "/" << n;
      ExpectInclusionCorruptionsFail(i, n, tree.leaves()[i], *proof, root);
    }
  }
}

TEST(MerkleCrossCheckTest, EveryConsistencyProofUpTo64) {
  MemoryTree tree;
  for (std::uint64_t n = 1; n <= 64; ++n) {
    tree.Append(LeafHash(AsBytes("leaf " + std::to_string(n - 1))));
  }
  std::vector<Hash> roots = {EmptyRoot()};
  for (std::uint64_t n = 1; n <= 64; ++n) roots.push_back(reference::Mth(tree.leaves(), 0, n));
  for (std::uint64_t n = 1; n <= 64; ++n) {
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(m, n, tree.Reader());
      ASSERT_TRUE(proof.ok());
      std::vector<Hash> expected =
          m == n ? std::vector<Hash>{} : reference::SubProof(tree.leaves(), m, 0, n, true);
      ASSERT_EQ(*proof, expected) << m << "->" << n;
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof).ok()) << m << "->" << n;
      if (m == n) continue;
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m - 1], roots[n], *proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n - 1], *proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, roots[n], roots[m], *proof).ok());
      if (m > 1) {
        EXPECT_FALSE(VerifyConsistency(m - 1, n, roots[m], roots[n], *proof).ok());
      }
      EXPECT_FALSE(VerifyConsistency(m, n * 2, roots[m], roots[n], *proof).ok());
      if (n / 2 >= m) {
        EXPECT_FALSE(VerifyConsistency(m, n / 2, roots[m], roots[n], *proof).ok());
      }
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], {}).ok());
      std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], shorter).ok()) << m << "->" << n;
      std::vector<Hash> longer = *proof;
      longer.push_back(roots[n]);
      EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], longer).ok()) << m << "->" << n;
      for (std::size_t k = 0; k < proof->size(); ++k) {
        std::vector<Hash> flipped = *proof;
        flipped[k][0] ^= 0x10;
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], flipped).ok())
            << m << "->" << n << " k=" << k;
      }
    }
  }
}

TEST(MerkleTest, TrivialConsistencyCases) {
  Hash a = LeafHash(AsBytes("a"));
  Hash b = LeafHash(AsBytes("b"));
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyRoot(), a, {}).ok());
  EXPECT_FALSE(VerifyConsistency(0, 5, EmptyRoot(), a, {a}).ok());
  EXPECT_TRUE(VerifyConsistency(3, 3, a, a, {}).ok());
  EXPECT_FALSE(VerifyConsistency(3, 3, a, b, {}).ok());
  EXPECT_FALSE(VerifyConsistency(3, 3, a, a, {a}).ok());
  EXPECT_FALSE(VerifyConsistency(4, 3, a, a, {}).ok());
  EXPECT_FALSE(VerifyInclusion(0, 0, a, {}, a).ok());
}

TEST(MerkleTest, CompactRangeLoadsFromStoredNodes) {
  MemoryTree tree;
  for (int n = 1; n <= 100; ++n) {
    tree.Append(LeafHash(AsBytes(std::to_string(n))));
    auto loaded = CompactRange::Load(tree.range().size(), tree.Reader());
    ASSERT_TRUE(loaded.ok());
    ASSERT_EQ(loaded->Root(), tree.range().Root());
    ASSERT_EQ(loaded->nodes().size(), static_cast<std::size_t>(std::popcount(unsigned(n))));
  }
}

// Proofs read O(log n) stored nodes, never the whole tree: counted with a
// reader that serves any node of a (virtual) million-leaf tree.
TEST(MerkleTest, ProofsReadLogarithmicallyManyNodes) {
  int reads = 0;
  NodeReader counting = [&reads](int level, std::uint64_t index) -> Result<Hash> {
    ++reads;
    return LeafHash(AsBytes(std::to_string(level) + "/" + std::to_string(index)));
  };
  const std::uint64_t n = 1000000;  // log2 = 19.9
  for (std::uint64_t i : {0ULL, 1ULL, 499999ULL, 999998ULL, 999999ULL}) {
    reads = 0;
    ASSERT_TRUE(InclusionProof(i, n, counting).ok());
    EXPECT_LE(reads, 40) << "leaf " << i;
  }
  for (std::uint64_t m : {1ULL, 524288ULL, 777777ULL, 999999ULL}) {
    reads = 0;
    ASSERT_TRUE(ConsistencyProof(m, n, counting).ok());
    EXPECT_LE(reads, 60) << "old size " << m;
  }
  reads = 0;
  ASSERT_TRUE(RootFromStore(n, counting).ok());
  EXPECT_EQ(reads, std::popcount(n));
}

}  // namespace
}  // namespace attest::ledger
