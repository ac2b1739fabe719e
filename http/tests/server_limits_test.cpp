// The server under clients that misbehave: oversized bodies and headers,
// slowloris, idle and vanishing clients, too many connections, many at
// once, and a drain with a request in flight.
#include <latch>
#include <thread>

#include "http_test_fixture.h"

namespace attest::http::test {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string RawRequest(std::string_view headers_and_body) {
  return std::string("POST /upload HTTP/1.1\r\nHost: x\r\n") + std::string(headers_and_body);
}

class CountingHandler {
 public:
  Handler handler() {
    return [this](const attest::http::Request& request) {
      ++calls_;
      return Echo(request);
    };
  }
  int calls() const { return calls_; }

 private:
  std::atomic<int> calls_{0};
};

TEST_F(HttpTest, ContentLengthOverTheLimitIs413BeforeTheBodyIsRead) {
  CountingHandler counting;
  auto server = StartServer(Options(), counting.handler());  // 1024-byte limit
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server)));
  // Only the header: the answer must not wait for a body.
  ASSERT_TRUE(raw.Write(RawRequest("Content-Length: 1025\r\n\r\n")));
  auto response = raw.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_NE(response->body.find("BODY_TOO_LARGE"), std::string::npos);
  EXPECT_EQ(counting.calls(), 0);

  RawTlsClient at_limit;  // exactly the limit is fine
  ASSERT_TRUE(at_limit.Connect(RawFor(*server)));
  ASSERT_TRUE(at_limit.Write(RawRequest("Content-Length: 1024\r\n\r\n") + std::string(1024, 'b')));
  auto ok = at_limit.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

std::string Chunk(std::size_t size) {
  char head[32];
  std::snprintf(head, sizeof(head), "%zx\r\n", size);
  return head + std::string(size, 'c') + "\r\n";
}

TEST_F(HttpTest, ChunkedBodyOverTheLimitIs413AsItArrives) {
  CountingHandler counting;
  auto server = StartServer(Options(), counting.handler());
  ASSERT_TRUE(server);
  RawTlsClient within;
  ASSERT_TRUE(within.Connect(RawFor(*server)));
  ASSERT_TRUE(within.Write(RawRequest("Transfer-Encoding: chunked\r\n\r\n") + Chunk(600) +
                           Chunk(424) + "0\r\n\r\n"));
  auto ok = within.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(counting.calls(), 1);

  // 600 + 600 bytes, and no final chunk: the server must answer without
  // waiting for the end of a body it will never take.
  RawTlsClient over;
  ASSERT_TRUE(over.Connect(RawFor(*server)));
  ASSERT_TRUE(
      over.Write(RawRequest("Transfer-Encoding: chunked\r\n\r\n") + Chunk(600) + Chunk(600)));
  auto response = over.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(counting.calls(), 1);
}

TEST_F(HttpTest, HeaderOverTheLimitIs431) {
  CountingHandler counting;
  auto server = StartServer(Options(), counting.handler());  // 2048-byte header limit
  ASSERT_TRUE(server);
  RawTlsClient small;
  ASSERT_TRUE(small.Connect(RawFor(*server)));
  ASSERT_TRUE(small.Write(RawRequest("X-Pad: " + std::string(1500, 'p') + "\r\n\r\n")));
  auto ok = small.ReadResponse();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  RawTlsClient big;
  ASSERT_TRUE(big.Connect(RawFor(*server)));
  ASSERT_TRUE(big.Write(RawRequest("X-Pad: " + std::string(2100, 'p') + "\r\n\r\n")));
  auto response = big.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(counting.calls(), 1);
}

