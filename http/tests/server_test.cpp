// The server and client doing their job: round trips on one kept-alive
// connection, the TLS versions, mutual TLS, and the answers the server
// writes itself (500 for a throwing handler, 400 for a malformed target).
#include <atomic>
#include <mutex>

#include "attest/testing/test_support.h"

#include "http_test_fixture.h"

namespace attest::http::test {
namespace {

TEST_F(HttpTest, EchoRoundTripsTwiceOnOneKeptAliveConnection) {
  auto server = StartServer(Options(), Echo);
  ASSERT_TRUE(server);
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  auto first = (*client)->Post("/v1/echo%20me?a=1&b=x%2By+z", "hello");
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->content_type, "text/plain");
  EXPECT_EQ(first->body, "POST /v1/echo me|a=1&b=x+y z&|hello");
  auto second = (*client)->Get("/second");
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(second->body, "GET /second||");
  EXPECT_EQ(server->open_connections(), 1u);  // both went over the one connection

  // The same on a raw connection: two requests, two answers, still open.
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server))) << raw.error();
  for (const char* path : {"/one", "/two"}) {
    ASSERT_TRUE(raw.Write(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = raw.ReadResponse();
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->body, std::string("GET ") + path + "||");
    EXPECT_NE(response->headers["connection"], "close");
  }
}

TEST_F(HttpTest, ResponsesCarryTypeAndLengthButNoServerVersion) {
  auto server = StartServer(Options(), [](const Request&) {
    Response response;
    response.body = R"({"ok":true})";
    response.headers = {{"X-Extra", "1"}, {"Content-Length", "999"}, {"Connection", "close"}};
    return response;
  });
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server))) << raw.error();
  ASSERT_TRUE(raw.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = raw.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["content-type"], "application/json");
  EXPECT_EQ(response->headers["content-length"], "11");  // the handler's 999 is dropped
  EXPECT_EQ(response->headers["x-extra"], "1");
  EXPECT_EQ(response->headers.count("server"), 0u);
  EXPECT_EQ(response->headers.count("connection"), 0u);  // the handler cannot close it
}

TEST_F(HttpTest, RefusesTls11AndAcceptsTls12And13) {
  auto server = StartServer(Options(), Echo);
  ASSERT_TRUE(server);
  RawTlsOptions options = RawFor(*server);
  options.version = TLS1_1_VERSION;
  RawTlsClient tls11;
  EXPECT_FALSE(tls11.Connect(options)) << "TLS 1.1 handshake succeeded";
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    options.version = version;
    RawTlsClient client;
    ASSERT_TRUE(client.Connect(options)) << version << ": " << client.error();
    EXPECT_EQ(client.negotiated_version(), version);
    ASSERT_TRUE(client.Write("GET /v HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(HttpTest, HandlerExceptionIsAnswered500WithJsonError) {
  auto server = StartServer(Options(), [](const Request& request) -> Response {
    if (request.path == "/throw") throw std::runtime_error("secret detail");
    return Echo(request);
  });
  ASSERT_TRUE(server);
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok());
  auto response = (*client)->Get("/throw");
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body.find(R"({"error":{"code":"INTERNAL","message":")"), 0u)
      << response->body;
  EXPECT_EQ(response->body.find("secret detail"), std::string::npos);
  auto after = (*client)->Get("/fine");  // the server still serves
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->status, 200);
}

TEST_F(HttpTest, MalformedPercentEscapesAndNulAre400AndNeverReachTheHandler) {
  std::atomic<int> calls{0};
  auto server = StartServer(Options(), [&](const Request& request) {
    ++calls;
    return Echo(request);
  });
  ASSERT_TRUE(server);
  auto client = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(client.ok());
  for (const char* target : {"/a%zz", "/a%4", "/a%00b", "/a?q=%g0", "/a?%"}) {
    auto response = (*client)->Get(target);
    ASSERT_TRUE(response.ok()) << target << ": " << response.error().ToString();
    EXPECT_EQ(response->status, 400) << target;
    EXPECT_NE(response->body.find("INVALID_ARGUMENT"), std::string::npos) << target;
  }
  EXPECT_EQ(calls, 0);
  auto good = (*client)->Get("/a%41");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->body, "GET /aA||");
  EXPECT_EQ(calls, 1);
}

