// Building ItemFeatures from the dataset's ItemTable (see item_features.h).
#include "trainer/model/item_features.h"

#include <utility>

#include "core/check.h"
#include "data_shards/dataset.h"

namespace divrec::model {

torch::ScalarType content_scalar_type(data::ContentDtype dtype) {
  switch (dtype) {
    case data::ContentDtype::kFloat16:
      return torch::kHalf;
    case data::ContentDtype::kBFloat16:
      return torch::kBFloat16;
    default:
      return torch::kFloat32;
  }
}

ItemFeatures ItemFeatures::from_table(const data::ItemTable& table) {
  return build(table, nullptr);
}

ItemFeatures ItemFeatures::from_table(data::ItemTable& table, TableContent content) {
  if (content == TableContent::kCopy) return build(table, nullptr);
  ItemFeatures f = build(table, &table.content_bits);
  // Adopted (content_bits is moved-from) or converted (fp32 content): free the table's arrays.
  std::vector<float>().swap(table.content);
  std::vector<uint16_t>().swap(table.content_bits);
  return f;
}

ItemFeatures ItemFeatures::build(const data::ItemTable& table, std::vector<uint16_t>* adopt_bits) {
  const int64_t n = table.num_items;
  DIVREC_CHECK(n > 0, "item table: num_items must be positive, got ", n);
  DIVREC_CHECK(static_cast<int64_t>(table.category.size()) == n, "item table: category has ",
               table.category.size(), " entries, expected num_items = ", n);
  DIVREC_CHECK(static_cast<int64_t>(table.attr_offsets.size()) == n + 1,
               "item table: attr_offsets has ", table.attr_offsets.size(),
               " entries, expected num_items + 1 = ", n + 1);
  DIVREC_CHECK(table.attr_offsets.front() == 0 &&
                   table.attr_offsets.back() == static_cast<int64_t>(table.attr_ids.size()),
               "item table: attr_offsets must start at 0 and end at attr_ids.size() = ",
               table.attr_ids.size());
  const bool stored_bits = !table.content_bits.empty();  // read with ContentRead::kStored
  const size_t content_values = stored_bits ? table.content_bits.size() : table.content.size();
  DIVREC_CHECK(
      table.content_dim >= 0 && static_cast<int64_t>(content_values) == n * table.content_dim &&
          (!stored_bits || table.content.empty()),
      "item table: content has ", content_values, " values", stored_bits ? " (16-bit) and " : "",
      stored_bits ? table.content.size() : 0, stored_bits ? " widened ones" : "",
      ", expected num_items * content_dim = ", n, " * ", table.content_dim);
  DIVREC_CHECK(!stored_bits || table.content_dtype != data::ContentDtype::kFloat32,
               "item table: 16-bit content patterns with content_dtype fp32");

  ItemFeatures f;
  f.num_items = n;
  f.num_categories = table.num_categories;
  f.num_attributes = table.num_attributes;
  f.content_dim = table.content_dim;

  f.category = torch::empty({n}, torch::kInt64);
  auto* cat = f.category.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int32_t c = table.category[i];
    DIVREC_CHECK(c >= -1 && c < table.num_categories, "item table: item ", i, " has category ", c,
                 ", expected -1 or [0, ", table.num_categories, ")");
    cat[i] = c < 0 ? table.num_categories : c;
  }