TEST_F(HttpTest, SlowlorisIsCutAtHeaderTimeoutWhileOthersAreServed) {
  auto server = StartServer(Options(), Echo);  // header_timeout 300 ms
  ASSERT_TRUE(server);
  RawTlsClient slow;
  ASSERT_TRUE(slow.Connect(RawFor(*server)));
  auto start = Clock::now();
  std::thread trickler([&] {
    std::string request = RawRequest("X-Slow: " + std::string(200, 's') + "\r\n\r\n");
    for (char byte : request) {
      if (!slow.Write(std::string_view(&byte, 1))) return;
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  // Meanwhile another client is served, promptly.
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok());
  auto served_at = Clock::now();
  auto response = (*client)->Get("/meanwhile");
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(Clock::now() - served_at, milliseconds(250));
  trickler.join();  // ends when a write fails: the server cut it
  auto cut_after = Clock::now() - start;
  // The whole request would take ~4.6 s at this pace; the cut comes at
  // the header deadline (plus the write that notices it).
  EXPECT_GE(cut_after, milliseconds(280));
  EXPECT_LT(cut_after, milliseconds(1500));
  EXPECT_TRUE(slow.WaitClosed(milliseconds(100)));
  EXPECT_FALSE(slow.ReadResponse().has_value());
}

TEST_F(HttpTest, IdleKeptAliveConnectionIsClosedAtIdleTimeout) {
  auto server = StartServer(Options(), Echo);  // idle_timeout 300 ms
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server)));
  ASSERT_TRUE(raw.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(raw.ReadResponse());
  auto start = Clock::now();
  EXPECT_FALSE(raw.WaitClosed(milliseconds(150))) << "closed before the idle timeout";
  EXPECT_TRUE(raw.WaitClosed(milliseconds(1000))) << "still open well after the idle timeout";
  auto closed_after = Clock::now() - start;
  EXPECT_GE(closed_after, milliseconds(250));
  EXPECT_LT(closed_after, milliseconds(1000));

  // The client reconnects by itself after such a close.
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Get("/").ok());
  std::this_thread::sleep_for(milliseconds(500));
  auto again = (*client)->Get("/again");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->status, 200);
}

TEST_F(HttpTest, ClientVanishingMidBodyDoesNotHurtTheServer) {
  CountingHandler counting;
  auto server = StartServer(Options(), counting.handler());
  ASSERT_TRUE(server);
  for (int i = 0; i < 5; ++i) {
    RawTlsClient raw;
    ASSERT_TRUE(raw.Connect(RawFor(*server)));
    ASSERT_TRUE(raw.Write(RawRequest("Content-Length: 1000\r\n\r\n") + std::string(10, 'x')));
  }  // each closes here, 990 bytes short
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok());
  auto response = (*client)->Post("/after", "body");
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(counting.calls(), 1);
  for (int i = 0; i < 50 && server->open_connections() > 1; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(server->open_connections(), 1u);  // the five are gone
}

TEST_F(HttpTest, StalledBodyIsCutAtBodyTimeout) {
  CountingHandler counting;
  ServerOptions options = Options();
  options.body_timeout = milliseconds(300);
  auto server = StartServer(options, counting.handler());
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server)));
  ASSERT_TRUE(raw.Write(RawRequest("Content-Length: 100\r\n\r\n") + std::string(10, 'x')));
  auto start = Clock::now();
  EXPECT_FALSE(raw.WaitClosed(milliseconds(150))) << "cut before the body timeout";
  EXPECT_TRUE(raw.WaitClosed(milliseconds(1500))) << "a stalled body held the connection";
  EXPECT_GE(Clock::now() - start, milliseconds(250));
  EXPECT_EQ(counting.calls(), 0);
}

