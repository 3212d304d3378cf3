// JsonRpc against a node that answers badly: a plain HTTP server on
// 127.0.0.1 stands in for the node.
#include <gtest/gtest.h>

#include <string>

#include "rsp/eth/json_rpc.hpp"
#include "rsp/http_server.hpp"

using namespace rsp;

// A "result" nested 100,000 deep (a hostile or broken node): the client's
// ordinary error for an answer that is not JSON-RPC, not a stack overflow
// in the recursive copy of the tree (issue 9).
TEST(JsonRpc, DeeplyNestedAnswerIsATransportError) {
  http::ServerConfig c;
  c.threads = 1;
  http::Server server(c, [](const http::Request&) {
    return http::Response::json(R"({"jsonrpc":"2.0","id":0,"result":)" + std::string(100'000, '[') +
                                std::string(100'000, ']') + "}");
  });
  server.start();
  eth::JsonRpc rpc("http://127.0.0.1:" + std::to_string(server.port()));
  try {
    rpc.call("eth_getLogs", nlohmann::json::array());
    FAIL() << "accepted";
  } catch (const eth::RpcTransportError& e) {
    EXPECT_NE(std::string(e.what()).find("not a JSON-RPC answer"), std::string::npos) << e.what();
  }
  server.stop();
}
