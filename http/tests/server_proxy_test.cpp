// The server behind a load balancer that speaks the PROXY protocol v2: from
// a trusted proxy the header names the client (Request::client_address and
// its share of the connections); a trusted proxy's connection without a
// valid header, or stalling in it, is closed unanswered; and from anyone
// else a header is never read, so no client can claim another's address.
// Real TLS on 127.0.0.1 port 0; the "balancer" is a raw client that sends
// the header before its handshake.
#include <atomic>
#include <thread>

#include "http_test_fixture.h"
#include "proxy_header_builder.h"

namespace attest::http::test {
namespace {

using std::chrono::milliseconds;

constexpr const char* kBalancer = "127.0.0.3";  // the only trusted proxy
constexpr const char* kStranger = "127.0.0.4";

Response ClientAddressOf(const Request& request) {
  Response response;
  response.content_type = "text/plain";
  response.body = request.client_address;
  return response;
}

class ProxyProtocolServerTest : public HttpTest {
 protected:
  ServerOptions ProxyOptions() const {
    ServerOptions options = Options();
    options.trusted_proxies = {"127.0.0.3/32", "fd00::/8"};
    options.header_timeout = milliseconds(2000);
    options.idle_timeout = milliseconds(2000);
    options.handshake_timeout = milliseconds(400);
    return options;
  }

  RawTlsOptions Via(const Server& server, const char* address, std::string prefix) const {
    RawTlsOptions options = RawFor(server);
    options.source_address = address;
    options.plain_prefix = std::move(prefix);
    return options;
  }

