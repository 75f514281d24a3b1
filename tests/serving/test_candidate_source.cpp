// Retrieval in serving: `divrec export --retrieval ann` writes the index beside the artifact and
// records it; a Recommender with --retrieval ann gives the exact lists when the index is searched
// wide enough; missing / absent indexes are refused with clear errors, auto stays exact on small
// catalogs; re-exporting without an index removes the old file; appending items extends the
// artifact and its index (and is refused for models with per-item id embeddings).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "common/expect_error.h"
#include "core/check.h"
#include "core/fs.h"
#include "data_shards/text_tokens.h"
#include "serving/append_items.h"
#include "serving/export.h"
#include "serving/fixtures.h"
#include "serving/recommender.h"

using namespace divrec;

namespace {

using divrec::testing::expect_error;

serving::ExportSummary export_with(const divrec::testing::ServingFixture& f,
                                   const std::string& output, eval::RetrievalMode mode) {
  serving::ExportOptions eo;
  eo.checkpoint = f.checkpoint;
  eo.data_dir = f.data_dir;
  eo.output = output;
  eo.retrieval = mode;
  eo.ann.build_threads = 1;
  return serving::export_artifact(eo);
}

eval::RetrievalOptions ann_options(int ef = 256) {
  eval::RetrievalOptions r;
  r.mode = eval::RetrievalMode::kAnn;
  r.search.ef_search = ef;
  r.min_candidates = 20;  // fetch max(20, N) + |history| of the ~100 items
  return r;
}

std::vector<std::vector<int32_t>> histories(int64_t items, int n) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(items) - 1);
  std::vector<std::vector<int32_t>> out(n);
  for (auto& h : out) {
    for (int i = 0; i < 6; ++i) h.push_back(pick(rng));
  }
  return out;
}

void expect_same_candidates(const serving::Recommender& a, const serving::Recommender& b,
                            int count) {
  for (const auto& h : histories(a.num_items(), 30)) {
    std::vector<int32_t> ia, ib;
    std::vector<float> sa, sb;
    a.top_candidates(h.data(), static_cast<int64_t>(h.size()), count, ia, sa);
    b.top_candidates(h.data(), static_cast<int64_t>(h.size()), count, ib, sb);
    EXPECT_EQ(ia, ib);
    EXPECT_EQ(sa, sb);
    for (int32_t x : h) EXPECT_EQ(std::count(ia.begin(), ia.end(), x), 0) << "history item";
  }
}

TEST(CandidateSource, ExportedIndexGivesTheExactCandidates) {
  auto f = divrec::testing::make_serving_fixture("cand_exact");
  const std::string path = f.dir + "/ann.h5";
  const auto s = export_with(f, path, eval::RetrievalMode::kAnn);
  ASSERT_FALSE(s.ann_index.empty());
  EXPECT_TRUE(core::path_exists(f.dir + "/" + s.ann_index));
  const auto a = serving::read_artifact(path);
  EXPECT_EQ(a.ann_index.file, s.ann_index);
  EXPECT_EQ(a.ann_index.items, a.items.num_items);

  auto exact = serving::Recommender::load(path);
  auto ann = serving::Recommender::load(path, model::ScorePrecision::kFp32, ann_options());
  EXPECT_FALSE(exact->candidates().ann());
  ASSERT_TRUE(ann->candidates().ann());
  EXPECT_EQ(ann->retrieval_json()["used"], "ann");
  EXPECT_EQ(ann->describe()["retrieval"]["index"], s.ann_index);
  expect_same_candidates(*exact, *ann, 40);
  // The whole request path too: same lists after re-ranking.
  serving::RecommendSettings st;
  st.candidates = 40;
  st.rerank.method = eval::RerankMethod::kMmr;
  for (const auto& h : histories(exact->num_items(), 10)) {
    auto ra = exact->recommend_dense(h, st), rb = ann->recommend_dense(h, st);
    ASSERT_EQ(ra.items.size(), rb.items.size());
    for (size_t i = 0; i < ra.items.size(); ++i) EXPECT_EQ(ra.items[i].index, rb.items[i].index);
  }
}

TEST(CandidateSource, MissingOrAbsentIndexIsRefusedAndAutoStaysExactWhenSmall) {
  auto f = divrec::testing::make_serving_fixture("cand_errors");
  // The fixture's artifact was exported with auto on 120 items: no index.
  EXPECT_TRUE(serving::read_artifact(f.artifact).ann_index.file.empty());
  expect_error(
      [&] { serving::Recommender::load(f.artifact, model::ScorePrecision::kFp32, ann_options()); },
      {"has no ANN index", "--retrieval ann"});
  const std::string path = f.dir + "/ann.h5";
  const auto s = export_with(f, path, eval::RetrievalMode::kAnn);
  eval::RetrievalOptions autom = ann_options();
  autom.mode = eval::RetrievalMode::kAuto;
  EXPECT_FALSE(serving::Recommender::load(path, model::ScorePrecision::kFp32, autom)
                   ->candidates()
                   .ann());  // ~100 items < kAutoAnnMinItems
  std::filesystem::remove(f.dir + "/" + s.ann_index);
  expect_error(
      [&] { serving::Recommender::load(path, model::ScorePrecision::kFp32, ann_options()); },
      {"is missing", s.ann_index, "ann.h5"});
}

