// ItemFeatures: the item table's side information as tensors, built once per dataset and
// shared read-only by the item encoder (category index, attribute bags, content vectors).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace divrec::data {
struct ItemTable;
enum class ContentDtype : int8_t;
}

namespace divrec::model {

// torch dtype of content stored as `dtype` (fp32 -> kFloat32, fp16 -> kHalf, bf16 -> kBFloat16).
torch::ScalarType content_scalar_type(data::ContentDtype dtype);

// Whether ItemFeatures::from_table copies the item table's content vectors or takes them over.
enum class TableContent {
  kCopy,  // the table keeps its content (export writes it back; tests reuse their tables)
  kTake,  // moved into the features, the table's content and content_bits empty afterwards:
          // 16-bit patterns (ContentRead::kStored) are adopted without a copy, fp32 values are
          // converted to content_dtype and freed. For train / eval / serve, where the model's
          // copy is the only one needed (the largest array of a foundation-model catalog).
};

struct ItemFeatures {
  int64_t num_items = 0;
  int64_t num_categories = 0;  // real categories; index num_categories means "no category"
  int64_t num_attributes = 0;
  int64_t content_dim = 0;
  int64_t num_text_tokens = 0;  // item text vocabulary; 0 = no item text

  torch::Tensor category;      // [I] int64 in [0, C]; C = the dedicated "none" index
  torch::Tensor attr_ids;      // [nnz] int64 in [0, A), all items' attributes concatenated
  torch::Tensor attr_offsets;  // [I + 1] int64 CSR row pointers into attr_ids (last = nnz)
  // [I, content_dim] float32, float16 or bfloat16 (the table's content_dtype); undefined when
  // content_dim == 0
  torch::Tensor content;
  torch::Tensor text_ids;      // [nnz] int64 piece ids, all items' texts concatenated
  torch::Tensor text_offsets;  // [I + 1] int64 CSR row pointers into text_ids
  torch::Tensor has_content;   // [I] bool (false = no vector, zero row); defined with content
  // [I] bool: the item has train interactions (popularity > 0); all true when the table has no
  // popularity. ModelConfig::zero_cold_ids drops the id term of the others.
  torch::Tensor id_known;

  // Copies the table's arrays (int32 -> int64; -1 categories -> num_categories). Checks
  // sizes and id ranges and names the offending item (core::Error).
  static ItemFeatures from_table(const data::ItemTable& table);
  // The same; with TableContent::kTake the content vectors are moved out of `table` (above).
  // On an error the table is left as it was.
  static ItemFeatures from_table(data::ItemTable& table, TableContent content);
  // A catalog with ids only (no side information), for tests and id-only models.
  static ItemFeatures ids_only(int64_t num_items);

  // Bag offsets for torch::nn::EmbeddingBag (the first I row pointers; empty bags give zeros).
  torch::Tensor bag_offsets() const { return attr_offsets.narrow(0, 0, num_items); }
  torch::Tensor text_bag_offsets() const { return text_offsets.narrow(0, 0, num_items); }
  ItemFeatures to(const torch::Device& device) const;
  torch::Device device() const { return category.device(); }

 private:
  // from_table's body; `adopt_bits` (nullptr = copy) is the table's content_bits to move in.
  static ItemFeatures build(const data::ItemTable& table, std::vector<uint16_t>* adopt_bits);
};

}  // namespace divrec::model
