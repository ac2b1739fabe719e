#include "attest/byte_reader.h"

#include <gtest/gtest.h>

namespace attest {
namespace {

TEST(ByteReaderTest, ReadsBothByteOrdersAndTracksAbsoluteOffsets) {
  const Bytes data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  ByteReader reader(data, 100);
  EXPECT_EQ(reader.ReadU16Le(), 0x0201);
  EXPECT_EQ(reader.ReadU16Be(), 0x0304);
  EXPECT_EQ(reader.offset(), 104u);
  EXPECT_EQ(reader.ReadU32Le(), 0x08070605u);
  EXPECT_EQ(reader.remaining(), 1u);
  EXPECT_EQ(reader.ReadU8(), 0x09);
  EXPECT_TRUE(reader.empty());
}

TEST(ByteReaderTest, ShortReadFailsWithoutMovingTheCursor) {
  const Bytes data = {0xaa, 0xbb, 0xcc};
  ByteReader reader(data);
  ASSERT_TRUE(reader.ReadU8());
  EXPECT_FALSE(reader.ReadU32Le());
  EXPECT_FALSE(reader.ReadBytes(3));
  EXPECT_FALSE(reader.Skip(5));
  EXPECT_EQ(reader.offset(), 1u);
  EXPECT_EQ(reader.ReadU16Be(), 0xbbcc);
}

TEST(ByteReaderTest, SubReaderKeepsOffsetsAndCannotReadPastItsEnd) {
  const Bytes data = {0, 1, 2, 3, 4, 5};
  ByteReader reader(data, 10);
  ASSERT_TRUE(reader.Skip(1));
  std::optional<ByteReader> sub = reader.ReadSubReader(2);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->offset(), 11u);
  EXPECT_EQ(sub->ReadU16Be(), 0x0102);
  EXPECT_FALSE(sub->ReadU8());
  EXPECT_EQ(reader.offset(), 13u);
  EXPECT_FALSE(reader.ReadSubReader(4));
}

TEST(ByteReaderTest, HugeLengthIsRejectedNotWrapped) {
  const Bytes data = {1, 2, 3};
  ByteReader reader(data);
  EXPECT_FALSE(reader.ReadBytes(SIZE_MAX));
  EXPECT_FALSE(reader.ReadSubReader(SIZE_MAX - 1));
  EXPECT_EQ(reader.remaining(), 3u);
}

}  // namespace
}  // namespace attest