TEST_F(HttpTest, ConnectionsPastTheLimitAreClosedAtOnce) {
  ServerOptions options = Options();
  options.max_connections = 2;
  options.idle_timeout = milliseconds(5000);
  options.header_timeout = milliseconds(5000);
  auto server = StartServer(options, Echo);
  ASSERT_TRUE(server);
  RawTlsClient first, second, third;
  ASSERT_TRUE(first.Connect(RawFor(*server)));
  ASSERT_TRUE(second.Connect(RawFor(*server)));
  EXPECT_EQ(server->open_connections(), 2u);
  auto start = Clock::now();
  EXPECT_FALSE(third.Connect(RawFor(*server))) << "a third connection was served";
  EXPECT_LT(Clock::now() - start, milliseconds(500));
  // The two within the limit still work; one leaving makes room.
  ASSERT_TRUE(first.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(first.ReadResponse());
  second.Close();
  for (int i = 0; i < 50 && server->open_connections() > 1; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  RawTlsClient fourth;
  EXPECT_TRUE(fourth.Connect(RawFor(*server))) << fourth.error();
}

TEST_F(HttpTest, SixtyFourConcurrentClientsAreAllAnswered) {
  ServerOptions options = Options();
  options.header_timeout = milliseconds(5000);
  auto server = StartServer(options, [](const attest::http::Request& request) {
    std::this_thread::sleep_for(milliseconds(2));  // like a short SQLite write
    return Echo(request);
  });
  ASSERT_TRUE(server);
  constexpr int kClients = 64;
  std::atomic<int> answered{0};
  std::latch start(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto client = Client::Connect(ClientFor(*server));
      if (!client.ok()) return;
      for (int round = 0; round < 2; ++round) {
        auto body = "client " + std::to_string(i);
        auto response = (*client)->Post("/c", body);
        if (response.ok() && response->status == 200 && response->body == "POST /c||" + body) {
          ++answered;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(answered, 2 * kClients);
}

TEST_F(HttpTest, DrainFinishesTheRequestInFlightClosesIdleAndRefusesNew) {
  std::latch handler_entered(1);
  ServerOptions options = Options();
  options.idle_timeout = milliseconds(5000);
  auto server = StartServer(options, [&](const attest::http::Request& request) {
    if (request.path == "/slow") {
      handler_entered.count_down();
      std::this_thread::sleep_for(milliseconds(400));
    }
    return Echo(request);
  });
  ASSERT_TRUE(server);
  std::uint16_t port = server->port();

  RawTlsClient idle;  // served once, then idle on keep-alive
  ASSERT_TRUE(idle.Connect(RawFor(*server)));
  ASSERT_TRUE(idle.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.ReadResponse());

  RawTlsClient slow;
  ASSERT_TRUE(slow.Connect(RawFor(*server)));
  ASSERT_TRUE(slow.Write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  handler_entered.wait();

  auto start = Clock::now();
  std::thread drainer([&] { server->Drain(milliseconds(5000)); });
  EXPECT_TRUE(idle.WaitClosed(milliseconds(300))) << "idle connection not closed by Drain";
  auto response = slow.ReadResponse();
  ASSERT_TRUE(response) << "the request in flight was not answered";
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /slow||");
  EXPECT_EQ(response->headers["connection"], "close");
  slow.Close();  // as a client does after "Connection: close"
  drainer.join();
  auto drained_after = Clock::now() - start;
  EXPECT_LT(drained_after, milliseconds(1000)) << "Drain waited past the last close";
  EXPECT_EQ(server->open_connections(), 0u);

  RawTlsOptions late = RawFor(*server);
  late.port = port;
  RawTlsClient refused;
  EXPECT_FALSE(refused.Connect(late)) << "a connection was accepted after Drain";
}

TEST_F(HttpTest, DrainDeadlineCutsWhatIsStillOpen) {
  ServerOptions options = Options();
  options.header_timeout = milliseconds(10000);
  auto server = StartServer(options, Echo);
  ASSERT_TRUE(server);
  RawTlsClient half;  // half a header: in flight, never finishes
  ASSERT_TRUE(half.Connect(RawFor(*server)));
  ASSERT_TRUE(half.Write("GET / HTTP/1.1\r\nHo"));
  // Nothing tells when the server has read those bytes (only then is the
  // request in flight rather than idle); give it ample time.
  std::this_thread::sleep_for(milliseconds(100));
  auto start = Clock::now();
  server->Drain(milliseconds(200));
  auto took = Clock::now() - start;
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_TRUE(half.WaitClosed(milliseconds(500)));
  EXPECT_EQ(server->open_connections(), 0u);
}

}  // namespace
}  // namespace attest::http::test
