// The transformer model: attention masking (causal, bidirectional, padding), dynamic padding
// invariance, the two item-embedding paths agreeing, feature switches and checkpoint keys.
#include <c10/util/Half.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/check.h"
#include "data_shards/content_dtype.h"
#include "data_shards/dataset.h"
#include "data_shards/test_util.h"
#include "trainer/model/config_io.h"
#include "trainer/model/seq_model.h"

using namespace divrec;
using namespace divrec::model;
using divrec::testing::error_of;

namespace {
constexpr int64_t kItems = 20;

// 20 items, 4 categories (item 3 has none), 6 attributes (items 0 and 7 have none), content 3.
data::ItemTable make_table() {
  data::ItemTable t;
  t.num_items = kItems;
  t.num_categories = 4;
  t.num_attributes = 6;
  t.content_dim = 3;
  t.attr_offsets.push_back(0);
  for (int64_t i = 0; i < kItems; ++i) {
    t.category.push_back(i == 3 ? -1 : static_cast<int32_t>(i % 4));
    if (i != 0 && i != 7) {
      for (int32_t a = 0; a < 1 + i % 3; ++a) t.attr_ids.push_back((i + 2 * a) % 6);
    }
    t.attr_offsets.push_back(static_cast<int64_t>(t.attr_ids.size()));
    for (int d = 0; d < 3; ++d) t.content.push_back(0.1f * static_cast<float>((i * 3 + d) % 7));
  }
  return t;
}

ModelConfig make_config() {
  ModelConfig c;
  c.num_items = kItems;
  c.num_categories = 4;
  c.num_attributes = 6;
  c.content_dim = 3;
  c.dim = 16;
  c.heads = 2;
  c.layers = 2;
  c.max_len = 8;
  c.dropout = 0.3;
  c.attn_dropout = 0.3;
  return c;
}

SeqModel make_model(const ModelConfig& c = make_config()) {
  torch::manual_seed(11);
  SeqModel m(c, ItemFeatures::from_table(make_table()));
  m->eval();  // dropout off: outputs are deterministic functions of the inputs
  return m;
}

// Left-pads item-id sequences to [B, L] input ids.
torch::Tensor left_pad(const std::vector<std::vector<int64_t>>& seqs, int64_t l) {
  auto ids = torch::zeros({static_cast<int64_t>(seqs.size()), l}, torch::kInt64);
  for (size_t r = 0; r < seqs.size(); ++r) {
    const int64_t n = static_cast<int64_t>(seqs[r].size());
    for (int64_t j = 0; j < n; ++j) ids[r][l - n + j] = seqs[r][j] + 1;
  }
  return ids;
}

const std::vector<std::vector<int64_t>> kSeqs = {{4, 9, 3}, {1, 2, 3, 4, 5}, {7}, {}, {0, 19}};

bool no_nan(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }
}  // namespace

TEST(ItemFeatures, FromTableMapsMissingCategoryAndCsr) {
  auto f = ItemFeatures::from_table(make_table());
  EXPECT_EQ(f.category[3].item<int64_t>(), 4);  // -1 -> the dedicated index C
  EXPECT_EQ(f.category[5].item<int64_t>(), 1);
  EXPECT_EQ(f.attr_offsets.size(0), kItems + 1);
  EXPECT_EQ(f.bag_offsets().size(0), kItems);
  EXPECT_EQ(f.attr_offsets[1].item<int64_t>(), 0);  // item 0 has no attributes
  EXPECT_EQ(f.content.sizes(), torch::IntArrayRef({kItems, 3}));
  EXPECT_FLOAT_EQ(f.content[2][1].item<float>(), 0.1f * 0);  // (2*3+1) % 7 = 0
  auto bad = make_table();
  bad.category[5] = 4;
  EXPECT_THROW(ItemFeatures::from_table(bad), Error);
  bad = make_table();
  bad.attr_ids[0] = 6;
  EXPECT_THROW(ItemFeatures::from_table(bad), Error);
}

TEST(SeqModel, CausalPositionsIgnoreTheFuture) {
  auto m = make_model();
  auto ids = left_pad({{1, 2, 3, 4, 5, 6}, {8, 9, 10}}, 8);
  auto h = m->encode(ids, true);
  for (int64_t t = 2; t < 7; ++t) {
    auto changed = ids.clone();
    changed.narrow(1, t + 1, 8 - t - 1).fill_(17);  // new items after column t
    auto h2 = m->encode(changed, true);
    EXPECT_TRUE(torch::allclose(h.narrow(1, 0, t + 1), h2.narrow(1, 0, t + 1), 0, 1e-6)) << t;
    EXPECT_FALSE(torch::allclose(h.select(1, 7), h2.select(1, 7), 0, 1e-3)) << t;
  }
}

