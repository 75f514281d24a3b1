// The HTTP server with ANN retrieval: /healthz and /v1/model name the index in use, requests over
// HTTP equal the Recommender's ANN lists, a reload swaps artifact and index together (a re-export
// with other index options gives a new index file), and a reload whose index file is gone is
// refused while the previous model and its index keep answering.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "serving/export.h"
#include "serving/fixtures.h"
#include "serving/http_server.h"
#include "serving/request.h"

using namespace divrec;
using nlohmann::json;

namespace {

// `divrec export --retrieval ann --ann-kind hnsw --hnsw-m M` of the fixture's checkpoint to
// `output`; returns the index file's name (beside the artifact).
std::string export_ann(const divrec::testing::ServingFixture& f, const std::string& output,
                       int hnsw_m) {
  serving::ExportOptions eo;
  eo.checkpoint = f.checkpoint;
  eo.data_dir = f.data_dir;
  eo.output = output;
  eo.retrieval = eval::RetrievalMode::kAnn;
  eo.ann.kind = eval::AnnKind::kHnsw;
  eo.ann.hnsw_m = hnsw_m;
  eo.ann.build_threads = 1;
  return serving::export_artifact(eo).ann_index;
}

json get(httplib::Client& c, const std::string& path) {
  auto res = c.Get(path);
  EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
  if (!res) return json();
  EXPECT_EQ(res->status, 200) << path << ": " << res->body;
  return json::parse(res->body);
}

TEST(HttpAnn, HealthzNamesTheIndexAndReloadSwapsArtifactAndIndexTogether) {
  auto f = divrec::testing::make_serving_fixture("http_ann", "next-item", 9);
  const std::string path = f.dir + "/served.h5";
  const std::string first = export_ann(f, path, 8);
  ASSERT_FALSE(first.empty());

  eval::RetrievalOptions r;
  r.mode = eval::RetrievalMode::kAnn;
  r.search.ef_search = 64;
  auto model = serving::Recommender::load(path, model::ScorePrecision::kFp32, r);
  serving::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  serving::HttpServer server(model, path, o);
  const int port = server.start();
  ASSERT_GT(port, 0);
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10);

  json h = get(c, "/healthz");
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["retrieval"]["used"], "ann");
  EXPECT_EQ(h["retrieval"]["kind"], "hnsw");
  EXPECT_EQ(h["retrieval"]["index"], first);
  EXPECT_EQ(h["retrieval"]["ef_search"], 64);
  EXPECT_EQ(get(c, "/v1/model")["retrieval"], h["retrieval"]);

  // A request over HTTP is the Recommender's ANN answer.
  const auto& raw = model->items().raw_ids;
  serving::RecommendRequest req;
  req.history = {raw[2], raw[11], raw[30]};
  req.settings = model->defaults();
  req.settings.k = 5;
  const json want = serving::to_json(model->recommend(req))["items"];
  auto post = [&] {
    auto res = c.Post("/v1/recommend", json{{"history", req.history}, {"k", 5}}.dump(),
                      "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no response");
    return res ? json::parse(res->body)["items"] : json();
  };
  EXPECT_EQ(post(), want);
  EXPECT_EQ(want.size(), 5u);

  // Re-export with another graph degree: a new index file replaces the old one, and a reload
  // picks up both the artifact and the new index, with the same search options.
  const std::string second = export_ann(f, path, 12);
  ASSERT_NE(second, first);
  EXPECT_FALSE(std::filesystem::exists(f.dir + "/" + first)) << "stale index left behind";
  std::string error;
  ASSERT_TRUE(server.reload(&error)) << error;
  h = get(c, "/healthz");
  EXPECT_EQ(h["retrieval"]["index"], second);
  EXPECT_EQ(h["retrieval"]["ef_search"], 64);
  EXPECT_EQ(get(c, "/v1/model")["reloads"], 1);

  // The index file disappears: the reload is refused with a message naming it, and the server
  // keeps answering from the model (and index) it already holds.
  std::filesystem::remove(f.dir + "/" + second);
  EXPECT_FALSE(server.reload(&error));
  EXPECT_NE(error.find(second), std::string::npos) << error;
  h = get(c, "/healthz");
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["retrieval"]["index"], second);
  EXPECT_EQ(post().size(), 5u);
  EXPECT_EQ(get(c, "/v1/model")["reloads"], 1);
  server.stop();
}

}  // namespace
