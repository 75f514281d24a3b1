// Runs a pre-trained text encoder saved as TorchScript (e.g. all-MiniLM-L6-v2 exported by
// tools/text/export_text_encoder.py) over tokenized item texts, and pools its hidden states into
// one L2-normalised vector per text (sentence-transformers' recipe: Reimers & Gurevych, 2019).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/log.h"

namespace divrec::model {

enum class TextPooling { kMean, kCls };
// "mean" | "cls"; throws naming --pooling otherwise.
TextPooling parse_text_pooling(const std::string& name);
const char* text_pooling_name(TextPooling pooling);  // "mean" | "cls"

class TextEncoder {
 public:
  // path: a TorchScript module whose forward(input_ids, attention_mask) (int64 [B, T] each, mask
  // 1 = real token) returns hidden states float [B, T, H] -- a tensor, a tuple whose first element
  // is that tensor (Hugging Face's torchscript=True output), or a dict with "last_hidden_state".
  // Throws naming the file when it cannot be loaded (e.g. saved by a newer torch than this one).
  TextEncoder(const std::string& path, torch::Device device);

  // The module's hidden states for a padded batch; float32 [B, T, H] on the encoder's device.
  torch::Tensor hidden_states(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

  // One vector per token sequence (each already with the model's special tokens, non-empty):
  // batches of `batch_size` sequences of similar length, padded with pad_id, pooled (mean over
  // real tokens, or the first token) and L2-normalised. float32 [n, H] on the CPU, rows in input
  // order. progress (may be null) advances by each batch's size. Throws on an empty sequence.
  torch::Tensor encode(const std::vector<std::vector<int32_t>>& sequences, TextPooling pooling,
                       int32_t pad_id, int64_t batch_size = 64, core::Progress* progress = nullptr);

 private:
  std::string path_;
  torch::Device device_;
  torch::jit::script::Module module_;
};

}  // namespace divrec::model
