// PCR selections in their three forms (operator text, TPML_PCR_SELECTION,
// wire bytes) and the quote's pcrDigest, checked against bytes and digests
// written out here from TPM 2.0 Part 2, not produced by the code under test.
#include "attest/tpm/pcr.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "attest/encoding.h"
#include "attest/tpm/algorithms.h"
#include "attest/tpm/marshal.h"

#include "tpm_test_bytes.h"

namespace attest::tpm {
namespace {

using test_bytes::Hex;

Bytes Sha256(const Bytes& data) {
  Bytes digest(32);
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr), 1);
  return digest;
}

Result<TPML_PCR_SELECTION> UnmarshalSelection(ByteView bytes) {
  return Unmarshal<TPML_PCR_SELECTION>(bytes, Tss2_MU_TPML_PCR_SELECTION_Unmarshal,
                                       "TPML_PCR_SELECTION");
}

TEST(PcrSelection, ParsesBanksInTheOrderGivenWithRangesAndSortedIndexes) {
  auto selection = ParsePcrSelection("sha256:7,0-2,2,15+sha1:0+sha384:23+sm3_256:4");
  ASSERT_TRUE(selection.ok()) << selection.error().ToString();
  ASSERT_EQ(selection->banks.size(), 4u);
  EXPECT_EQ(selection->banks[0].hash_algorithm, TPM2_ALG_SHA256);
  EXPECT_EQ(selection->banks[0].indexes, (std::vector<std::uint32_t>{0, 1, 2, 7, 15}));
  EXPECT_EQ(selection->banks[1].hash_algorithm, TPM2_ALG_SHA1);
  EXPECT_EQ(selection->banks[1].indexes, (std::vector<std::uint32_t>{0}));
  EXPECT_EQ(selection->banks[2].hash_algorithm, TPM2_ALG_SHA384);
  EXPECT_EQ(selection->banks[2].indexes, (std::vector<std::uint32_t>{23}));
  EXPECT_EQ(selection->banks[3].hash_algorithm, TPM2_ALG_SM3_256);
  EXPECT_EQ(selection->ToString(), "sha256:0,1,2,7,15+sha1:0+sha384:23+sm3_256:4");
  EXPECT_FALSE(selection->empty());
}

