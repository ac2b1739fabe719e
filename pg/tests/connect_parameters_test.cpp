// What Connection::Open asks libpq for: verified TLS to a TCP host unless the
// caller allows otherwise, keepalives and timeouts the URL may override, and
// no secret in a URL or an error message. The last tests connect for real:
// to a TCP listener that answers like a server without TLS, and to the
// private cluster.
#include "src/connect_parameters.h"

#include <cstdlib>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attest/pg/pg.h"
#include "attest/pg/test_cluster.h"

namespace attest::pg {
namespace {

class ConnectParametersTest : public ::testing::Test {
 protected:
  // libpq's environment would change what the URL leaves out.
  void SetUp() override {
    for (const char* name : {"PGSSLMODE", "PGHOST", "PGHOSTADDR"}) unsetenv(name);
  }
  void TearDown() override { unsetenv("PGSSLMODE"); }
};

TEST_F(ConnectParametersTest, ATcpHostWithoutSslmodeGetsVerifyFullAndKeepalives) {
  auto parameters = BuildConnectParameters("postgresql://ledger@db.example/attest", {});
  ASSERT_TRUE(parameters.ok()) << parameters.error().ToString();
  EXPECT_TRUE(parameters->tcp);
  EXPECT_EQ(parameters->sslmode, "verify-full");
  EXPECT_EQ(parameters->Get("sslmode"), "verify-full");
  EXPECT_EQ(parameters->Get("keepalives"), "1");
  EXPECT_EQ(parameters->Get("keepalives_idle"), "10");
  EXPECT_EQ(parameters->Get("keepalives_interval"), "5");
  EXPECT_EQ(parameters->Get("keepalives_count"), "3");
  EXPECT_EQ(parameters->Get("tcp_user_timeout"), "30000");
  EXPECT_EQ(parameters->Get("target_session_attrs"), "");
  ASSERT_FALSE(parameters->keywords.empty());
  EXPECT_EQ(parameters->keywords.back().first, "dbname");  // last: the URL wins
}

TEST_F(ConnectParametersTest, TheUrlsOwnSettingsAreNotOverridden) {
  auto parameters = BuildConnectParameters(
      "postgresql://db.example/attest?sslmode=verify-ca&keepalives_idle=60"
      "&target_session_attrs=any&connect_timeout=3",
      {.read_write = true});
  ASSERT_TRUE(parameters.ok()) << parameters.error().ToString();
  EXPECT_EQ(parameters->sslmode, "verify-ca");
  for (const char* keyword :
       {"sslmode", "keepalives_idle", "target_session_attrs", "connect_timeout"}) {
    EXPECT_EQ(parameters->Get(keyword), "") << keyword << " is the URL's to set";
  }
  EXPECT_EQ(parameters->Get("keepalives_count"), "3");
  auto writer = BuildConnectParameters("postgresql://db.example/attest", {.read_write = true});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(writer->Get("target_session_attrs"), "read-write");
}

TEST_F(ConnectParametersTest, UnverifiedTlsToATcpHostIsRefusedUnlessAllowed) {
  for (const std::string url :
       {"postgresql://db.example/attest?sslmode=disable",
        "postgresql://db.example/attest?sslmode=allow",
        "postgresql://db.example/attest?sslmode=prefer",
        "postgresql://db.example/attest?sslmode=require",
        "postgresql:///attest?hostaddr=127.0.0.1&sslmode=require",
        "postgresql:///attest?host=/run/postgresql,db.example&sslmode=prefer"}) {
    auto refused = BuildConnectParameters(url, {});
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(refused.error().message.find("sslmode=verify-full"), std::string::npos);
    EXPECT_NE(refused.error().message.find("allow_insecure_transport"), std::string::npos);
    auto allowed = BuildConnectParameters(url, {.allow_insecure_transport = true});
    EXPECT_TRUE(allowed.ok()) << url;
  }
  setenv("PGSSLMODE", "prefer", 1);
  auto from_environment = BuildConnectParameters("postgresql://db.example/attest", {});
  ASSERT_FALSE(from_environment.ok());
  EXPECT_NE(from_environment.error().message.find("sslmode=prefer"), std::string::npos);
}

TEST_F(ConnectParametersTest, AUnixSocketNeedsNoTls) {
  for (const std::string url : {"postgresql:///attest?host=/run/postgresql&sslmode=disable",
                                "postgresql:///attest?sslmode=disable",
                                "postgresql://%2Frun%2Fpostgresql/attest?sslmode=prefer"}) {
    auto parameters = BuildConnectParameters(url, {});
    ASSERT_TRUE(parameters.ok()) << url << ": " << parameters.error().ToString();
    EXPECT_FALSE(parameters->tcp) << url;
  }
}

TEST_F(ConnectParametersTest, SecretsInTheUrlAreRefusedAndNeverEchoed) {
  for (const std::string url : {"postgresql:///attest?host=/tmp&sslpassword=hunter2",
                                "postgresql://ledger:hunter2@db.example/attest"}) {
    auto refused = BuildConnectParameters(url, {});
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().message.find("hunter2"), std::string::npos);
  }
  // libpq's own message for a malformed URL quotes the bad part, here the
  // password.
  for (const std::string url : {"postgresql://ledger:hunter2%zz@db.example/attest",
                                "postgresql://ledger:hunter2@db.example/attest?x=%zz"}) {
    auto refused = Connection::Open(url);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().message.find("hunter2"), std::string::npos)
        << refused.error().message;
    EXPECT_NE(refused.error().message.find("not a valid PostgreSQL URL"), std::string::npos);
  }
}

// A TCP listener on 127.0.0.1 that answers the client's SSLRequest with 'N'
// (no TLS here), as a server without TLS, or an attacker, would; it records
// whether the client then went on in clear text.
class NoTlsServer {
 public:
  NoTlsServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listener_, 4) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~NoTlsServer() {
    Finish();
    close(listener_);
  }
  // Waits for the one client to be served (or stops waiting for one).
  void Finish() {
    shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  // Bytes the client sent after the refused SSLRequest (a startup message in
  // clear text if it fell back).
  std::size_t clear_text_bytes() const { return clear_text_bytes_; }
  bool saw_ssl_request() const { return saw_ssl_request_; }

 private:
  void Serve() {
    const int client = accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    unsigned char request[8];
    if (recv(client, request, sizeof request, MSG_WAITALL) == 8) {
      // Length 8, then the SSLRequest code 80877103 (0x04d2162f).
      saw_ssl_request_ =
          request[4] == 0x04 && request[5] == 0xd2 && request[6] == 0x16 && request[7] == 0x2f;
      (void)send(client, "N", 1, 0);
      char rest[256];
      ssize_t got = 0;
      while ((got = recv(client, rest, sizeof rest, 0)) > 0) {
        clear_text_bytes_ += static_cast<std::size_t>(got);
      }
    }
    close(client);
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  bool saw_ssl_request_ = false;
  std::size_t clear_text_bytes_ = 0;
};

TEST_F(ConnectParametersTest, AServerWithoutTlsIsRefusedNotFallenBackTo) {
  NoTlsServer server;
  ASSERT_NE(server.port(), 0);
  auto connection = Connection::Open(
      "postgresql://ledger@127.0.0.1:" + std::to_string(server.port()) + "/attest");
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.error().code, ErrorCode::kIo);
  EXPECT_NE(connection.error().message.find("SSL"), std::string::npos)
      << connection.error().message;
  server.Finish();
  EXPECT_TRUE(server.saw_ssl_request());
  EXPECT_EQ(server.clear_text_bytes(), 0u);  // no startup message in clear text
}

}  // namespace
}  // namespace attest::pg
