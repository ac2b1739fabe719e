// Every read checks what it gets from the file: a row a disk, an editor or
// another program changed is kCorrupt naming its table and column, never a
// crash or a half-read record.
#include <functional>

#include "attest/ledger/kinds.h"

#include "tests/store/store_test_util.h"

namespace attest::service::test {
namespace {

struct Tamper {
  const char* name;
  const char* sql;     // run on a store holding one of everything
  const char* column;  // "table T, column C" the error must name
  std::function<Status(ServiceStore&)> read;
};

// gtest prints parameters; the name is what identifies one.
void PrintTo(const Tamper& tamper, std::ostream* out) { *out << tamper.name; }

template <typename T>
Status AsStatus(const Result<T>& result) {
  return result.ok() ? OkStatus() : Status(result.error());
}

Status ReadNode(ServiceStore& store) { return AsStatus(store.GetNode(NodeId(1))); }
Status ListNodes(ServiceStore& store) { return AsStatus(store.ListNodes(std::nullopt, "", 10)); }
Status ReadEnrollment(ServiceStore& store) {
  return AsStatus(store.GetEnrollment(MakeEnrollment(1).enrollment_id));
}
Status ReadCertificates(ServiceStore& store) { return AsStatus(store.CertificatesOf(NodeId(1))); }
Status ReadCrl(ServiceStore& store) { return AsStatus(store.RevokedCertificates(At(0))); }
Status ReadToken(ServiceStore& store) {
  return AsStatus(store.GetToken(MakeTokenRecord(1).token_id));
}
Status ReadPolicy(ServiceStore& store) { return AsStatus(store.CurrentPolicy()); }
Status ReadOutbox(ServiceStore& store) { return AsStatus(store.PendingLedgerEvents(10)); }
Status CountStates(ServiceStore& store) { return AsStatus(store.CountNodesByState()); }

class CorruptRowTest : public StoreTest, public ::testing::WithParamInterface<Tamper> {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    const TimePoint now = At(1'790'000'000);
    CertificateRecord certificate =
        MakeCertificate(NodeId(1), "01", now, now + std::chrono::hours(1));
    certificate.revoked_at = now;
    MustCommit(StoreChange{.node = MakeNode(1),
                           .enrollment = MakeEnrollment(1),
                           .new_certificates = {certificate},
                           .token = MakeTokenRecord(1),
                           .policy = MakePolicy(1),
                           .events = {MakeEvent(ledger::kinds::kNodeEnrolled, 1)}});
  }
};

TEST_P(CorruptRowTest, IsCorruptNamingTableAndColumn) {
  const Tamper& tamper = GetParam();
  ExecuteSql(path_, tamper.sql);
  Status read = tamper.read(*store_);
  ASSERT_FALSE(read.ok()) << tamper.sql;
  EXPECT_EQ(read.error().code, ErrorCode::kCorrupt) << read.error().ToString();
  EXPECT_NE(read.error().message.find(tamper.column), std::string::npos) << read.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    EveryTable, CorruptRowTest,
    ::testing::Values(
        Tamper{"NodeState", "UPDATE nodes SET state = 'bogus'", "table nodes, column state",
               ReadNode},
        Tamper{"NodeStateInCounts", "UPDATE nodes SET state = 'bogus'", "table nodes, column state",
               CountStates},
        Tamper{"NodeId", "UPDATE nodes SET node_id = 'XYZ'", "table nodes, column node_id",
               ListNodes},
        Tamper{"NodeEkPublicEmpty", "UPDATE nodes SET ek_public = x''",
               "table nodes, column ek_public", ReadNode},
        Tamper{"NodeEkCertificateHuge", "UPDATE nodes SET ek_certificate = zeroblob(100000)",
               "table nodes, column ek_certificate", ReadNode},
        Tamper{"NodeTimeNegative", "UPDATE nodes SET enrolled_at = -1",
               "table nodes, column enrolled_at", ReadNode},
        Tamper{"NodeTimeBeyondTimePoint", "UPDATE nodes SET last_attestation = 9223372036854775807",
               "table nodes, column last_attestation", ReadNode},
        Tamper{"NodeResetCountOverflow", "UPDATE nodes SET last_reset_count = 4294967296",
               "table nodes, column last_reset_count", ReadNode},
        Tamper{"NodeBootCachePartial", "UPDATE nodes SET boot_log_digest = NULL",
               "table nodes, column boot_reset_count", ReadNode},
        Tamper{"NodeBootDigestShort", "UPDATE nodes SET boot_log_digest = x'0102'",
               "table nodes, column boot_log_digest", ReadNode},
        Tamper{"NodeRuntimeCachePartial", "UPDATE nodes SET runtime_state = NULL",
               "table nodes, column runtime_reset_count", ReadNode},
        Tamper{"NodeRuntimeEntriesNegative", "UPDATE nodes SET runtime_entries = -1",
               "table nodes, column runtime_entries", ReadNode},
        Tamper{"NodeVersionZero", "UPDATE nodes SET version = 0", "table nodes, column version",
               ReadNode},
        Tamper{"EnrollmentState", "UPDATE enrollments SET state = 'done'",
               "table enrollments, column state", ReadEnrollment},
        Tamper{"EnrollmentDigest", "UPDATE enrollments SET secret_digest = x'00'",
               "table enrollments, column secret_digest", ReadEnrollment},
        Tamper{"EnrollmentAttempts", "UPDATE enrollments SET failed_attempts = -3",
               "table enrollments, column failed_attempts", ReadEnrollment},
        Tamper{"CertificateSerial", "UPDATE certificates SET serial_hex = 'zz'",
               "table certificates, column serial_hex", ReadCertificates},
        Tamper{"CertificatePemEmpty", "UPDATE certificates SET certificate_pem = ''",
               "table certificates, column certificate_pem", ReadCrl},
        Tamper{"CertificateRevokedAt", "UPDATE certificates SET revoked_at = -5",
               "table certificates, column revoked_at", ReadCrl},
        Tamper{"TokenRole", "UPDATE tokens SET role = 'root'", "table tokens, column role",
               ReadToken},
        Tamper{"TokenId", "UPDATE tokens SET token_id = 'short'", "table tokens, column token_id",
               [](ServiceStore& store) { return AsStatus(store.ListTokens()); }},
        Tamper{"PolicySerial", "UPDATE policies SET serial = -2", "table policies, column serial",
               ReadPolicy},
        Tamper{"OutboxPayloadNotJson", "UPDATE ledger_outbox SET payload = '{\"a\":'",
               "table ledger_outbox, column payload", ReadOutbox},
        Tamper{"OutboxPayloadNotObject", "UPDATE ledger_outbox SET payload = '[1]'",
               "table ledger_outbox, column payload", ReadOutbox},
        Tamper{"OutboxKind", "UPDATE ledger_outbox SET kind = 'node.exploded'",
               "table ledger_outbox, column kind", ReadOutbox}),
    [](const ::testing::TestParamInfo<Tamper>& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace attest::service::test