TEST(PcrSelection, TextRoundTripsThroughItsCanonicalForm) {
  for (const char* text : {"sha256:0",
                           "sha1:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
                           "21,22,23",
                           "sha512:23+sha256:0", "sha256:0,7+sha1:7,0"}) {
    auto parsed = ParsePcrSelection(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().ToString();
    auto again = ParsePcrSelection(parsed->ToString());
    ASSERT_TRUE(again.ok()) << parsed->ToString();
    EXPECT_EQ(again->ToString(), parsed->ToString());
  }
  EXPECT_EQ(ParsePcrSelection("sha256:0-23")->ToString(),
            "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23");
}

TEST(PcrSelection, MalformedTextIsRefusedNamingTheInput) {
  const char* const bad[] = {
      "",                   // nothing
      "sha256",             // no colon
      "sha256:",            // no index
      "sha256:24",          // PCR 24 does not exist on a PC Client TPM
      "sha256:4294967296",  // past uint32
      "sha256:-1",          // not a number
      "sha256:+1",          //
      "sha256: 1",          //
      "sha256:1,",          // trailing comma
      "sha256:1,,2",        // empty item
      "sha256:3-1",         // empty range
      "sha256:1-",          // open range
      "sha256:0-24",        // range past the last PCR
      "sha256:0x1",         // hex
      "md5:0",              // unknown bank
      "SHA256:0",           // bank names are lowercase
      "sha256:0+",          // trailing plus
      "+sha256:0",          // leading plus
      "sha256:0+sha256:1",  // a bank twice
  };
  for (const char* text : bad) {
    auto parsed = ParsePcrSelection(text);
    ASSERT_FALSE(parsed.ok()) << "accepted \"" << text << "\" as " << parsed->ToString();
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << text;
    if (std::string_view(text).find(':') != std::string_view::npos &&
        std::string_view(text).rfind("md5", 0) != 0 &&
        std::string_view(text).rfind("SHA", 0) != 0) {
      EXPECT_NE(parsed.error().message.find(text), std::string::npos) << parsed.error().message;
    }
  }
}

// TPML_PCR_SELECTION on the wire (Part 2, 10.9.7 and 10.6.2): count, then
// per bank hash, sizeofSelect and the bitmap, PCR n at bit n % 8 of byte n / 8.
TEST(PcrSelection, MarshalsToThePartTwoLayout) {
  auto selection = ParsePcrSelection("sha256:0,1,2,7,15,23+sha1:8");
  ASSERT_TRUE(selection.ok());
  auto tpm = ToTpmSelection(*selection);
  ASSERT_TRUE(tpm.ok()) << tpm.error().ToString();
  const Bytes wire = Marshal(*tpm, Tss2_MU_TPML_PCR_SELECTION_Marshal);
  EXPECT_EQ(HexEncode(wire),
            "00000002"
            "000b"
            "03"
            "878080"
            "0004"
            "03"
            "000100");
  auto back = UnmarshalSelection(wire);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  auto round_trip = FromTpmSelection(*back);
  ASSERT_TRUE(round_trip.ok()) << round_trip.error().ToString();
  EXPECT_EQ(round_trip->ToString(), selection->ToString());
}

TEST(PcrSelection, FromTheTpmAcceptsAShorterOrLongerBitmap) {
  // A TPM with 16 PCRs answers with sizeofSelect 2; a TSS may send 4.
  auto shorter =
      UnmarshalSelection(Hex("00000001"
                             "000b"
                             "02"
                             "0180"));
  ASSERT_TRUE(shorter.ok()) << shorter.error().ToString();
  EXPECT_EQ(FromTpmSelection(*shorter)->ToString(), "sha256:0,15");
  auto longer =
      UnmarshalSelection(Hex("00000001"
                             "000b"
                             "04"
                             "01008000"));
  ASSERT_TRUE(longer.ok()) << longer.error().ToString();
  EXPECT_EQ(FromTpmSelection(*longer)->ToString(), "sha256:0,23");
  auto none =
      UnmarshalSelection(Hex("00000001"
                             "000b"
                             "03"
                             "000000"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(FromTpmSelection(*none)->empty());
}

TEST(PcrSelection, FromTheTpmRefusesPcrsThatDoNotExist) {
  // Bit 0 of the fourth byte: PCR 24.
  auto selection =
      UnmarshalSelection(Hex("00000001"
                             "000b"
                             "04"
                             "00000001"));
  ASSERT_TRUE(selection.ok()) << selection.error().ToString();
  auto converted = FromTpmSelection(*selection);
  ASSERT_FALSE(converted.ok()) << converted->ToString();
  EXPECT_EQ(converted.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(converted.error().message.find("PCR 24"), std::string::npos)
      << converted.error().message;
}

TEST(PcrSelection, FromTheTpmRefusesImpossibleCountsAndSizes) {
  TPML_PCR_SELECTION too_many{};
  too_many.count = TPM2_NUM_PCR_BANKS + 1;
  auto converted = FromTpmSelection(too_many);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code, ErrorCode::kCorrupt);

  TPML_PCR_SELECTION long_bitmap{};
  long_bitmap.count = 1;
  long_bitmap.pcrSelections[0].hash = TPM2_ALG_SHA256;
  long_bitmap.pcrSelections[0].sizeofSelect = TPM2_PCR_SELECT_MAX + 1;
  converted = FromTpmSelection(long_bitmap);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code, ErrorCode::kCorrupt);

  // The same two on the wire stop at tss2-mu already.
  EXPECT_EQ(UnmarshalSelection(Hex("00000011")).error().code, ErrorCode::kCorrupt);
  EXPECT_EQ(UnmarshalSelection(Hex("00000001"
                                   "000b"
                                   "05"
                                   "0000000000"))
                .error()
                .code,
            ErrorCode::kCorrupt);
}

TEST(PcrSelection, ToTheTpmRefusesWhatATpmCannotTake) {
  PcrSelection seventeen_banks;
  for (int i = 0; i <= TPM2_NUM_PCR_BANKS; ++i) {
    seventeen_banks.banks.push_back({TPM2_ALG_SHA256, {0}});
  }
  auto converted = ToTpmSelection(seventeen_banks);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code, ErrorCode::kInvalidArgument);

  auto pcr_24 = ToTpmSelection(PcrSelection{{{TPM2_ALG_SHA256, {0, 24}}}});
  ASSERT_FALSE(pcr_24.ok());
  EXPECT_EQ(pcr_24.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(pcr_24.error().message.find("PCR 24"), std::string::npos);
}

// One formatter names every algorithm (tpm::AlgorithmName): unknown ones by their id.
TEST(PcrSelection, UnknownBanksFromATpmAreNamedByTheirId) {
  auto selection =
      UnmarshalSelection(Hex("00000001"
                             "0027"
                             "03"
                             "010000"));  // SHA3-256
  ASSERT_TRUE(selection.ok());
  auto converted = FromTpmSelection(*selection);
  ASSERT_TRUE(converted.ok()) << converted.error().ToString();
  EXPECT_EQ(converted->ToString(), "0x0027:0");
}

TEST(PcrResetValue, IsZerosExceptTheDrtmPcrs) {
  for (std::uint32_t pcr = 0; pcr < kPcrCount; ++pcr) {
    const bool drtm = pcr >= 17 && pcr <= 22;
    EXPECT_EQ(PcrResetValue(pcr, 32), Bytes(32, drtm ? 0xff : 0x00)) << "PCR " << pcr;
  }
  EXPECT_EQ(PcrResetValue(0, 20).size(), 20u);
}

// pcrDigest = H(value of each selected PCR, bank by bank in selection order,
// ascending index within a bank), Part 3, TPM2_Quote.
TEST(PcrCompositeDigest, HashesTheSelectedValuesInSelectionOrder) {
  PcrValues values;
  values[TPM2_ALG_SHA256][0] = Bytes(32, 0x01);
  values[TPM2_ALG_SHA256][7] = Bytes(32, 0x07);
  values[TPM2_ALG_SHA256][8] = Bytes(32, 0x08);  // present, not selected
  values[TPM2_ALG_SHA1][4] = Bytes(20, 0x14);
  Bytes expected_input;
  for (const Bytes& part : {Bytes(32, 0x01), Bytes(32, 0x07), Bytes(20, 0x14)}) {
    expected_input.insert(expected_input.end(), part.begin(), part.end());
  }
  auto digest =
      PcrCompositeDigest(*ParsePcrSelection("sha256:7,0+sha1:4"), values, TPM2_ALG_SHA256);
  ASSERT_TRUE(digest.ok()) << digest.error().ToString();
  EXPECT_EQ(*digest, Sha256(expected_input));

  auto swapped =
      PcrCompositeDigest(*ParsePcrSelection("sha1:4+sha256:0,7"), values, TPM2_ALG_SHA256);
  ASSERT_TRUE(swapped.ok());
  EXPECT_NE(*swapped, *digest);

  auto sha384 =
      PcrCompositeDigest(*ParsePcrSelection("sha256:7,0+sha1:4"), values, TPM2_ALG_SHA384);
  ASSERT_TRUE(sha384.ok());
  EXPECT_EQ(sha384->size(), 48u);
}

TEST(PcrCompositeDigest, RefusesMissingWrongSizedOrUnknownInputs) {
  PcrValues values;
  values[TPM2_ALG_SHA256][0] = Bytes(32, 0x01);
  values[TPM2_ALG_SHA256][1] = Bytes(20, 0x01);  // a SHA-1-sized value in the SHA-256 bank
  auto missing = PcrCompositeDigest(*ParsePcrSelection("sha256:0,2"), values, TPM2_ALG_SHA256);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("PCR 2 of bank sha256"), std::string::npos);

  auto no_bank = PcrCompositeDigest(*ParsePcrSelection("sha1:0"), values, TPM2_ALG_SHA256);
  ASSERT_FALSE(no_bank.ok());
  EXPECT_EQ(no_bank.error().code, ErrorCode::kInvalidArgument);

  auto wrong_size = PcrCompositeDigest(*ParsePcrSelection("sha256:1"), values, TPM2_ALG_SHA256);
  ASSERT_FALSE(wrong_size.ok());
  EXPECT_EQ(wrong_size.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(wrong_size.error().message.find("20 bytes"), std::string::npos);

  values[0x0027][0] = Bytes(32, 0x01);
  auto unknown_bank = PcrCompositeDigest(PcrSelection{{{0x0027, {0}}}}, values, TPM2_ALG_SHA256);
  ASSERT_FALSE(unknown_bank.ok());
  EXPECT_EQ(unknown_bank.error().code, ErrorCode::kInvalidArgument);

  auto unknown_digest = PcrCompositeDigest(*ParsePcrSelection("sha256:0"), values, 0x0027);
  ASSERT_FALSE(unknown_digest.ok());
  EXPECT_EQ(unknown_digest.error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace attest::tpm