TEST_F(HttpTest, AmbiguousFramingIs400AndNeverReachesTheHandler) {
  std::atomic<int> calls{0};
  auto server = StartServer(Options(), [&](const Request& request) {
    ++calls;
    return Echo(request);
  });
  ASSERT_TRUE(server);
  // The classic request-smuggling shapes: two lengths, or a length and
  // chunking, where two parsers could disagree on where the body ends.
  for (const char* framing : {"Content-Length: 4\r\nContent-Length: 5\r\n",
                              "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                              "Content-Length: -4\r\n", "Transfer-Encoding: gzip\r\n"}) {
    RawTlsClient raw;
    ASSERT_TRUE(raw.Connect(RawFor(*server)));
    ASSERT_TRUE(raw.Write(std::string("POST / HTTP/1.1\r\nHost: x\r\n") + framing +
                          "\r\n4\r\nbody\r\n0\r\n\r\n"));
    auto response = raw.ReadResponse();
    ASSERT_TRUE(response) << framing;
    EXPECT_EQ(response->status, 400) << framing;
    EXPECT_EQ(response->headers["connection"], "close") << framing;
  }
  EXPECT_EQ(calls, 0);
}

TEST_F(HttpTest, ExpectContinueIsAnsweredBeforeTheBody) {
  auto server = StartServer(Options(), Echo);
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server)));
  ASSERT_TRUE(raw.Write(
      "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
  auto interim = raw.ReadResponse();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(raw.Write("abc"));
  auto response = raw.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /e||abc");
}

TEST_F(HttpTest, ClientAskingToCloseIsAnsweredAndClosed) {
  auto server = StartServer(Options(), Echo);
  ASSERT_TRUE(server);
  RawTlsClient raw;
  ASSERT_TRUE(raw.Connect(RawFor(*server)));
  ASSERT_TRUE(raw.Write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto response = raw.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(raw.WaitClosed(std::chrono::milliseconds(200)));
}

struct SeenCertificate {
  std::mutex mutex;
  std::optional<std::string> pem;
  int calls = 0;
};

Handler RecordCertificate(SeenCertificate& seen) {
  return [&seen](const Request& request) {
    std::lock_guard lock(seen.mutex);
    seen.pem = request.client_certificate_pem;
    ++seen.calls;
    return Response{};
  };
}

TEST_F(HttpTest, MutualTlsSurfacesTheClientCertificateAndRefusesStrangers) {
  SeenCertificate seen;
  ServerOptions options = Options();
  options.client_ca_path = pki_->client_ca;
  auto server = StartServer(options, RecordCertificate(seen));
  ASSERT_TRUE(server);

  ClientOptions with_cert = ClientFor(*server);
  with_cert.certificate_chain_path = pki_->client_chain;
  with_cert.private_key_path = pki_->client_key;
  auto client = Client::Connect(with_cert);
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  ASSERT_TRUE((*client)->Get("/").ok());
  {
    std::lock_guard lock(seen.mutex);
    ASSERT_TRUE(seen.pem.has_value());
    EXPECT_EQ(*seen.pem, attest::test::ReadText(pki_->client_chain));
  }

  // A certificate from a CA the server does not trust: refused in the
  // handshake (TLS 1.3 reports it on the first read).
  RawTlsOptions stranger = RawFor(*server);
  stranger.certificate_path = pki_->stranger_chain;
  stranger.key_path = pki_->stranger_key;
  RawTlsClient raw;
  bool served = raw.Connect(stranger) && raw.Write("GET / HTTP/1.1\r\nHost: x\r\n\r\n") &&
                raw.ReadResponse().has_value();
  EXPECT_FALSE(served) << "a certificate from an untrusted CA was accepted";
  for (int version : {TLS1_2_VERSION}) {
    stranger.version = version;
    RawTlsClient old;
    EXPECT_FALSE(old.Connect(stranger)) << "TLS 1.2 handshake with a stranger's certificate";
  }

  // No certificate at all: served, and the request says so.
  auto anonymous = Client::Connect(ClientFor(*server));
  ASSERT_TRUE(anonymous.ok()) << anonymous.error().ToString();
  auto response = (*anonymous)->Get("/");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  std::lock_guard lock(seen.mutex);
  EXPECT_FALSE(seen.pem.has_value());
  EXPECT_EQ(seen.calls, 2);
}

TEST_F(HttpTest, WithoutClientCaNoCertificateIsSurfaced) {
  SeenCertificate seen;
  auto server = StartServer(Options(), RecordCertificate(seen));
  ASSERT_TRUE(server);
  ClientOptions with_cert = ClientFor(*server);
  with_cert.certificate_chain_path = pki_->client_chain;
  with_cert.private_key_path = pki_->client_key;
  auto client = Client::Connect(with_cert);
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  ASSERT_TRUE((*client)->Get("/").ok());
  std::lock_guard lock(seen.mutex);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_FALSE(seen.pem.has_value());
}

TEST_F(HttpTest, ClientRefusesAServerItCannotVerify) {
  auto server = StartServer(Options(), Echo);
  ASSERT_TRUE(server);
  ClientOptions wrong_ca = ClientFor(*server);
  wrong_ca.ca_bundle_path = pki_->client_ca;
  EXPECT_FALSE(Client::Connect(wrong_ca).ok()) << "chain to an untrusted CA accepted";
  ClientOptions wrong_name = ClientFor(*server);
  wrong_name.host = "localhost";  // resolves to the server, but its certificate says 127.0.0.1
  auto named = Client::Connect(wrong_name);
  ASSERT_FALSE(named.ok()) << "certificate for another name accepted";
  EXPECT_NE(named.error().message.find("TLS handshake"), std::string::npos)
      << named.error().ToString();
  EXPECT_TRUE(Client::Connect(ClientFor(*server)).ok());
}

TEST_F(HttpTest, StartNamesTheFileOrAddressThatFailed) {
  ServerOptions options = Options();
  options.private_key_path = pki_->dir.File("missing.key");
  auto missing = Server::Start(options, Echo);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.key"), std::string::npos);

  options = Options();
  options.private_key_path = pki_->client_key;  // does not match the certificate
  auto mismatch = Server::Start(options, Echo);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("client.key"), std::string::npos);

  options = Options();
  options.listen = "127.0.0.1:notaport";
  auto bad = Server::Start(options, Echo);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("127.0.0.1:notaport"), std::string::npos);
}

}  // namespace
}  // namespace attest::http::test
