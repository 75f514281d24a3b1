// ItemFeatures::from_table taking the table's content (TableContent::kTake): 16-bit patterns
// adopted without a copy, fp32 values converted, the table emptied; copies leave the table as it
// was, and so does an error. Expected values are the table's own numbers (no model involved).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/check.h"
#include "data_shards/dataset.h"
#include "data_shards/test_util.h"
#include "trainer/model/item_features.h"
#include "trainer/model/seq_model.h"

using namespace divrec;
using divrec::model::ItemFeatures;
using divrec::model::TableContent;
using divrec::testing::error_of;

namespace {

// 5 items x 4-d content, no attributes; `bits`: bf16 patterns (ContentRead::kStored) instead of
// fp32 values. bf16 pattern p widens to the fp32 whose upper 16 bits are p (values chosen exact).
data::ItemTable make_table(bool bits) {
  data::ItemTable t;
  t.num_items = 5;
  t.num_categories = 2;
  t.content_dim = 4;
  t.attr_offsets.assign(6, 0);
  for (int i = 0; i < 5; ++i) t.category.push_back(i % 2);
  const std::vector<float> values = {1.0f, -2.0f, 0.5f, 0.25f, 3.0f};
  for (int i = 0; i < 5; ++i) {
    for (int d = 0; d < 4; ++d) t.content.push_back(values[(i + d) % 5]);
  }
  t.content_dtype = data::ContentDtype::kBFloat16;
  if (bits) {
    // 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00, 0.25 = 0x3E80, 3.0 = 0x4040 (IEEE bf16).
    const std::vector<uint16_t> patterns = {0x3F80, 0xC000, 0x3F00, 0x3E80, 0x4040};
    for (int i = 0; i < 5; ++i) {
      for (int d = 0; d < 4; ++d) t.content_bits.push_back(patterns[(i + d) % 5]);
    }
    t.content.clear();
  }
  return t;
}

torch::Tensor expected_content() {
  const auto t = make_table(false);
  return torch::tensor(t.content).view({5, 4});
}

TEST(ItemFeaturesTake, SixteenBitPatternsAreAdoptedWithoutACopy) {
  auto t = make_table(true);
  const void* patterns = t.content_bits.data();
  const auto f = ItemFeatures::from_table(t, TableContent::kTake);
  EXPECT_EQ(f.content.data_ptr(), patterns);  // the vector's own buffer, now the tensor's
  EXPECT_EQ(f.content.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(f.content.to(torch::kFloat32), expected_content()));
  EXPECT_TRUE(t.content_bits.empty() && t.content_bits.capacity() == 0);
  EXPECT_EQ(t.content_dim, 4);  // the rest of the table stays
  EXPECT_EQ(t.category.size(), 5u);
}

TEST(ItemFeaturesTake, AdoptedContentOutlivesTheTableAndCopies) {
  torch::Tensor content;
  {
    auto t = make_table(true);
    content = ItemFeatures::from_table(t, TableContent::kTake).content;
  }  // table and features gone: the tensor owns the patterns (ASan builds catch a dangling one)
  EXPECT_TRUE(torch::equal(content.to(torch::kFloat32), expected_content()));
  EXPECT_NE(content.storage().data_ptr().get_deleter(), nullptr);  // its own deleter frees them
}

TEST(ItemFeaturesTake, Fp32ValuesAreConvertedAndFreed) {
  auto t = make_table(false);
  const auto f = ItemFeatures::from_table(t, TableContent::kTake);
  EXPECT_EQ(f.content.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(f.content.to(torch::kFloat32), expected_content()));
  EXPECT_TRUE(t.content.empty() && t.content.capacity() == 0);
}

TEST(ItemFeaturesTake, CopyingLeavesTheTableAsItWas) {
  for (bool bits : {false, true}) {
    auto t = make_table(bits);
    const auto before = make_table(bits);
    const auto f = ItemFeatures::from_table(t, TableContent::kCopy);
    const auto g = ItemFeatures::from_table(static_cast<const data::ItemTable&>(t));
    EXPECT_EQ(t.content, before.content);
    EXPECT_EQ(t.content_bits, before.content_bits);
    if (bits) {
      EXPECT_NE(f.content.data_ptr(), static_cast<const void*>(t.content_bits.data()));
    }
    EXPECT_TRUE(torch::equal(f.content, g.content));
    EXPECT_TRUE(torch::equal(f.content.to(torch::kFloat32), expected_content()));
  }
}

TEST(ItemFeaturesTake, AnErrorLeavesTheTableAsItWas) {
  for (bool bits : {false, true}) {  // true: the adopting path, which moves the patterns
    auto t = make_table(bits);
    t.has_content.assign(3, 1);  // 3 entries for 5 items: the last check before the content
    const auto before_values = t.content;
    const auto before_bits = t.content_bits;
    EXPECT_THROW(ItemFeatures::from_table(t, TableContent::kTake), Error);
    EXPECT_EQ(t.content, before_values);
    EXPECT_EQ(t.content_bits, before_bits);
  }
}

// ItemEncoder::release_content (serving): encoding histories from given item-vector rows is
// unchanged; projecting content (item_vectors) throws with the hint instead of using zeros.
TEST(ItemFeaturesTake, ReleasedContentEncodesFromItemVectorsOnly) {
  model::ModelConfig c;
  c.num_items = 5;
  c.num_categories = 2;
  c.content_dim = 4;
  c.dim = 8;
  c.heads = 2;
  c.layers = 1;
  c.max_len = 4;
  auto t = make_table(true);
  torch::manual_seed(5);
  model::SeqModel m(c, ItemFeatures::from_table(t, TableContent::kTake));
  m->eval();
  torch::NoGradGuard no_grad;
  const auto table = m->item_vectors();
  const auto ids = model::SeqModel::Impl::to_input_ids(torch::tensor({{0, 3, 1}}, torch::kInt64));
  const auto before = m->encode(ids, /*causal=*/true, table);
  m->item_encoder()->release_content();
  EXPECT_TRUE(torch::equal(m->encode(ids, /*causal=*/true, table), before));
  const auto error = error_of([&] { m->item_vectors(); });
  EXPECT_NE(error.find("content vectors were released"), std::string::npos) << error;
  EXPECT_NE(error.find("rebuild the model"), std::string::npos) << error;

  // With a learned missing-content vector (has_content released as well) the same error.
  c.content_missing = true;
  auto u = make_table(true);
  u.has_content = {1, 0, 1, 1, 0};
  model::SeqModel missing(c, ItemFeatures::from_table(u, TableContent::kTake));
  missing->eval();
  const auto with_missing = missing->item_vectors();
  const auto before_missing = missing->encode(ids, /*causal=*/true, with_missing);
  missing->item_encoder()->release_content();
  EXPECT_TRUE(torch::equal(missing->encode(ids, /*causal=*/true, with_missing), before_missing));
  EXPECT_NE(error_of([&] { missing->item_vectors(); }).find("content vectors were released"),
            std::string::npos);
}

}  // namespace
