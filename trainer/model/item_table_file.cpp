// Sparse item table shard files (see item_table_file.h).
#include "trainer/model/item_table_file.h"

#include <fmt/format.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "trainer/model/checkpoint_files.h"

namespace divrec::model {

std::string ItemTableLayout::to_json() const {
  nlohmann::json j = {{"num_rows", num_rows}, {"dim", dim},
                      {"shards", shards},     {"step", step},
                      {"sharding", sharding}, {"optimizer", optimizer}};
  return j.dump();
}

ItemTableLayout ItemTableLayout::from_json(const std::string& text) {
  ItemTableLayout l;
  try {
    auto j = nlohmann::json::parse(text);
    l.num_rows = j.at("num_rows").get<int64_t>();
    l.dim = j.at("dim").get<int64_t>();
    l.shards = j.at("shards").get<int>();
    l.step = j.at("step").get<int64_t>();
    l.sharding = j.at("sharding").get<std::string>();
    l.optimizer = j.at("optimizer").get<std::string>();
  } catch (const std::exception& e) {
    DIVREC_FAIL("item table layout '", text, "' is not readable: ", e.what());
  }
  DIVREC_CHECK(l.num_rows > 0 && l.dim > 0 && l.shards > 0, "item table layout '", text,
               "' has non-positive sizes");
  return l;
}

std::string item_table_shard_path(const std::string& checkpoint, const ItemTableLayout& layout,
                                  int shard) {
  return fmt::format("{}.items-{}.{}-of-{}", checkpoint, layout.step, shard, layout.shards);
}

std::vector<std::string> list_item_table_files(const std::string& checkpoint) {
  std::vector<std::string> out;
  const auto p = std::filesystem::path(checkpoint);
  const auto prefix = p.filename().string() + ".items-";
  const auto dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path().string());
  }
  return out;
}

std::string serialize_item_table_shard(const ItemTableLayout& layout, int shard,
                                       const torch::Tensor& weight, const NamedTensors& state) {
  const int64_t rows = layout.rows_of(shard);
  DIVREC_CHECK(weight.dim() == 2 && weight.size(0) == rows && weight.size(1) == layout.dim,
               "item table shard ", shard, ": weight must be [", rows, ", ", layout.dim, "], got ",
               weight.sizes());
  torch::serialize::OutputArchive ar;
  nlohmann::json meta = nlohmann::json::parse(layout.to_json());
  meta["shard"] = shard;
  auto names = nlohmann::json::array();
  // Host copies: a shard written from a GPU table loads on any machine.
  ar.write("weight", weight.detach().to(torch::kCPU).contiguous(), /*is_buffer=*/true);
  for (const auto& [name, t] : state) {
    DIVREC_CHECK(t.size(0) == rows, "item table shard ", shard, ": state '", name, "' has ",
                 t.size(0), " rows, expected ", rows);
    names.push_back(name);
    ar.write("state/" + name, t.detach().to(torch::kCPU).contiguous(), /*is_buffer=*/true);
  }
  meta["state"] = names;
  ar.write("meta", c10::IValue(meta.dump()));
  std::string payload;
  ar.save_to([&](const void* data, size_t n) {
    payload.append(static_cast<const char*>(data), n);
    return n;
  });
  return frame_checkpoint(std::move(payload));
}

ItemTableShard read_item_table_shard(const std::string& checkpoint, const ItemTableLayout& layout,
                                     int shard, bool with_state) {
  const auto path = item_table_shard_path(checkpoint, layout, shard);
  std::string payload = read_checkpoint_payload(path);  // checksum first
  ItemTableShard out;
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(payload.data(), payload.size(), torch::Device(torch::kCPU));
    c10::IValue v;
    ar.read("meta", v);
    auto meta = nlohmann::json::parse(v.toStringRef());
    DIVREC_CHECK(meta.at("shard").get<int>() == shard &&
                     meta.at("shards").get<int>() == layout.shards &&
                     meta.at("num_rows").get<int64_t>() == layout.num_rows &&
                     meta.at("dim").get<int64_t>() == layout.dim,
                 "it belongs to another layout: ", meta.dump());
    ar.read("weight", out.weight, /*is_buffer=*/true);
    DIVREC_CHECK(out.weight.sizes() == torch::IntArrayRef({layout.rows_of(shard), layout.dim}),
                 "weight is ", out.weight.sizes(), ", expected [", layout.rows_of(shard), ", ",
                 layout.dim, "]");
    if (with_state) {
      for (const auto& n : meta.at("state")) {
        torch::Tensor t;
        ar.read("state/" + n.get<std::string>(), t, /*is_buffer=*/true);
        out.state.emplace_back(n.get<std::string>(), t);
      }
    }
  } catch (const std::exception& e) {
    DIVREC_FAIL("item table file '", path, "' passed its checksum but cannot be used: ", e.what());
  }
  return out;
}

ItemTableShard read_item_table_rows(const std::string& checkpoint, const ItemTableLayout& layout,
                                    int rank, int world, bool with_state) {
  DIVREC_CHECK(world >= 1 && rank >= 0 && rank < world, "item table: bad rank ", rank, " of ",
               world);
  const int S = layout.shards;
  const int64_t n_out = layout.num_rows > rank ? (layout.num_rows - rank + world - 1) / world : 0;
  ItemTableShard out;
  out.weight = torch::empty({n_out, layout.dim}, torch::kFloat32);
  for (int s = 0; s < S; ++s) {
    auto shard = read_item_table_shard(checkpoint, layout, s, with_state);
    const int64_t rows = layout.rows_of(s);
    if (rows == 0) continue;
    // Shard s holds global rows g = j S + s; this rank wants g = k world + rank.
    const auto g = torch::arange(rows, torch::kInt64) * S + s;
    const auto keep = g.remainder(world).eq(rank);
    const auto src = torch::nonzero(keep).flatten();
    const auto dst = g.index_select(0, src).div(world, "floor");
    out.weight.index_copy_(0, dst, shard.weight.index_select(0, src));
    if (!with_state) continue;
    if (out.state.empty()) {
      for (const auto& [name, t] : shard.state) {
        auto sizes = t.sizes().vec();
        sizes[0] = n_out;
        out.state.emplace_back(name, torch::empty(sizes, t.options()));
      }
    }
    DIVREC_CHECK(out.state.size() == shard.state.size(), "item table shards of '", checkpoint,
                 "' hold different optimizer states");
    for (size_t i = 0; i < shard.state.size(); ++i) {
      out.state[i].second.index_copy_(0, dst, shard.state[i].second.index_select(0, src));
    }
  }
  return out;
}

}  // namespace divrec::model
