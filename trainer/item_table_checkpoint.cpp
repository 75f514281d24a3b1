// The sparse item table in checkpoints (see item_table_checkpoint.h).
#include "trainer/item_table_checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainer/model/item_table_file.h"

namespace fs = std::filesystem;

namespace divrec::trainer {

namespace {

model::ItemTableLayout layout_of(const ShardedItemTable& table, int64_t step,
                                 const std::string& optimizer) {
  model::ItemTableLayout l;
  l.num_rows = table.plan().num_rows;
  l.dim = table.dim();
  l.shards = table.plan().row_wise() ? table.plan().world : 1;
  l.step = step;
  l.sharding = sharding_name(table.plan().kind);
  l.optimizer = optimizer;
  return l;
}

}  // namespace

void load_item_table(const std::string& checkpoint, const LoadReport& report,
                     ShardedItemTable& table, bool with_state) {
  const auto& plan = table.plan();
  const int world = plan.row_wise() ? plan.world : 1;
  const int rank = plan.row_wise() ? plan.rank : 0;
  torch::NoGradGuard no_grad;
  if (report.item_table_layout.empty()) {
    DIVREC_CHECK_HINT(report.dense_item_table.defined(),
                      "train with the item-id feature switched the same way as the checkpoint",
                      "checkpoint '", checkpoint, "' has no item-id table");
    const auto& full = report.dense_item_table;
    DIVREC_CHECK(full.dim() == 2 && full.size(0) == plan.num_rows && full.size(1) == table.dim(),
                 "checkpoint '", checkpoint, "': item-id table is ", full.sizes(), ", expected [",
                 plan.num_rows, ", ", table.dim(), "]");
    table.weight().copy_(full.index_select(0, torch::arange(rank, plan.num_rows, world)));
    return;
  }
  const auto layout = model::ItemTableLayout::from_json(report.item_table_layout);
  DIVREC_CHECK_HINT(layout.num_rows == plan.num_rows && layout.dim == table.dim(),
                    "resume on the dataset and model size the checkpoint was trained with",
                    "checkpoint '", checkpoint, "': item table of ", layout.num_rows, " x ",
                    layout.dim, ", this run has ", plan.num_rows, " x ", table.dim());
  const bool state = with_state && layout.optimizer == table.optimizer().config().kind;
  if (with_state && !state) {
    core::log0("checkpoint '{}': sparse optimizer state ({}) not loaded into {}", checkpoint,
               layout.optimizer, table.optimizer().config().kind);
  }
  auto rows = model::read_item_table_rows(checkpoint, layout, rank, world, state);
  table.weight().copy_(rows.weight);
  if (state) table.optimizer().load_state(rows.state);
}


// Removes a checkpoint's item-table shard files, except those of `keep` (a layout JSON).
void remove_item_table_files(const std::string& checkpoint, const std::string& keep_layout) {
  std::set<std::string> keep;
  if (!keep_layout.empty()) {
    auto l = model::ItemTableLayout::from_json(keep_layout);
    for (int s = 0; s < l.shards; ++s) keep.insert(model::item_table_shard_path(checkpoint, l, s));
  }
  for (const auto& f : model::list_item_table_files(checkpoint)) {
    if (!keep.count(f)) fs::remove(f);
  }
}


std::string save_item_table_shards(core::Communicator& comm, ShardedItemTable& table,
                                   const std::string& checkpoint, const std::string& best,
                                   int64_t step, std::string* error) {
  const auto layout = layout_of(table, step, table.optimizer().config().kind);
  std::string mine;
  if (table.plan().row_wise() || comm.rank() == 0) {
    const int shard = table.plan().row_wise() ? comm.rank() : 0;
    try {
      core::make_dirs(std::filesystem::path(checkpoint).parent_path().string());
      std::string bytes = model::serialize_item_table_shard(layout, shard, table.weight(),
                                                            table.optimizer().state());
      write_checkpoint_file(model::item_table_shard_path(checkpoint, layout, shard), bytes);
      if (!best.empty()) {
        write_checkpoint_file(model::item_table_shard_path(best, layout, shard), bytes);
      }
    } catch (const std::exception& e) {
      mine = fmt::format("rank {}: {}", comm.rank(), e.what());
    }
  }
  int64_t failed = mine.empty() ? 0 : 1;
  failed = core::allreduce_scalar(comm, failed, core::ReduceOp::kSum);
  if (!mine.empty()) {
    *error = mine;
  } else if (failed > 0) {
    *error = "another rank failed to write its item-table shard (see its log)";
  }
  return layout.to_json();
}

}  // namespace divrec::trainer