TEST(CandidateSource, ReExportWithoutIndexRemovesTheOldFile) {
  auto f = divrec::testing::make_serving_fixture("cand_stale");
  const std::string path = f.dir + "/m.h5";
  const auto s = export_with(f, path, eval::RetrievalMode::kAnn);
  ASSERT_TRUE(core::path_exists(f.dir + "/" + s.ann_index));
  const auto again = export_with(f, path, eval::RetrievalMode::kAnn);
  EXPECT_EQ(again.ann_index, s.ann_index);  // same vectors + options: same name
  EXPECT_TRUE(core::path_exists(f.dir + "/" + s.ann_index));
  export_with(f, path, eval::RetrievalMode::kExact);
  EXPECT_FALSE(core::path_exists(f.dir + "/" + s.ann_index));
  EXPECT_FALSE(serving::read_artifact(path).ann_index.present());
}

TEST(CandidateSource, AppendedItemsJoinTheArtifactAndItsIndex) {
  auto f = divrec::testing::make_serving_fixture("cand_append", "next-item", 7, {}, 120, false);
  const std::string path = f.dir + "/m.h5";
  const auto s = export_with(f, path, eval::RetrievalMode::kAnn);
  const auto before = serving::read_artifact(path);
  const auto& names = before.items.category_names;
  std::vector<serving::NewItem> items(3);
  for (int i = 0; i < 3; ++i) {
    items[i].id = "new-" + std::to_string(i);
    items[i].category = names[static_cast<size_t>(i)];
    items[i].attributes = {before.items.attribute_names[static_cast<size_t>(i + 1)]};
    items[i].content.assign(static_cast<size_t>(before.items.content_dim), 0.1f * (i + 1));
  }
  core::write_file_atomic(f.dir + "/new.jsonl",
                          "{\"id\": \"new-0\", \"category\": \"" + names[0] +
                              "\", \"attributes\": [\"" + before.items.attribute_names[1] +
                              "\"], \"content\": [" +
                              std::string("0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1") + "]}\n");
  const auto parsed = serving::read_new_items(f.dir + "/new.jsonl");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].content, items[0].content);
  EXPECT_EQ(parsed[0].attributes, items[0].attributes);

  const int64_t I = before.items.num_items;
  const auto sum = serving::append_items(path, items, path);
  EXPECT_EQ(sum.items, I + 3);
  EXPECT_NE(sum.ann_index, s.ann_index);
  EXPECT_FALSE(core::path_exists(f.dir + "/" + s.ann_index));  // replaced
  const auto after = serving::read_artifact(path);
  EXPECT_EQ(after.items.raw_ids[I + 1], "new-1");
  EXPECT_EQ(after.items.popularity[I + 2], 0);
  EXPECT_TRUE(after.item_vectors.slice(0, 0, I).equal(before.item_vectors));  // old rows kept
  EXPECT_GT(after.item_vectors.slice(0, I, I + 3).abs().min().item<float>(), 0.0f);

  auto exact = serving::Recommender::load(path);
  auto ann = serving::Recommender::load(path, model::ScorePrecision::kFp32, ann_options());
  ASSERT_TRUE(ann->candidates().ann());
  EXPECT_EQ(ann->candidates().index()->size(), I + 3);
  EXPECT_EQ(ann->dense_id("new-2"), I + 2);
  expect_same_candidates(*exact, *ann, 60);
  // A history holding new items works.
  const std::vector<int32_t> with_new = {3, static_cast<int32_t>(I + 1),
                                         static_cast<int32_t>(I + 2)};
  EXPECT_EQ(ann->recommend_dense(with_new, ann->defaults()).items.size(), 10u);

  // Errors: a known id, an unknown category, a model with per-item ids.
  expect_error([&] { serving::append_items(path, items, path); }, {"'new-0'", "already in"});
  auto bad = items;
  bad[0].id = "x";
  bad[0].category = "no-such-category";
  expect_error([&] { serving::append_items(path, {bad[0]}, path); },
               {"'no-such-category'", "vocabulary"});
  auto g = divrec::testing::make_serving_fixture("cand_append_ids");
  expect_error([&] { serving::append_items(g.artifact, items, g.artifact); },
               {"learned embedding per item id", "--use-item-id false"});
}