  const int64_t nnz = static_cast<int64_t>(table.attr_ids.size());
  f.attr_offsets = torch::empty({n + 1}, torch::kInt64);
  auto* off = f.attr_offsets.data_ptr<int64_t>();
  for (int64_t i = 0; i <= n; ++i) {
    off[i] = table.attr_offsets[i];
    DIVREC_CHECK(i == 0 || off[i] >= off[i - 1], "item table: attr_offsets decrease at item ",
                 i - 1);
  }
  f.attr_ids = torch::empty({nnz}, torch::kInt64);
  auto* ids = f.attr_ids.data_ptr<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    const int32_t a = table.attr_ids[k];
    DIVREC_CHECK(a >= 0 && a < table.num_attributes, "item table: attribute entry ", k, " is ", a,
                 ", expected [0, ", table.num_attributes, ")");
    ids[k] = a;
  }

  if (table.text_vocab > 0) {
    DIVREC_CHECK(static_cast<int64_t>(table.text_offsets.size()) == n + 1 &&
                     table.text_offsets.back() == static_cast<int64_t>(table.text_ids.size()),
                 "item table: text_offsets must have num_items + 1 = ", n + 1,
                 " entries ending at text_ids.size() = ", table.text_ids.size());
    f.num_text_tokens = table.text_vocab;
    f.text_offsets = torch::tensor(table.text_offsets, torch::kInt64);
    f.text_ids = torch::tensor(std::vector<int64_t>(table.text_ids.begin(), table.text_ids.end()),
                               torch::kInt64);
    DIVREC_CHECK(table.text_ids.empty() || (f.text_ids.min().item<int64_t>() >= 0 &&
                                            f.text_ids.max().item<int64_t>() < table.text_vocab),
                 "item table: text ids must be in [0, ", table.text_vocab, ")");
  }
  DIVREC_CHECK(table.popularity.empty() || static_cast<int64_t>(table.popularity.size()) == n,
               "item table: popularity has ", table.popularity.size(),
               " entries, expected num_items = ", n);
  f.id_known = table.popularity.empty()
                   ? torch::ones({n}, torch::kBool)
                   : torch::from_blob(const_cast<int64_t*>(table.popularity.data()), {n},
                                      torch::kInt64)
                         .gt(0);
  if (table.content_dim > 0) {
    // An empty has_content (tables built in code) means every item has its vector.
    DIVREC_CHECK(table.has_content.empty() || static_cast<int64_t>(table.has_content.size()) == n,
                 "item table: has_content has ", table.has_content.size(),
                 " entries, expected num_items = ", n);
    f.has_content =
        table.has_content.empty()
            ? torch::ones({n}, torch::kBool)
            : torch::from_blob(const_cast<uint8_t*>(table.has_content.data()), {n}, torch::kUInt8)
                  .to(torch::kBool);
    // The model's resident copy keeps the stored precision (fp16/bf16 halve it); the item
    // encoder widens the rows it gathers (item_encoder.cpp). Exact: the values are rounded.
    // 16-bit patterns are copied as they are, or adopted (2 bytes per value: no fp32 copy ever
    // exists); the tensor then owns the vector and frees it with its storage.
    const auto type = content_scalar_type(table.content_dtype);
    const std::vector<int64_t> shape{n, table.content_dim};
    if (stored_bits && adopt_bits != nullptr) {
      // The last step: everything else is built, so an error leaves the table as it was (but
      // for an allocation failure inside from_blob, which frees the patterns once, through the
      // deleter: the vector is owned by the deleter from the start, never by two owners).
      auto* vec = new std::vector<uint16_t>(std::move(*adopt_bits));
      f.content = torch::from_blob(
          vec->data(), shape, [vec](void*) { delete vec; }, torch::TensorOptions(type));
    } else if (stored_bits) {
      f.content =
          torch::from_blob(const_cast<uint16_t*>(table.content_bits.data()), shape, type).clone();
    } else {
      f.content = torch::from_blob(const_cast<float*>(table.content.data()), shape, torch::kFloat32)
                      .to(type, /*non_blocking=*/false, /*copy=*/true);
    }
  }
  return f;
}

ItemFeatures ItemFeatures::ids_only(int64_t num_items) {
  DIVREC_CHECK(num_items > 0, "ItemFeatures::ids_only: num_items must be positive, got ",
               num_items);
  ItemFeatures f;
  f.num_items = num_items;
  f.category = torch::zeros({num_items}, torch::kInt64);  // all "none" (num_categories = 0)
  f.attr_offsets = torch::zeros({num_items + 1}, torch::kInt64);
  f.attr_ids = torch::zeros({0}, torch::kInt64);
  f.id_known = torch::ones({num_items}, torch::kBool);
  return f;
}

ItemFeatures ItemFeatures::to(const torch::Device& device) const {
  ItemFeatures f = *this;
  f.category = category.to(device);
  f.attr_ids = attr_ids.to(device);
  f.attr_offsets = attr_offsets.to(device);
  if (content.defined()) f.content = content.to(device);
  if (has_content.defined()) f.has_content = has_content.to(device);
  if (id_known.defined()) f.id_known = id_known.to(device);
  if (text_ids.defined()) {
    f.text_ids = text_ids.to(device);
    f.text_offsets = text_offsets.to(device);
  }
  return f;
}

}  // namespace divrec::model
