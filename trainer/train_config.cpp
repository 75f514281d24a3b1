// Resolution and validation of the item-table options of TrainConfig (see train_config.h).
#include "trainer/train_config.h"

#include "core/check.h"
#include "trainer/sharding_plan.h"

namespace divrec::trainer {

void resolve_item_table(TrainConfig& cfg, int64_t num_items) {
  DIVREC_CHECK_HINT(cfg.item_table == "auto" || cfg.item_table == "sparse" ||
                        cfg.item_table == "dense",
                    "use auto, sparse or dense", "--item-table '", cfg.item_table,
                    "' is unknown");
  const Sharding sharding = parse_sharding(cfg.embedding_sharding);
  DIVREC_CHECK_HINT(cfg.sparse_optimizer == "lazy-adam" || cfg.sparse_optimizer == "rowwise-adagrad",
                    "use lazy-adam or rowwise-adagrad", "--sparse-optimizer '",
                    cfg.sparse_optimizer, "' is unknown");
  item_table_device(cfg, torch::kCPU, "");  // validates --item-table-memory
  DIVREC_CHECK_HINT(cfg.in_batch_negatives >= 0, "pass --in-batch-negatives >= 0",
                    "--in-batch-negatives ", cfg.in_batch_negatives, " is negative");
  const bool needs_catalog = cfg.loss == "full-ce" || cfg.calibration_weight > 0;
  if (cfg.loss == "full-ce") {
    DIVREC_CHECK_HINT(num_items <= kMaxFullCeItems,
                      "use --loss sampled-softmax (with --num-negatives) for large catalogs",
                      "--loss full-ce builds [targets, items] logits every step; the catalog has ",
                      num_items, " items, above the limit of ", kMaxFullCeItems);
  }
  if (cfg.item_table == "auto") {
    cfg.sparse_item_table = !needs_catalog;
  } else {
    cfg.sparse_item_table = cfg.item_table == "sparse";
  }
  DIVREC_CHECK_HINT(!(cfg.sparse_item_table && needs_catalog),
                    "use --item-table dense (or auto) with full-ce / calibration, or "
                    "--loss sampled-softmax without --calibration-weight",
                    "--item-table sparse cannot serve --loss ", cfg.loss,
                    cfg.calibration_weight > 0 ? " with --calibration-weight" : "",
                    ": both need every item's score each step");
  DIVREC_CHECK_HINT(cfg.sparse_item_table || sharding == Sharding::kReplicated,
                    "row sharding needs the sparse item table: --loss sampled-softmax or bce "
                    "without --calibration-weight (vocabulary-parallel full softmax is not built)",
                    "--embedding-sharding row with a dense item table (loss ", cfg.loss, ")");
}

torch::Device item_table_device(const TrainConfig& cfg, torch::Device device,
                                const std::string& backend) {
  const auto& m = cfg.item_table_memory;
  DIVREC_CHECK_HINT(m == "auto" || m == "device" || m == "host", "use auto, device or host",
                    "--item-table-memory '", m, "' is unknown");
  if (m == "host" || device.is_cpu()) return torch::kCPU;
  if (backend == "nccl") return device;
  DIVREC_CHECK_HINT(m == "auto", "use --comm nccl (or auto) or --item-table-memory host",
                    "--item-table-memory device on ", device, " needs a backend that moves ",
                    "CUDA tensors; this run's is '", backend, "'");
  return torch::kCPU;
}

}  // namespace divrec::trainer