TEST(SeqModel, BidirectionalSeesTheFuture) {
  auto m = make_model();
  auto ids = left_pad({{1, 2, 3, 4, 5, 6}}, 8);
  auto changed = ids.clone();
  changed[0][7] = 18;
  auto h = m->encode(ids, false), h2 = m->encode(changed, false);
  EXPECT_FALSE(torch::allclose(h.select(1, 3), h2.select(1, 3), 0, 1e-4));
  // The causal model at the same column does not see it.
  EXPECT_TRUE(torch::allclose(m->encode(ids, true).select(1, 3),
                              m->encode(changed, true).select(1, 3), 0, 1e-6));
}

TEST(SeqModel, DynamicPaddingMatchesMaxLenPadding) {
  auto m = make_model();
  for (bool causal : {true, false}) {
    auto full = m->encode(left_pad(kSeqs, 8), causal);   // padded to max_len
    auto tight = m->encode(left_pad(kSeqs, 5), causal);  // padded to the longest row
    EXPECT_TRUE(no_nan(full) && no_nan(tight));
    EXPECT_TRUE(torch::allclose(full.narrow(1, 3, 5), tight, 1e-5, 1e-5)) << causal;
    // Padded rows are exactly zero (the empty row entirely).
    auto pad = left_pad(kSeqs, 8).eq(0);
    EXPECT_EQ(full.masked_select(pad.unsqueeze(2)).abs().max().item<float>(), 0.0f);
    EXPECT_EQ(full[3].abs().max().item<float>(), 0.0f);
    // Real rows are not trivially zero.
    EXPECT_GT(full[1][7].abs().sum().item<float>(), 1.0f);
  }
}

TEST(SeqModel, AllPaddingBatchIsZeroNotNan) {
  auto m = make_model();
  for (bool causal : {true, false}) {
    auto h = m->encode(torch::zeros({2, 4}, torch::kInt64), causal);
    ASSERT_EQ(h.sizes(), torch::IntArrayRef({2, 4, 16}));
    EXPECT_EQ(h.abs().max().item<float>(), 0.0f);
  }
}

TEST(SeqModel, PaddingContentIsIgnored) {
  // A row alone vs. next to a longer row (more left pads) gives the same states.
  auto m = make_model();
  auto alone = m->encode(left_pad({{4, 9, 3}}, 3), true);
  auto batched = m->encode(left_pad({{4, 9, 3}, {1, 2, 3, 4, 5, 6, 7}}, 7), true);
  EXPECT_TRUE(torch::allclose(alone[0], batched[0].narrow(0, 4, 3), 1e-5, 1e-5));
}

TEST(SeqModel, PaddedTrainingModeHasNoNan) {
  auto m = make_model();
  m->train();
  auto ids = left_pad(kSeqs, 8);
  auto h = m->encode(ids, true);
  auto loss = h.pow(2).sum();
  loss.backward();
  EXPECT_TRUE(no_nan(h));
  for (const auto& p : m->named_parameters()) {
    if (p.key() == "item_encoder.mask_embedding") continue;  // unused by causal inputs
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(no_nan(p.value().grad())) << p.key();
  }
  EXPECT_GT(
      m->named_parameters()["item_encoder.attributes.weight"].grad().abs().sum().item<float>(),
      0.0f);
}

