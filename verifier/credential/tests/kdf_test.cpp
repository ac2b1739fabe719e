// KDFa and KDFe against vectors from an independent implementation: each
// expected value was computed once, outside this code base, with Python's
// hmac/hashlib and the spec's formulas (TPM 2.0 Part 1 §11.4.10):
//
//   def kdfa(h, key, label, cu, cv, bits):   # SP 800-108 counter mode
//       out = b''; i = 1
//       while len(out) * 8 < bits:
//           out += hmac.new(key, struct.pack('>I', i) + label.encode() + b'\0'
//                           + cu + cv + struct.pack('>I', bits), h).digest(); i += 1
//       return out[:bits // 8]
//   def kdfe(h, z, use, pu, pv, bits):       # SP 800-56A concatenation KDF
//       out = b''; i = 1
//       while len(out) * 8 < bits:
//           out += h(struct.pack('>I', i) + z + use.encode() + b'\0' + pu + pv).digest(); i += 1
//       return out[:bits // 8]
#include "kdf.h"

#include <gtest/gtest.h>

#include "attest/encoding.h"

namespace attest::verifier::internal {
namespace {

Bytes Counting(std::size_t size) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i);
  return bytes;
}

// An AK-like name: TPM_ALG_SHA256 || 32 bytes of 0xaa.
Bytes KdfSampleName() {
  Bytes name(34, 0xaa);
  name[1] = 0x0b;
  name[0] = 0x00;
  return name;
}

tpm::HashAlgorithm Hash(std::uint16_t id) { return *tpm::HashAlgorithmById(id); }

std::string KdfaHex(std::uint16_t hash, ByteView key, std::string_view label, ByteView u,
                    ByteView v, std::size_t bytes) {
  Bytes out(bytes);
  Status status = KDFa(Hash(hash), key, label, u, v, out);
  EXPECT_TRUE(status.ok()) << status.error().ToString();
  return HexEncode(out);
}

TEST(KdfaTest, StorageKeyOfOneBlock) {
  // kdfa(sha256, bytes(range(32)), "STORAGE", name, b'', 128)
  EXPECT_EQ(KdfaHex(0x000b, Counting(32), "STORAGE", KdfSampleName(), {}, 16),
            "0415b32b6f43896a87e7b29be8f2ac14");
}

TEST(KdfaTest, OutputOfTwoBlocksIsTruncated) {
  // kdfa(sha256, bytes(range(32)), "INTEGRITY", b'', b'', 384)
  EXPECT_EQ(KdfaHex(0x000b, Counting(32), "INTEGRITY", {}, {}, 48),
            "062b7f39dfd0e1c6b000f9a037b29cf44a3cbbd2316607e04f9761a91fad5a53"
            "da3f0f498aaf86d674a9bfb727aaf060");
}

TEST(KdfaTest, Sha384WithBothContexts) {
  // kdfa(sha384, bytes(range(48)), "STORAGE", name, b'\x01\x02', 256)
  const Bytes context_v = {0x01, 0x02};
  EXPECT_EQ(KdfaHex(0x000c, Counting(48), "STORAGE", KdfSampleName(), context_v, 32),
            "aee85fbdeac1a61d9ee30dfe3beda5c352b49f6e3f82614d035a7fa537a17b08");
}

TEST(KdfeTest, SeedFromEcdh) {
  // kdfe(sha256, b'\x11' * 32, "IDENTITY", b'\x22' * 32, b'\x33' * 32, 256 and 384)
  const Bytes z(32, 0x11);
  const Bytes party_u(32, 0x22);
  const Bytes party_v(32, 0x33);
  Bytes one_block(32);
  Bytes two_blocks(48);
  ASSERT_TRUE(KDFe(Hash(0x000b), z, "IDENTITY", party_u, party_v, one_block).ok());
  ASSERT_TRUE(KDFe(Hash(0x000b), z, "IDENTITY", party_u, party_v, two_blocks).ok());
  EXPECT_EQ(HexEncode(one_block),
            "349308f14b258cab5f67a14bfd8329ea42365fcdca2f9e7e658bc7504d5d0cb3");
  EXPECT_EQ(HexEncode(two_blocks),
            "349308f14b258cab5f67a14bfd8329ea42365fcdca2f9e7e658bc7504d5d0cb3"
            "157a112cc50062b74b12276beacc36b7");
}

TEST(KdfTest, EmptyOutputIsRefused) {
  Bytes empty;
  EXPECT_FALSE(KDFa(Hash(0x000b), Counting(32), "STORAGE", {}, {}, empty).ok());
  EXPECT_FALSE(KDFe(Hash(0x000b), Counting(32), "IDENTITY", {}, {}, empty).ok());
}

}  // namespace
}  // namespace attest::verifier::internal
