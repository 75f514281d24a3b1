// Everything `divrec train` can be told, as one plain struct (the launcher maps long options and
// INI keys onto it one to one; docs/cli.md lists them).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "trainer/model/config.h"

namespace divrec::trainer {

struct TrainConfig {
  std::string data_dir;
  std::string run_dir;
  std::string objective = "next-item";  // next-item | masked-item
  std::string loss = "full-ce";         // bce | sampled-softmax | full-ce
  model::ModelConfig model;             // sizes + feature switches (catalog sizes from data)
  int64_t epochs = 20;
  int64_t max_steps = 0;                // stop after this many optimizer steps (0 = no limit)
  int64_t batch_size = 128;             // per rank
  double lr = 1e-3;
  double weight_decay = 0.0;
  int64_t warmup_steps = 100;
  std::string decay = "constant";       // constant | linear | cosine
  double min_lr_ratio = 0.0;
  double clip_norm = 5.0;               // 0 = off
  double mask_prob = 0.2;               // masked-item
  int64_t num_negatives = 256;          // sampled-softmax shared negatives per step
  int64_t in_batch_negatives = 0;       // sampled-softmax: + this many of the rank's targets
  // The item-id table: "sparse" = only the items a step touches are encoded, exchanged and
  // updated (ShardedItemTable); "dense" = the whole catalog every step (full-ce, calibration);
  // "auto" = sparse for bce / sampled-softmax without calibration. resolve_item_table sets
  // sparse_item_table.
  std::string item_table = "auto";
  std::string embedding_sharding = "replicated";  // sparse table: replicated | row
  std::string sparse_optimizer = "lazy-adam";     // sparse table: lazy-adam | rowwise-adagrad
  // Where the sparse table and its optimizer state live (TorchRec's compute kernels: fused in
  // device memory, or host memory for tables larger than the GPU's): auto (device with the NCCL
  // backend, else host) | device (the training device: GPU memory with --device cuda, the row
  // exchange on NCCL) | host. item_table_device resolves it.
  std::string item_table_memory = "auto";
  bool sparse_item_table = false;                 // resolved, see item_table
  double neg_power = 0.75;              // sampled-softmax: q ~ popularity^power
  double calibration_weight = 0.0;      // Steck-style calibration KL term
  uint64_t seed = 42;
  std::string init_from;                // checkpoint (or run dir) to fine-tune from
  std::string resume;                   // "", "auto" or a checkpoint path
  int64_t keep_last = 3;
  int64_t checkpoint_every = 0;         // steps between checkpoints (0 = end of each epoch only)
  int64_t eval_every = 1;               // epochs between validations (0 = never)
  int64_t patience = 5;                 // epochs without NDCG@10 improvement before stopping
  int64_t eval_users = 0;               // validate on at most this many users (0 = all)
  bool final_test = true;               // evaluate best.pt on the test split at the end
  int64_t log_every = 50;
  int64_t bucket_mb = 25;               // gradient fusion bucket cap
  bool overlap = true;                  // all-reduce buckets while backward runs
  bool length_buckets = true;           // group similar lengths into batches (less padding)
  int threads = 0;                      // per rank (0 = from environment / cores per rank)
  std::string device = "auto";          // auto | cpu | cuda (model, batches, loss)
  std::string precision = "fp32";       // fp32 | bf16 (autocast of the matrix products)
  double collective_timeout = 600;      // seconds before a stuck collective aborts the job
};

// Full CE materialises [targets, I] logits: refused above this catalog size.
inline constexpr int64_t kMaxFullCeItems = 200000;

// Resolves cfg.item_table for a catalog of num_items (sets sparse_item_table) and rejects
// combinations that cannot work, naming the options and what to use instead: full-ce above
// kMaxFullCeItems, full-ce or calibration with a sparse table, row sharding with a dense one,
// unknown names.
void resolve_item_table(TrainConfig& cfg, int64_t num_items);

// The device of the sparse table for a run training on `device` with a communicator of
// `backend`: host memory (kCPU) for --item-table-memory host or a CPU run; the GPU when the
// backend moves CUDA tensors (nccl); with another backend `auto` falls back to host memory and
// `device` throws (hint: --comm nccl). Throws naming the option for an unknown value.
torch::Device item_table_device(const TrainConfig& cfg, torch::Device device,
                                const std::string& backend);

}  // namespace divrec::trainer
