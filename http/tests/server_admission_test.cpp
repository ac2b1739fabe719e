// What the server refuses before a handler runs: a client address past its
// share of the connections (refused before TLS, the slot given back on every
// way a connection ends), a body past its route's limit, and a path with an
// escaped '/'.
#include <atomic>
#include <thread>

#include "http_test_fixture.h"

namespace attest::http::test {
namespace {

using std::chrono::milliseconds;

constexpr const char* kFirstAddress = "127.0.0.1";
constexpr const char* kSecondAddress = "127.0.0.2";

class AdmissionTest : public HttpTest {
 protected:
  RawTlsOptions From(const Server& server, const char* address) const {
    RawTlsOptions options = RawFor(server);
    options.source_address = address;
    return options;
  }

  // One full exchange from `address`: connect, GET, 200.
  ::testing::AssertionResult Served(const Server& server, const char* address) const {
    RawTlsClient client;
    if (!client.Connect(From(server, address))) {
      return ::testing::AssertionFailure() << address << " refused: " << client.error();
    }
    if (!client.Write("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")) {
      return ::testing::AssertionFailure() << address << ": write failed";
    }
    auto response = client.ReadResponse();
    if (!response || response->status != 200) {
      return ::testing::AssertionFailure() << address << ": no 200";
    }
    return ::testing::AssertionSuccess();
  }
};

TEST_F(AdmissionTest, AnAddressAtItsCapIsRefusedWhileAnotherIsServed) {
  ServerOptions options = Options();
  options.max_connections_per_address = 2;
  options.header_timeout = milliseconds(5000);
  options.idle_timeout = milliseconds(5000);
  auto server = StartServer(options, Echo);
  ASSERT_TRUE(server);
  RawTlsClient first, second, third;
  ASSERT_TRUE(first.Connect(From(*server, kFirstAddress))) << first.error();
  ASSERT_TRUE(second.Connect(From(*server, kFirstAddress))) << second.error();
  EXPECT_FALSE(third.Connect(From(*server, kFirstAddress)))
      << "a third connection from one address got a TLS session";
  EXPECT_EQ(server->open_connections(), 2u);
  EXPECT_TRUE(Served(*server, kSecondAddress));
  // The two admitted still work; one leaving makes room for its address.
  ASSERT_TRUE(first.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(first.ReadResponse());
  second.Close();
  for (int i = 0; i < 100 && server->open_connections() > 1; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(Served(*server, kFirstAddress));
}

// With a cap of one, every way a connection can end must give its slot
// back, or the address would be locked out after it.
TEST_F(AdmissionTest, EveryWayAConnectionEndsGivesItsSlotBack) {
  ServerOptions options = Options();  // idle 300 ms, body limit 1024
  options.max_connections_per_address = 1;
  auto server = StartServer(options, Echo);
  ASSERT_TRUE(server);

  {  // the handshake fails (TLS 1.1)
    RawTlsClient old;
    RawTlsOptions raw = From(*server, kFirstAddress);
    raw.version = TLS1_1_VERSION;
    EXPECT_FALSE(old.Connect(raw));
  }
  ASSERT_TRUE(AllClosed(*server));
  EXPECT_TRUE(Served(*server, kFirstAddress)) << "after a failed handshake";
  ASSERT_TRUE(AllClosed(*server));  // Served's own connection too: the cap is one

  {  // idle past idle_timeout after a response
    RawTlsClient idle;
    ASSERT_TRUE(idle.Connect(From(*server, kFirstAddress)));
    ASSERT_TRUE(idle.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(idle.ReadResponse());
    EXPECT_TRUE(idle.WaitClosed(milliseconds(2000)));
  }
  ASSERT_TRUE(AllClosed(*server));
  EXPECT_TRUE(Served(*server, kFirstAddress)) << "after an idle timeout";
  ASSERT_TRUE(AllClosed(*server));  // Served's own connection too: the cap is one

  {  // an error response (413) closes the connection
    RawTlsClient big;
    ASSERT_TRUE(big.Connect(From(*server, kFirstAddress)));
    ASSERT_TRUE(big.Write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
    auto response = big.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
  }
  ASSERT_TRUE(AllClosed(*server));
  EXPECT_TRUE(Served(*server, kFirstAddress)) << "after a 413";
  ASSERT_TRUE(AllClosed(*server));  // Served's own connection too: the cap is one

  {  // the client vanishes mid-body
    RawTlsClient vanishing;
    ASSERT_TRUE(vanishing.Connect(From(*server, kFirstAddress)));
    ASSERT_TRUE(vanishing.Write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"));
  }
  ASSERT_TRUE(AllClosed(*server));
  EXPECT_TRUE(Served(*server, kFirstAddress)) << "after a client vanished mid-body";
  ASSERT_TRUE(AllClosed(*server));  // Served's own connection too: the cap is one

  {  // "Connection: close" after the response
    RawTlsClient once;
    ASSERT_TRUE(once.Connect(From(*server, kFirstAddress)));
    ASSERT_TRUE(once.Write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    ASSERT_TRUE(once.ReadResponse());
    EXPECT_TRUE(once.WaitClosed(milliseconds(2000)));
  }
  ASSERT_TRUE(AllClosed(*server));
  EXPECT_TRUE(Served(*server, kFirstAddress)) << "after Connection: close";
}

TEST_F(AdmissionTest, TheServerRefusesAZeroPerAddressCap) {
  ServerOptions options = Options();
  options.max_connections_per_address = 0;
  auto server = Server::Start(options, Echo);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument);
}

// The route table's limit applies before the body is read: a large body
// to a small route is 413 from its Content-Length (or its chunks), the
// same size to the large route is served.
TEST_F(AdmissionTest, EachRouteGetsItsOwnBodyLimit) {
  ServerOptions options = Options();
  options.max_body_bytes = 8192;
  std::atomic<int> asked{0};
  options.body_limit = [&asked](std::string_view method, std::string_view path) {
    ++asked;
    return method == "POST" && path == "/large" ? std::size_t{8192} : std::size_t{100};
  };
  std::atomic<int> calls{0};
  auto server = StartServer(options, [&calls](const attest::http::Request& request) {
    ++calls;
    return Echo(request);
  });
  ASSERT_TRUE(server);
  const std::string body(4000, 'x');
  struct Case {
    std::string head;
    std::string body;
    int status;
  };
  const std::string chunked = "Transfer-Encoding: chunked\r\n\r\n";
  const std::string chunks = "fa0\r\n" + body + "\r\n0\r\n\r\n";
  for (const Case& c : {
           Case{"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n", "", 413},
           Case{"POST /small HTTP/1.1\r\nHost: x\r\n" + chunked, chunks, 413},
           Case{"POST /large HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n", body, 200},
           Case{"POST /large HTTP/1.1\r\nHost: x\r\n" + chunked, chunks, 200},
           Case{"PUT /large HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n", "", 413},
           Case{"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
                std::string(100, 'y'), 200},
       }) {
    RawTlsClient client;
    ASSERT_TRUE(client.Connect(RawFor(*server)));
    ASSERT_TRUE(client.Write(c.head));
    if (!c.body.empty()) (void)client.Write(c.body);  // a 413 may have closed it
    auto response = client.ReadResponse();
    ASSERT_TRUE(response) << c.head;
    EXPECT_EQ(response->status, c.status) << c.head;
  }
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(asked, 6);
}

TEST_F(AdmissionTest, AnEscapedSlashInThePathIs400BeforeTheHandler) {
  std::atomic<int> calls{0};
  auto server = StartServer(Options(), [&calls](const attest::http::Request& request) {
    ++calls;
    return Echo(request);
  });
  ASSERT_TRUE(server);
  for (const char* target : {"/v1%2Ftokens", "/v1%2ftokens", "/v1/nodes/a%2F..%2Fb"}) {
    RawTlsClient client;
    ASSERT_TRUE(client.Connect(RawFor(*server)));
    ASSERT_TRUE(client.Write(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response) << target;
    EXPECT_EQ(response->status, 400) << target;
  }
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace attest::http::test
