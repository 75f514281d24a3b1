// `divrec train`: options -> TrainConfig, communicator + threads, the training loop, exit code.
// Exit codes: 0 finished, 3 preempted with a checkpoint written (the Slurm scripts requeue).
#include <fmt/format.h>

#include "core/comm/factory.h"
#include "core/log.h"
#include "core/threads.h"
#include "launcher/commands.h"
#include "trainer/trainer.h"

namespace divrec::launcher {

int cmd_train(const Args& args) {
  trainer::TrainConfig c;
  auto& m = c.model;
  std::string comm_kind = "auto";
  po::options_description d;
  // clang-format off
  d.add_options()
    ("data", po::value(&c.data_dir)->required(), "dataset directory (divrec shard convert)")
    ("output", po::value(&c.run_dir)->required(), "run directory (checkpoints, metrics.jsonl)")
    ("objective", po::value(&c.objective)->default_value(c.objective), "next-item | masked-item")
    ("loss", po::value(&c.loss)->default_value(c.loss), "bce | sampled-softmax | full-ce")
    ("epochs", po::value(&c.epochs)->default_value(c.epochs), "epochs")
    ("max-steps", po::value(&c.max_steps)->default_value(c.max_steps), "stop after N steps (0 = off)")
    ("batch-size", po::value(&c.batch_size)->default_value(c.batch_size), "sequences per rank per step")
    ("max-len", po::value(&m.max_len)->default_value(m.max_len), "longest history the model sees")
    ("dim", po::value(&m.dim)->default_value(m.dim), "embedding / hidden size")
    ("layers", po::value(&m.layers)->default_value(m.layers), "transformer blocks")
    ("heads", po::value(&m.heads)->default_value(m.heads), "attention heads")
    ("ffn-dim", po::value(&m.ffn_dim)->default_value(m.ffn_dim), "feed-forward size (0 = 4*dim)")
    ("dropout", po::value(&m.dropout)->default_value(m.dropout), "dropout")
    ("attn-dropout", po::value(&m.attn_dropout)->default_value(m.attn_dropout), "attention dropout")
    ("use-item-id", po::value(&m.use_item_id)->default_value(m.use_item_id), "item-id embedding")
    ("use-category", po::value(&m.use_category)->default_value(m.use_category), "category embedding")
    ("use-attributes", po::value(&m.use_attributes)->default_value(m.use_attributes), "attribute bag")
    ("use-content", po::value(&m.use_content)->default_value(m.use_content), "content vectors")
    ("use-text", po::value(&m.use_text)->default_value(m.use_text), "item text (bag of subwords)")
    ("zero-cold-ids", po::value(&m.zero_cold_ids)->default_value(m.zero_cold_ids), "items without train interactions get no id term (cold start: side features alone)")
    ("item-id-dropout", po::value(&m.item_id_dropout)->default_value(m.item_id_dropout), "drop each item's id term with this probability in training (cold start)")
    ("item-norm", po::value(&m.item_norm)->default_value(m.item_norm), "LayerNorm the fused item vectors (false: raw, SASRec-style)")
    ("lr", po::value(&c.lr)->default_value(c.lr), "peak learning rate")
    ("weight-decay", po::value(&c.weight_decay)->default_value(c.weight_decay), "AdamW decay (not on embeddings/bias/norm)")
    ("warmup-steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps), "linear warm-up")
    ("decay", po::value(&c.decay)->default_value(c.decay), "constant | linear | cosine")
    ("min-lr-ratio", po::value(&c.min_lr_ratio)->default_value(c.min_lr_ratio), "final lr / peak")
    ("clip-norm", po::value(&c.clip_norm)->default_value(c.clip_norm), "global grad-norm clip (0 = off)")
    ("mask-prob", po::value(&c.mask_prob)->default_value(c.mask_prob), "masked-item probability")
    ("num-negatives", po::value(&c.num_negatives)->default_value(c.num_negatives), "sampled-softmax shared negatives")
    ("neg-power", po::value(&c.neg_power)->default_value(c.neg_power), "sampled-softmax q ~ pop^power")
    ("in-batch-negatives", po::value(&c.in_batch_negatives)->default_value(c.in_batch_negatives), "sampled-softmax: + M of this rank's targets as negatives (mixed negative sampling)")
    ("item-table", po::value(&c.item_table)->default_value(c.item_table), "auto | sparse (touched items only) | dense (whole catalog each step)")
    ("embedding-sharding", po::value(&c.embedding_sharding)->default_value(c.embedding_sharding), "sparse item table: replicated | row (row r on rank r mod world)")
    ("sparse-optimizer", po::value(&c.sparse_optimizer)->default_value(c.sparse_optimizer), "sparse item table: lazy-adam | rowwise-adagrad")
    ("item-table-memory", po::value(&c.item_table_memory)->default_value(c.item_table_memory), "sparse item table memory: auto (device with NCCL, else host) | device (GPU memory with --device cuda; the row exchange runs on NCCL) | host (tables larger than GPU memory)")
    ("calibration-weight", po::value(&c.calibration_weight)->default_value(c.calibration_weight), "calibration KL weight")
    ("seed", po::value(&c.seed)->default_value(c.seed), "seed (init, sampling, dropout)")
    ("init-from", po::value(&c.init_from), "checkpoint or run dir to fine-tune from")
    ("resume", po::value(&c.resume), "auto | CHECKPOINT")
    ("keep-last", po::value(&c.keep_last)->default_value(c.keep_last), "checkpoints kept")
    ("checkpoint-every", po::value(&c.checkpoint_every)->default_value(c.checkpoint_every), "steps between checkpoints (0 = per epoch)")
    ("eval-every", po::value(&c.eval_every)->default_value(c.eval_every), "epochs between validations")
    ("patience", po::value(&c.patience)->default_value(c.patience), "early-stopping patience (epochs)")
    ("eval-users", po::value(&c.eval_users)->default_value(c.eval_users), "validate on first N users (0 = all)")
    ("final-test", po::value(&c.final_test)->default_value(c.final_test), "test best.pt at the end")
    ("log-every", po::value(&c.log_every)->default_value(c.log_every), "steps between log lines")
    ("bucket-mb", po::value(&c.bucket_mb)->default_value(c.bucket_mb), "gradient fusion bucket (MiB)")
    ("overlap", po::value(&c.overlap)->default_value(c.overlap), "all-reduce during backward")
    ("length-buckets", po::value(&c.length_buckets)->default_value(c.length_buckets), "batch similar lengths")
    ("threads", po::value(&c.threads)->default_value(c.threads), "threads per rank (0 = auto)")
    ("device", po::value(&c.device)->default_value(c.device), "auto | cpu | cuda (GPU of the local rank)")
    ("precision", po::value(&c.precision)->default_value(c.precision), "fp32 | bf16 (autocast of the matrix products; fp32 weights)")
    ("comm", po::value(&comm_kind)->default_value(comm_kind), "auto (NCCL on GPUs, else MPI) | mpi | nccl | local")
    ("collective-timeout", po::value(&c.collective_timeout)->default_value(c.collective_timeout), "seconds");
  // clang-format on
  po::variables_map vm;
  if (!parse_options("train", args, d, vm)) return 0;

  // CPU ranks need no NCCL communicator even where GPUs are visible.
  if (comm_kind == "auto" && c.device == "cpu") comm_kind = "mpi";
  auto comm = core::make_communicator(comm_kind);
  core::set_log_rank(comm->rank(), comm->world());
  int threads = core::resolve_threads(c.threads);
  core::configure_threads(threads);
  trainer::install_preemption_handlers();
  std::string ini = format_config_ini(vm);
  core::log0("{}", format_config_table(
      fmt::format("divrec train: {} rank(s), {} backend, {} thread(s)/rank", comm->world(),
                  comm->backend(), threads), vm));
  auto result = trainer::train(c, "# " + command_line() + "\n" + ini, *comm);
  return result.outcome == trainer::TrainOutcome::kPreempted ? 3 : 0;
}

}  // namespace divrec::launcher