// Items without content (`shard add-content` fallback): exported with their has_content flags,
// and an appended item without "content" is encoded like them (learned missing-content vector).
TEST(CandidateSource, AppendedItemsWithoutContentUseTheMissingContentVector) {
  auto f = divrec::testing::make_serving_fixture("cand_missing", "next-item", 7, {}, 120, false,
                                                 /*content_missing=*/true);
  ASSERT_TRUE(f.config.content_missing);
  const auto before = serving::read_artifact(f.artifact);
  ASSERT_EQ(before.items.has_content.size(), static_cast<size_t>(before.items.num_items));
  EXPECT_EQ(before.items.has_content[0], 0);
  EXPECT_EQ(before.items.has_content[3], 1);
  EXPECT_TRUE(before.config.content_missing);
  // The new item copies item 0's category and attributes, and has no content: same vector.
  serving::NewItem it;
  it.id = "new-no-content";
  it.category = before.items.category_names[static_cast<size_t>(before.items.category[0])];
  for (int64_t k = before.items.attr_offsets[0]; k < before.items.attr_offsets[1]; ++k) {
    it.attributes.push_back(
        before.items
            .attribute_names[static_cast<size_t>(before.items.attr_ids[static_cast<size_t>(k)])]);
  }
  const std::string path = f.dir + "/appended.h5";
  serving::append_items(f.artifact, {it}, path);
  const auto after = serving::read_artifact(path);
  const int64_t I = before.items.num_items;
  EXPECT_EQ(after.items.has_content[static_cast<size_t>(I)], 0);
  EXPECT_TRUE(torch::allclose(after.item_vectors[I], after.item_vectors[0], 1e-5, 1e-6));
  auto rec = serving::Recommender::load(path);
  EXPECT_EQ(rec->dense_id("new-no-content"), I);
  // A model that saw content for every item cannot encode an item without it.
  auto g =
      divrec::testing::make_serving_fixture("cand_all_content", "next-item", 7, {}, 120, false);
  expect_error([&] { serving::append_items(g.artifact, {it}, g.dir + "/x.h5"); },
               {"'new-no-content' has no content", "trained with a vector for every item"});
}

// A model with item text: `export` stores the SentencePiece model, and an appended item's "text"
// becomes its bag of subwords with it, so an item with another's title, category, attributes
// and content gets that item's vector; without its text it gets a different one.
TEST(CandidateSource, AppendedItemsTextIsTokenizedWithTheArtifactsTokenizer) {
  if (!data::text_tokenizer_available()) {
    GTEST_SKIP() << "no SentencePiece in AddressSanitizer builds (RTLD_DEEPBIND)";
  }
  auto f = divrec::testing::make_serving_fixture("cand_text", "next-item", 7, {}, 120,
                                                 /*use_item_id=*/false, false, /*item_text=*/true);
  ASSERT_TRUE(f.config.has_text());
  const auto before = serving::read_artifact(f.artifact);
  const auto& t = before.items;
  ASSERT_FALSE(t.text_tokenizer.empty());
  EXPECT_EQ(t.text_max_tokens, 6);
  const int64_t src = 17, I = t.num_items, D = t.content_dim;
  auto copy_of = [&](const std::string& id, bool with_text) {
    serving::NewItem it;
    it.id = id;
    it.category = t.category_names[static_cast<size_t>(t.category[src])];
    for (int64_t k = t.attr_offsets[src]; k < t.attr_offsets[src + 1]; ++k)
      it.attributes.push_back(t.attribute_names[static_cast<size_t>(t.attr_ids[k])]);
    it.content.assign(t.content.begin() + src * D, t.content.begin() + (src + 1) * D);
    if (with_text) it.text = divrec::testing::fixture_title(std::stoi(t.raw_ids[src]));
    return it;
  };
  const std::string path = f.dir + "/appended.h5";
  serving::append_items(f.artifact, {copy_of("copy", true), copy_of("no-text", false)}, path);
  const auto after = serving::read_artifact(path);
  const auto& a = after.items;
  const std::vector<int32_t> src_ids(t.text_ids.begin() + t.text_offsets[src],
                                     t.text_ids.begin() + t.text_offsets[src + 1]);
  ASSERT_FALSE(src_ids.empty());
  EXPECT_EQ(std::vector<int32_t>(a.text_ids.begin() + a.text_offsets[I],
                                 a.text_ids.begin() + a.text_offsets[I + 1]),
            src_ids);
  EXPECT_EQ(a.text_offsets[I + 2], a.text_offsets[I + 1]);  // no text: an empty bag
  EXPECT_TRUE(torch::allclose(after.item_vectors[I], after.item_vectors[src], 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(after.item_vectors[I + 1], after.item_vectors[src], 1e-3, 1e-3));
}

}  // namespace
