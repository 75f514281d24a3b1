// Rebuilding a trained SeqModel for evaluation: the model sizes and objective come from the
// checkpoint's stored config (divrec train's resolved config_ini, parsed by model::from_ini), the
// catalog sizes and item features from the dataset; the tensors are then loaded strictly.
#pragma once

#include <string>

#include "data_shards/dataset.h"
#include "trainer/model/seq_model.h"

namespace divrec::eval {

struct LoadedModel {
  model::SeqModel model{nullptr};
  bool causal = true;      // next-item model; false = masked-item ([MASK] appended to histories)
  std::string path;        // the checkpoint file actually read
  std::string config_ini;  // as stored in the checkpoint
};

// The config text stored in a checkpoint file (checksum verified first).
std::string read_checkpoint_config(const std::string& path);

// checkpoint: a file, or a run directory (its best.pt, see model::resolve_checkpoint_arg).
// Throws naming the checkpoint when its catalog sizes differ from the dataset's or a tensor is
// missing / mis-shaped. The model is returned in eval mode (no dropout).
LoadedModel load_model_for_eval(const std::string& checkpoint, const data::ItemTable& items);
// The same; model::TableContent::kTake moves the table's content vectors into the model
// (ItemFeatures::from_table: adopted when 16-bit; the table has none afterwards). After an
// error (a checkpoint that does not load) the table's content may be gone too.
LoadedModel load_model_for_eval(const std::string& checkpoint, data::ItemTable& items,
                                model::TableContent content);

}  // namespace divrec::eval