  // The client address the server's handler saw for one GET, or the
  // client's error.
  static std::string AddressSeen(RawTlsClient& client) {
    if (!client.Write("GET /who HTTP/1.1\r\nHost: x\r\n\r\n")) return "write failed";
    std::optional<RawResponse> response = client.ReadResponse();
    if (!response || response->status != 200) return "no 200";
    return response->body;
  }
};

TEST_F(ProxyProtocolServerTest, TheHeaderFromATrustedProxyNamesTheClient) {
  auto server = StartServer(ProxyOptions(), ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsClient v4, v6;
  ASSERT_TRUE(v4.Connect(Via(*server, kBalancer, ProxyHeaderFrom("203.0.113.7")))) << v4.error();
  EXPECT_EQ(AddressSeen(v4), "203.0.113.7");
  EXPECT_EQ(AddressSeen(v4), "203.0.113.7");    // every request of the connection
  const std::string tlvs("\x04\x00\x02xx", 5);  // PP2_TYPE_NOOP
  ASSERT_TRUE(v6.Connect(Via(*server, kBalancer, ProxyHeaderFrom("2001:db8::17", tlvs))))
      << v6.error();
  EXPECT_EQ(AddressSeen(v6), "2001:db8::17");
}

// The header and the ClientHello in one segment: the server reads exactly
// the header's bytes and leaves the rest to TLS.
TEST_F(ProxyProtocolServerTest, AHeaderArrivingWithTheClientHelloIsSplitExactly) {
  auto server = StartServer(ProxyOptions(), ClientAddressOf);
  ASSERT_TRUE(server);
  const std::string tlvs("\x04\x00\x05noop!", 8);  // a length the fixed part must be read for
  for (const std::string& header : {ProxyHeaderFrom("203.0.113.7", tlvs), ProxyLocal()}) {
    RawTlsOptions options = Via(*server, kBalancer, header);
    options.prefix_with_client_hello = true;
    RawTlsClient client;
    ASSERT_TRUE(client.Connect(options)) << client.error();
    EXPECT_EQ(AddressSeen(client), header.size() > 16 ? "203.0.113.7" : kBalancer);
  }
}

TEST_F(ProxyProtocolServerTest, LocalFromTheBalancerIsTheBalancersOwnConnection) {
  auto server = StartServer(ProxyOptions(), ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsClient check;
  ASSERT_TRUE(check.Connect(Via(*server, kBalancer, ProxyLocal()))) << check.error();
  EXPECT_EQ(AddressSeen(check), kBalancer);
}

// Anyone but a trusted proxy is never read for a header: sending one only
// breaks its own handshake, and a plain client is served as itself.
TEST_F(ProxyProtocolServerTest, OthersCannotClaimAnAddress) {
  auto server = StartServer(ProxyOptions(), ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsClient spoofing, plain;
  EXPECT_FALSE(spoofing.Connect(Via(*server, kStranger, ProxyHeaderFrom("203.0.113.7"))))
      << "a header from an untrusted address was taken";
  ASSERT_TRUE(plain.Connect(Via(*server, kStranger, ""))) << plain.error();
  EXPECT_EQ(AddressSeen(plain), kStranger);
}

// Root on a node behind the balancer: its own first bytes are a PROXY
// header naming another client, after the one the balancer prepends. Only
// the first header is read; the node's is TLS garbage, and no request is
// ever served as the address it named.
TEST_F(ProxyProtocolServerTest, ANodeBehindTheBalancerCannotNameAnotherClient) {
  std::atomic<int> served_as_victim{0};
  auto server = StartServer(ProxyOptions(), [&](const Request& request) {
    if (request.client_address == "203.0.113.99") ++served_as_victim;
    return ClientAddressOf(request);
  });
  ASSERT_TRUE(server);
  RawTlsClient node;
  EXPECT_FALSE(node.Connect(
      Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.1") + ProxyHeaderFrom("203.0.113.99"))))
      << "a second header was read as the client";
  EXPECT_TRUE(AllClosed(*server, milliseconds(2000)));
  EXPECT_EQ(served_as_victim.load(), 0);
  RawTlsClient honest;  // the same node, honest, is itself
  ASSERT_TRUE(honest.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.1"))))
      << honest.error();
  EXPECT_EQ(AddressSeen(honest), "198.51.100.1");
}

// A trusted proxy's connection must begin with a valid header: a client
// that reaches the server from the balancer's address some other way is
// closed before any TLS, and so is every malformed header.
TEST_F(ProxyProtocolServerTest, ATrustedProxysConnectionWithoutAValidHeaderIsClosed) {
  // Closed at once, not at the handshake's deadline: a bad header is never
  // handed on to TLS.
  ServerOptions options = ProxyOptions();
  options.handshake_timeout = milliseconds(10'000);
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsClient bare;
  EXPECT_FALSE(bare.Connect(Via(*server, kBalancer, ""))) << "no header, yet a TLS session";
  std::string version1 = ProxyHeaderFrom("203.0.113.7");
  version1[12] = 0x11;
  std::string udp = ProxyHeaderFrom("203.0.113.7");
  udp[13] = 0x12;
  const std::string text = "PROXY TCP4 203.0.113.7 127.0.0.1 50000 8443\r\n";
  for (const std::string& bad :
       {version1, udp, text, ProxyFixed(1, 0x11, 2000), ProxyFixed(1, 0x11, 4) + "abcd"}) {
    RawTlsOptions raw = Via(*server, kBalancer, bad);
    raw.skip_handshake = true;
    RawTlsClient client;
    ASSERT_TRUE(client.Connect(raw)) << client.error();
    EXPECT_TRUE(client.WaitClosed(milliseconds(3000))) << "kept open after a bad header";
  }
  EXPECT_TRUE(AllClosed(*server, milliseconds(2000)));
}

// The header and the TLS handshake share one deadline from the accept, so a
// balancer's connection is held no longer than a direct one.
TEST_F(ProxyProtocolServerTest, TheHandshakeDeadlineCountsFromTheAcceptNotTheHeader) {
  ServerOptions options = ProxyOptions();
  options.handshake_timeout = milliseconds(2000);
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsOptions raw = Via(*server, kBalancer, "");
  raw.skip_handshake = true;
  RawTlsClient slow;
  ASSERT_TRUE(slow.Connect(raw)) << slow.error();
  std::this_thread::sleep_for(milliseconds(1200));
  ASSERT_TRUE(slow.SendPlain(ProxyHeaderFrom("203.0.113.7")));  // and then no ClientHello
  // Closed 2 s after the accept; counted from the header it would be 3.2 s.
  EXPECT_TRUE(slow.WaitClosed(milliseconds(1500)))
      << "held past handshake_timeout counted from the accept";
  EXPECT_TRUE(AllClosed(*server, milliseconds(2000)));
}

// Draining closes a connection that is still reading its header: it has no
// request to finish.
TEST_F(ProxyProtocolServerTest, DrainClosesAConnectionAwaitingItsHeader) {
  ServerOptions options = ProxyOptions();
  options.handshake_timeout = milliseconds(10'000);
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsOptions raw = Via(*server, kBalancer, ProxyHeaderFrom("203.0.113.7").substr(0, 10));
  raw.skip_handshake = true;
  RawTlsClient pending;
  ASSERT_TRUE(pending.Connect(raw)) << pending.error();
  Eventually([&] { return server->open_connections() > 0; }, milliseconds(1000));
  EXPECT_EQ(server->open_connections(), 1u);  // counted while it reads its header
  const auto started = std::chrono::steady_clock::now();
  server->Drain(milliseconds(5000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2000))
      << "Drain waited for a connection that has no request";
  EXPECT_EQ(server->open_connections(), 0u);
  EXPECT_TRUE(pending.WaitClosed(milliseconds(1000)));
}

// A host in a trusted range that connects and sends nothing holds at most
// max_connections_per_address slots awaiting headers, not every slot.
TEST_F(ProxyProtocolServerTest, ConnectionsAwaitingTheirHeaderAreLimitedPerProxy) {
  ServerOptions options = ProxyOptions();
  options.max_connections_per_address = 2;
  options.max_connections = 4;  // awaiting headers per proxy: max(2, 4 / 2)
  options.handshake_timeout = milliseconds(5000);
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsOptions silent = Via(*server, kBalancer, "");
  silent.skip_handshake = true;
  RawTlsClient first, second, third;
  ASSERT_TRUE(first.Connect(silent)) << first.error();
  ASSERT_TRUE(second.Connect(silent)) << second.error();
  Eventually([&] { return server->open_connections() >= 2; }, milliseconds(1000));
  ASSERT_TRUE(third.Connect(silent)) << third.error();
  EXPECT_TRUE(third.WaitClosed(milliseconds(1000))) << "a third silent connection was kept";
  RawTlsClient plain;
  ASSERT_TRUE(plain.Connect(Via(*server, kStranger, ""))) << plain.error();
  EXPECT_EQ(AddressSeen(plain), kStranger);
  // A header gives the proxy's pending share back: the client holds its own.
  ASSERT_TRUE(first.SendPlain(ProxyLocal()));
  RawTlsClient relayed;
  bool connected = false;
  for (int attempt = 0; attempt < 40 && !connected; ++attempt) {
    connected = relayed.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.9")));
    if (!connected) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(connected) << relayed.error();
  EXPECT_EQ(AddressSeen(relayed), "198.51.100.9");
}

TEST_F(ProxyProtocolServerTest, AHeaderThatStallsIsClosedAtTheHandshakeTimeout) {
  auto server = StartServer(ProxyOptions(), ClientAddressOf);  // handshake_timeout 400 ms
  ASSERT_TRUE(server);
  RawTlsOptions options = Via(*server, kBalancer, ProxyHeaderFrom("203.0.113.7").substr(0, 20));
  options.skip_handshake = true;
  RawTlsClient stalled;
  ASSERT_TRUE(stalled.Connect(options)) << stalled.error();
  EXPECT_FALSE(stalled.WaitClosed(milliseconds(100))) << "closed before its deadline";
  EXPECT_TRUE(stalled.WaitClosed(milliseconds(2000))) << "still open past handshake_timeout";
  EXPECT_TRUE(AllClosed(*server, milliseconds(2000)));
}

// The per-address share is the client's, not the balancer's: the balancer
// relays any number of clients, and one client behind it is held to its
// own share.
TEST_F(ProxyProtocolServerTest, TheConnectionShareIsTheNamedClientsNotTheBalancers) {
  ServerOptions options = ProxyOptions();
  options.max_connections_per_address = 1;
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsClient first, second, again;
  ASSERT_TRUE(first.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.1"))))
      << first.error();
  ASSERT_TRUE(second.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.2"))))
      << second.error();
  EXPECT_EQ(AddressSeen(first), "198.51.100.1");
  EXPECT_EQ(AddressSeen(second), "198.51.100.2");
  EXPECT_FALSE(again.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.1"))))
      << "a client past its share through the balancer got a TLS session";
  // Its slot comes back when it leaves.
  first.Close();
  Eventually([&] { return server->open_connections() <= 1; }, milliseconds(1000));
  RawTlsClient later;
  ASSERT_TRUE(later.Connect(Via(*server, kBalancer, ProxyHeaderFrom("198.51.100.1"))))
      << later.error();
  EXPECT_EQ(AddressSeen(later), "198.51.100.1");
}

TEST_F(ProxyProtocolServerTest, AConnectionInItsHeaderHoldsAServerSlot) {
  ServerOptions options = ProxyOptions();
  options.max_connections = 1;
  auto server = StartServer(options, ClientAddressOf);
  ASSERT_TRUE(server);
  RawTlsOptions pending = Via(*server, kBalancer, "");
  pending.skip_handshake = true;
  RawTlsClient waiting;
  ASSERT_TRUE(waiting.Connect(pending)) << waiting.error();
  Eventually([&] { return server->open_connections() > 0; }, milliseconds(2000));  // in its header
  ASSERT_EQ(server->open_connections(), 1u);
  RawTlsClient refused;
  EXPECT_FALSE(refused.Connect(Via(*server, kStranger, "")))
      << "served past max_connections while a header was pending";
  EXPECT_TRUE(waiting.WaitClosed(milliseconds(2000)));  // its handshake_timeout
  EXPECT_TRUE(AllClosed(*server, milliseconds(2000)));
  RawTlsClient now;
  ASSERT_TRUE(now.Connect(Via(*server, kStranger, ""))) << now.error();
  EXPECT_EQ(AddressSeen(now), kStranger);
}

TEST_F(ProxyProtocolServerTest, AnUnreadableTrustedProxyStopsTheStart) {
  ServerOptions options = ProxyOptions();
  options.trusted_proxies = {"10.0.0.0/24", "balancer.example"};
  auto server = Server::Start(options, ClientAddressOf);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(server.error().message.find("trusted proxy"), std::string::npos)
      << server.error().message;
  EXPECT_NE(server.error().message.find("\"balancer.example\""), std::string::npos)
      << server.error().message;
}

}  // namespace
}  // namespace attest::http::test