TEST(ItemEncoder, DirectLookupsMatchCatalogPass) {
  auto m = make_model();
  auto& enc = m->item_encoder();
  auto all = enc->forward_all();
  ASSERT_EQ(all.sizes(), torch::IntArrayRef({kItems, 16}));
  // Items 0 and 7 (no attributes) and 3 (no category) included; shape [2, 3] preserved.
  auto items = torch::tensor({0, 7, 3, 19, 5, 5}, torch::kInt64).view({2, 3});
  auto direct = enc->forward_items(items);
  ASSERT_EQ(direct.sizes(), torch::IntArrayRef({2, 3, 16}));
  EXPECT_TRUE(
      torch::allclose(direct.view({6, 16}), all.index_select(0, items.view({-1})), 1e-5, 1e-6));
  // Input ids: pad -> zeros, mask -> mask_embedding, item i -> row i, on both paths.
  auto ids = torch::tensor({int64_t{0}, int64_t{1}, int64_t{8}, enc->mask_token()}, torch::kInt64);
  auto small = enc->forward(ids);            // 4 < I tokens: direct lookups
  auto big = enc->forward(ids.repeat({6}));  // 24 >= I tokens: via forward_all
  EXPECT_EQ(small[0].abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::allclose(small[1], all[0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(small[2], all[7], 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(small[3], m->named_parameters()["item_encoder.mask_embedding"]));
  EXPECT_TRUE(torch::allclose(big.narrow(0, 0, 4), small, 1e-5, 1e-6));
  EXPECT_THROW(enc->forward(torch::tensor({kItems + 2}, torch::kInt64)), Error);
}

// Content stored as bf16 / fp16 (`--content-dtype`): the model's copy keeps 16 bits, and every
// path (catalog pass, direct lookups) gives the item vectors of an fp32 table holding the same
// rounded values, bit for bit (the widening is exact).
TEST(ItemEncoder, HalfPrecisionContentMatchesItsFp32Values) {
  for (auto dtype : {data::ContentDtype::kBFloat16, data::ContentDtype::kFloat16}) {
    auto t = make_table();
    for (auto& v : t.content) v = v * 0.37f + 0.011f;  // values that 16 bits do not hold
    auto rounded = t;
    data::round_to_content_dtype(dtype, rounded.content.data(), rounded.content.size(), "test");
    ASSERT_NE(rounded.content, t.content);
    auto half = rounded;
    half.content_dtype = dtype;
    const auto f16 = ItemFeatures::from_table(half);
    EXPECT_EQ(f16.content.scalar_type(), content_scalar_type(dtype));
    EXPECT_TRUE(
        torch::equal(f16.content.to(torch::kFloat32), ItemFeatures::from_table(rounded).content));
    const auto c = make_config();
    torch::manual_seed(3);
    SeqModel a(c, ItemFeatures::from_table(rounded));
    torch::manual_seed(3);
    SeqModel b(c, f16);
    a->eval();
    b->eval();
    torch::NoGradGuard ng;
    EXPECT_TRUE(torch::equal(a->item_vectors(), b->item_vectors()));
    const auto items = torch::tensor({1, 7, 19}, torch::kInt64);
    EXPECT_TRUE(torch::equal(a->item_encoder()->forward_items(items),
                             b->item_encoder()->forward_items(items)));

    // A table read with ContentRead::kStored holds the 16-bit patterns (bf16: the upper half of
    // the fp32 bits, exact for rounded values; fp16: c10::Half's) and no widened copy: the
    // model's content is the same tensor.
    auto stored = half;
    for (float v : stored.content) {
      uint32_t u = 0;
      std::memcpy(&u, &v, sizeof u);
      stored.content_bits.push_back(
          dtype == data::ContentDtype::kBFloat16 ? static_cast<uint16_t>(u >> 16) : c10::Half(v).x);
    }
    stored.content.clear();
    EXPECT_TRUE(torch::equal(ItemFeatures::from_table(stored).content, f16.content));
    auto both = stored;
    both.content = half.content;
    EXPECT_NE(error_of([&] { ItemFeatures::from_table(both); }).find("widened"), std::string::npos);
    stored.content_dtype = data::ContentDtype::kFloat32;
    EXPECT_NE(error_of([&] {
                ItemFeatures::from_table(stored);
              }).find("16-bit content patterns with content_dtype fp32"),
              std::string::npos);
  }
}

// Items without a content vector (has_content = 0, a zero row) get the learned content_missing
// vector instead of the projection, on the catalog pass and the touched-items path alike.
TEST(ItemEncoder, MissingContentUsesTheLearnedVector) {
  auto t = make_table();
  t.has_content.assign(kItems, 1);
  for (int64_t i : {5, 12}) {
    t.has_content[i] = 0;
    for (int d = 0; d < 3; ++d) t.content[i * 3 + d] = 0.0f;
  }
  auto c = make_config();
  c.use_item_id = c.use_category = c.use_attributes = c.item_norm = false;  // content term only
  c.content_missing = true;
  EXPECT_NE(to_ini(c).find("content-missing = true"), std::string::npos);
  EXPECT_TRUE(from_ini(to_ini(c), ModelConfig{}).content_missing);
  EXPECT_FALSE(from_ini(to_ini(make_config()), ModelConfig{}).content_missing);
  torch::manual_seed(3);
  SeqModel m(c, ItemFeatures::from_table(t));
  auto params = m->named_parameters();
  ASSERT_TRUE(params.contains("item_encoder.content_missing"));
  const auto missing = params["item_encoder.content_missing"];
  const auto w = params["item_encoder.content_proj.weight"];
  const auto b = params["item_encoder.content_proj.bias"];
  auto& enc = m->item_encoder();
  auto all = enc->forward_all();
  EXPECT_TRUE(torch::equal(all[5], missing));
  EXPECT_TRUE(torch::equal(all[12], missing));
  auto c0 = torch::tensor({t.content[0], t.content[1], t.content[2]});
  EXPECT_TRUE(torch::allclose(all[0], w.matmul(c0) + b, 1e-5, 1e-6));
  auto items = torch::tensor({12, 0, 5, 19}, torch::kInt64);
  auto direct = enc->forward_items(items);
  EXPECT_TRUE(torch::allclose(direct, all.index_select(0, items), 1e-5, 1e-6));
  // Only missing items train content_missing; they give the projection no gradient.
  m->zero_grad();
  enc->forward_items(torch::tensor({5}, torch::kInt64)).sum().backward();
  EXPECT_GT(missing.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(w.grad().abs().sum().item<float>(), 0.0f);
  // The sparse item table's path: id rows from outside (external table) plus the same content
  // term, missing-content vector included.
  auto ext = c;
  ext.use_item_id = true;
  ext.external_item_table = true;
  torch::manual_seed(3);
  SeqModel sparse(ext, ItemFeatures::from_table(t));
  auto id_rows = torch::randn({4, 16});
  auto with_ids = sparse->item_encoder()->forward_items(items, id_rows);
  auto sp = sparse->named_parameters();
  EXPECT_TRUE(
      torch::allclose(with_ids[2] - id_rows[2], sp["item_encoder.content_missing"], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(
      with_ids[1] - id_rows[1],
      sp["item_encoder.content_proj.weight"].matmul(c0) + sp["item_encoder.content_proj.bias"],
      1e-5, 1e-6));
  // Without the switch there is no such parameter (older checkpoints keep loading).
  c.content_missing = false;
  SeqModel plain(c, ItemFeatures::from_table(t));
  EXPECT_FALSE(plain->named_parameters().contains("item_encoder.content_missing"));
}

// Item text: the mean of the item's piece embeddings (empty text: zeros), the same on the catalog
// pass and the touched-items path; the checkpoint key is item_encoder.text.weight.
TEST(ItemEncoder, TextBagIsTheMeanOfPieceEmbeddings) {
  auto t = make_table();
  t.text_vocab = 9;
  t.text_offsets.push_back(0);
  for (int64_t i = 0; i < kItems; ++i) {
    if (i % 4 != 2) {  // items 2, 6, 10, ... have no text
      for (int64_t k = 0; k < 1 + i % 5; ++k)
        t.text_ids.push_back(static_cast<int32_t>((i + 2 * k) % 9));
    }
    t.text_offsets.push_back(static_cast<int64_t>(t.text_ids.size()));
  }
  auto c = make_config();
  c.use_item_id = c.use_category = c.use_attributes = c.use_content = c.item_norm = false;
  c.num_text_tokens = 9;
  EXPECT_EQ(from_ini(to_ini(c), ModelConfig{}).num_text_tokens, 9);
  torch::manual_seed(4);
  SeqModel m(c, ItemFeatures::from_table(t));
  auto params = m->named_parameters();
  ASSERT_TRUE(params.contains("item_encoder.text.weight"));
  const auto w = params["item_encoder.text.weight"];
  auto all = m->item_encoder()->forward_all();
  for (int64_t i : {0, 2, 7, 19}) {
    auto want = torch::zeros({16});
    const auto b = t.text_offsets[i], e = t.text_offsets[i + 1];
    for (auto k = b; k < e; ++k) want += w[t.text_ids[k]];
    if (e > b) want /= static_cast<double>(e - b);
    EXPECT_TRUE(torch::allclose(all[i], want, 1e-5, 1e-6)) << "item " << i;
  }
  auto items = torch::tensor({19, 2, 7, 0, 7}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(m->item_encoder()->forward_items(items), all.index_select(0, items),
                              1e-5, 1e-6));
  c.use_text = false;
  c.use_content = true;
  EXPECT_FALSE(SeqModel(c, ItemFeatures::from_table(t))
                   ->named_parameters()
                   .contains("item_encoder.text.weight"));
}

TEST(SeqModel, EncodeWithSharedTableMatches) {
  auto m = make_model();
  auto ids = left_pad(kSeqs, 5);
  EXPECT_TRUE(
      torch::allclose(m->encode(ids, true), m->encode(ids, true, m->item_vectors()), 1e-5, 1e-6));
}

TEST(SeqModel, PackedHiddenIsTheRealRows) {
  auto m = make_model();
  auto ids = left_pad(kSeqs, 6);
  auto packed = m->encode_packed(ids, true);
  auto real = ids.reshape({-1}).ne(0).nonzero().reshape({-1});
  EXPECT_TRUE(torch::equal(packed.real_index, real));
  EXPECT_TRUE(
      torch::allclose(packed.hidden, m->encode(ids, true).reshape({-1, 16}).index_select(0, real)));
}

TEST(SeqModel, UserVectorsAndScores) {
  auto m = make_model();
  auto ids = left_pad(kSeqs, 6);
  auto u = m->user_vectors(ids);
  ASSERT_EQ(u.sizes(), torch::IntArrayRef({5, 16}));
  EXPECT_TRUE(torch::allclose(u, m->encode(ids, true).select(1, 5)));
  auto s = m->score_all(u);
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({5, kItems}));
  EXPECT_NEAR(s[1][4].item<float>(), u[1].dot(m->item_vectors()[4]).item<float>(), 1e-5);
  // Masked-item inference: [MASK] appended after the history, oldest column dropped at max_len.
  auto full = left_pad({{1, 2, 3, 4, 5, 6, 7, 8}}, 8);
  auto ub = m->user_vectors(full, false);
  auto expect_ids =
      torch::cat({full.narrow(1, 1, 7), torch::full({1, 1}, m->mask_token(), torch::kInt64)}, 1);
  EXPECT_TRUE(torch::allclose(ub, m->encode(expect_ids, false).select(1, 7)));
  EXPECT_THROW(m->encode(left_pad(kSeqs, 9), true), Error);
}

TEST(SeqModel, CheckpointKeys) {
  auto m = make_model();
  std::set<std::string> keys;
  for (const auto& p : m->named_parameters()) keys.insert(p.key());
  std::set<std::string> expected = {"item_encoder.item_id.weight",
                                    "item_encoder.category.weight",
                                    "item_encoder.attributes.weight",
                                    "item_encoder.content_proj.weight",
                                    "item_encoder.content_proj.bias",
                                    "item_encoder.mask_embedding",
                                    "item_encoder.norm.weight",
                                    "item_encoder.norm.bias",
                                    "positions.weight",
                                    "final_norm.weight",
                                    "final_norm.bias"};
  for (int k = 0; k < 2; ++k) {
    for (const char* mod : {"attn_norm", "qkv", "attn_out", "ffn_norm", "ffn_in", "ffn_out"}) {
      for (const char* p : {"weight", "bias"})
        expected.insert("blocks." + std::to_string(k) + "." + mod + "." + p);
    }
  }
  EXPECT_EQ(keys, expected);
  EXPECT_TRUE(m->named_buffers().is_empty());
  auto params = m->named_parameters();
  EXPECT_EQ(params["item_encoder.category.weight"].sizes(), torch::IntArrayRef({5, 16}));
  EXPECT_EQ(params["blocks.1.qkv.weight"].sizes(), torch::IntArrayRef({48, 16}));
  EXPECT_EQ(params["blocks.0.ffn_in.weight"].sizes(), torch::IntArrayRef({64, 16}));
  EXPECT_EQ(params["positions.weight"].sizes(), torch::IntArrayRef({8, 16}));
}

TEST(SeqModel, FeatureSwitchesRemoveParameters) {
  struct Case {
    const char* key;
    void (*off)(ModelConfig&);
  };
  const Case cases[] = {
      {"item_encoder.item_id.weight", [](ModelConfig& c) { c.use_item_id = false; }},
      {"item_encoder.category.weight", [](ModelConfig& c) { c.use_category = false; }},
      {"item_encoder.attributes.weight", [](ModelConfig& c) { c.use_attributes = false; }},
      {"item_encoder.content_proj.weight", [](ModelConfig& c) { c.use_content = false; }},
      {"item_encoder.content_proj.weight", [](ModelConfig& c) { c.content_dim = 0; }},
      {"item_encoder.norm.weight", [](ModelConfig& c) { c.item_norm = false; }},
  };
  for (const auto& c : cases) {
    auto cfg = make_config();
    c.off(cfg);
    auto m = make_model(cfg);
    EXPECT_EQ(m->named_parameters().find(c.key), nullptr) << c.key;
    auto h = m->encode(left_pad(kSeqs, 8), true);  // still runs
    EXPECT_TRUE(no_nan(h)) << c.key;
  }
  auto none = make_config();
  none.use_item_id = none.use_category = none.use_attributes = none.use_content = false;
  EXPECT_THROW(make_model(none), Error);
  // An id-only catalog without a table.
  auto ids_cfg = make_config();
  ids_cfg.num_categories = ids_cfg.num_attributes = ids_cfg.content_dim = 0;
  SeqModel ids_only(ids_cfg, ItemFeatures::ids_only(kItems));
  // item_id, mask_embedding, norm x2 + positions + 2 blocks x 12 + final_norm x2.
  EXPECT_EQ(ids_only->named_parameters().size(), 4u + 1u + 2 * 12u + 2u);
}

TEST(SeqModel, RawItemVectorsWithoutItemNorm) {
  auto cfg = make_config();
  cfg.item_norm = false;
  auto m = make_model(cfg);
  m->eval();
  auto params = m->named_parameters();
  // Item vectors are the plain sum of the feature embeddings: item 0's id + category + attributes
  // (+ content projection) rows, no normalisation.
  auto v = m->item_vectors();
  auto direct = m->item_encoder()->forward_items(torch::tensor({int64_t{0}}));
  EXPECT_TRUE(torch::allclose(v[0], direct[0]));
  const auto id_row = params["item_encoder.item_id.weight"][0];
  EXPECT_LT(v[0].norm().item<float>(), 1.0f);  // init_std scale, not LayerNorm's sqrt(dim)
  EXPECT_GT((v[0] - id_row).abs().max().item<float>(), 0.0f);  // side features are added
  EXPECT_TRUE(no_nan(m->encode(left_pad(kSeqs, 8), true)));
  // The switch round-trips through the checkpoint's model config text.
  EXPECT_FALSE(from_ini(to_ini(cfg)).item_norm);
  EXPECT_TRUE(from_ini(to_ini(make_config())).item_norm);
}

TEST(SeqModel, Initialisation) {
  auto m = make_model();
  auto params = m->named_parameters();
  const auto& id = params["item_encoder.item_id.weight"];
  EXPECT_LE(id.abs().max().item<float>(), 2 * 0.02f + 1e-7f);
  EXPECT_NEAR(id.std().item<float>(), 0.02f * 0.88f, 0.003f);  // truncated at 2 sd: 0.88 sd
  EXPECT_EQ(params["blocks.0.qkv.bias"].abs().max().item<float>(), 0.0f);
  // Final norm gain 1/sqrt(dim): initial logits have std ~1 (dim 16 here).
  EXPECT_FLOAT_EQ(params["final_norm.weight"].min().item<float>(), 1.0f / std::sqrt(16.0f));
  EXPECT_FLOAT_EQ(params["final_norm.weight"].max().item<float>(), 1.0f / std::sqrt(16.0f));
  EXPECT_EQ(params["item_encoder.norm.weight"].min().item<float>(), 1.0f);
  EXPECT_EQ(params["final_norm.bias"].abs().max().item<float>(), 0.0f);
}

TEST(ModelConfig, Validation) {
  auto c = make_config();
  c.heads = 3;
  EXPECT_THROW(c.validate(), Error);
  c = make_config();
  EXPECT_EQ(c.ffn_size(), 64);
  EXPECT_NE(c.summary().find("features=id+category+attributes+content"), std::string::npos);
}

// Cold start: with zero_cold_ids, an item without train interactions (popularity 0) has no id
// term -- its vector is the side features' alone, its id row is zero and gets no gradient --
// on the catalog pass, the touched-items path and the external-table path. item_id_dropout
// drops id terms only in training.
TEST(ItemEncoder, ColdItemsHaveNoIdTermAndIdDropoutOnlyTrains) {
  auto t = make_table();
  t.popularity.assign(kItems, 4);
  t.popularity[6] = 0;
  t.popularity[13] = 0;
  auto c = make_config();
  c.zero_cold_ids = true;
  EXPECT_NE(to_ini(c).find("zero-cold-ids = true"), std::string::npos);
  EXPECT_TRUE(from_ini(to_ini(c), ModelConfig{}).zero_cold_ids);
  EXPECT_EQ(to_ini(make_config()).find("zero-cold-ids"), std::string::npos);
  auto no_id = c;
  no_id.use_item_id = false;
  torch::manual_seed(5);
  SeqModel m(c, ItemFeatures::from_table(t));
  torch::manual_seed(5);
  SeqModel ref(no_id, ItemFeatures::from_table(t));
  m->eval();
  ref->eval();
  // Same side-feature weights in both (the reference has no id table).
  auto rp = ref->named_parameters();
  for (auto& kv : m->named_parameters()) {
    if (rp.contains(kv.key())) rp[kv.key()].detach().copy_(kv.value().detach());
  }
  auto& enc = m->item_encoder();
  const auto ids = m->named_parameters()["item_encoder.item_id.weight"];
  EXPECT_EQ(ids[6].abs().sum().item<float>(), 0.0f);  // zeroed, not left at the random init
  EXPECT_GT(ids[5].abs().sum().item<float>(), 0.0f);
  auto all = enc->forward_all();
  auto all_ref = ref->item_encoder()->forward_all();
  EXPECT_TRUE(torch::allclose(all[6], all_ref[6], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(all[13], all_ref[13], 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(all[5], all_ref[5], 1e-3, 1e-3));  // warm items keep their id
  auto items = torch::tensor({13, 5, 6}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(enc->forward_items(items), all.index_select(0, items), 1e-5, 1e-6));
  m->zero_grad();
  enc->forward_items(items).pow(2).sum().backward();
  EXPECT_EQ(ids.grad()[6].abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(ids.grad()[13].abs().sum().item<float>(), 0.0f);
  EXPECT_GT(ids.grad()[5].abs().sum().item<float>(), 0.0f);
  // External id rows (the sparse item table): the cold item's row is ignored too.
  auto ext = c;
  ext.external_item_table = true;
  SeqModel sparse(ext, ItemFeatures::from_table(t));
  sparse->eval();
  auto id_rows = torch::randn({3, 16});
  auto with = sparse->item_encoder()->forward_items(items, id_rows);
  auto without = sparse->item_encoder()->forward_items(items, torch::zeros({3, 16}));
  EXPECT_TRUE(torch::allclose(with[0], without[0], 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(with[2], without[2], 1e-6, 1e-7));
  EXPECT_FALSE(torch::allclose(with[1], without[1], 1e-3, 1e-3));
  // Id dropout: in training about p of the id terms are dropped; in eval none.
  auto d = make_config();
  d.item_id_dropout = 0.5;
  EXPECT_NE(to_ini(d).find("item-id-dropout = 0.5"), std::string::npos);
  torch::manual_seed(7);
  SeqModel drop(d, ItemFeatures::from_table(make_table()));
  auto denc = drop->item_encoder();
  drop->eval();
  auto kept = denc->forward_all();
  {
    torch::NoGradGuard g;
    drop->named_parameters()["item_encoder.item_id.weight"].zero_();
  }
  auto dropped = denc->forward_all();  // every row without its id term
  // The same weights in training mode: each row equals either its kept or its dropped vector.
  torch::manual_seed(7);
  SeqModel drop2(d, ItemFeatures::from_table(make_table()));
  drop2->train();
  int64_t equal_rows = 0;
  auto& e2 = drop2->item_encoder();
  const auto tr = e2->forward_all();
  for (int64_t i = 0; i < kItems; ++i) {
    const bool was_dropped = torch::allclose(tr[i], dropped[i], 1e-5, 1e-6);
    EXPECT_TRUE(was_dropped || torch::allclose(tr[i], kept[i], 1e-5, 1e-6)) << "row " << i;
    equal_rows += was_dropped ? 1 : 0;
  }
  EXPECT_GT(equal_rows, 2);  // about half of 20 rows (P(<= 2) ~ 2e-4)
  EXPECT_LT(equal_rows, kItems - 2);
  drop2->eval();
  EXPECT_TRUE(torch::allclose(e2->forward_all(), kept, 1e-5, 1e-6));
}
