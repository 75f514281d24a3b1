// TorchScript text encoder (see text_encoder.h). Sequences are encoded longest first in batches
// of similar length, as sentence-transformers does, so little compute goes into padding.
#include "trainer/model/text_encoder.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "core/check.h"

namespace divrec::model {

const char* text_pooling_name(TextPooling pooling) {
  return pooling == TextPooling::kMean ? "mean" : "cls";
}

TextPooling parse_text_pooling(const std::string& name) {
  if (name == "mean") return TextPooling::kMean;
  if (name == "cls") return TextPooling::kCls;
  DIVREC_FAIL("--pooling: unknown pooling '", name, "'; valid: mean, cls");
}

TextEncoder::TextEncoder(const std::string& path, torch::Device device)
    : path_(path), device_(device) {
  DIVREC_CHECK_HINT(std::filesystem::is_regular_file(path),
                    "pass the file tools/text/export_text_encoder.py wrote (DIR/encoder.pt)",
                    "text encoder '", path, "' does not exist");
  try {
    module_ = torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    DIVREC_CHECK_HINT(
        false, "export it with tools/text/export_text_encoder.py (traced with Debian's torch 1.13)",
        "text encoder ", path, " cannot be loaded as TorchScript: ", e.what_without_backtrace());
  }
  module_.eval();
}

torch::Tensor TextEncoder::hidden_states(const torch::Tensor& input_ids,
                                         const torch::Tensor& attention_mask) {
  torch::NoGradGuard no_grad;
  std::vector<torch::jit::IValue> args{input_ids.to(device_, torch::kLong),
                                       attention_mask.to(device_, torch::kLong)};
  torch::jit::IValue out;
  try {
    out = module_.forward(args);
  } catch (const c10::Error& e) {
    // The usual cause: token ids from another tokenizer than the encoder's (ids beyond its
    // embedding table); TorchScript's message then says "index out of range".
    const std::string what = e.what_without_backtrace();
    const auto line = what.find("RuntimeError");
    DIVREC_CHECK_HINT(false,
                      "use the tokenizer the encoder was trained with (its vocab.txt / .model)",
                      "text encoder ", path_, " failed on a batch of shape [", input_ids.size(0),
                      ", ", input_ids.size(1), "] with token ids in [",
                      input_ids.min().item<int64_t>(), ", ", input_ids.max().item<int64_t>(),
                      "]: ", line == std::string::npos ? what : what.substr(line));
  }
  torch::Tensor h;
  if (out.isTensor()) {
    h = out.toTensor();
  } else if (out.isTuple() && !out.toTuple()->elements().empty() &&
             out.toTuple()->elements()[0].isTensor()) {
    h = out.toTuple()->elements()[0].toTensor();
  } else if (out.isGenericDict() && out.toGenericDict().contains("last_hidden_state")) {
    h = out.toGenericDict().at("last_hidden_state").toTensor();
  }
  DIVREC_CHECK_HINT(h.defined() && h.dim() == 3 && h.size(0) == input_ids.size(0) &&
                        h.size(1) == input_ids.size(1),
                    "forward(input_ids, attention_mask) must return hidden states [B, T, H]",
                    "text encoder ", path_, " returned ",
                    h.defined() ? "a tensor of the wrong shape" : "no tensor");
  return h.to(torch::kFloat);
}

torch::Tensor TextEncoder::encode(const std::vector<std::vector<int32_t>>& sequences,
                                  TextPooling pooling, int32_t pad_id, int64_t batch_size,
                                  core::Progress* progress) {
  DIVREC_CHECK(batch_size > 0, "--batch-size must be positive, got ", batch_size);
  const int64_t n = static_cast<int64_t>(sequences.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return sequences[static_cast<size_t>(a)].size() > sequences[static_cast<size_t>(b)].size();
  });
  torch::Tensor out;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t B = std::min(batch_size, n - start);
    const int64_t T = static_cast<int64_t>(sequences[static_cast<size_t>(order[start])].size());
    DIVREC_CHECK(T > 0, "text encoder: token sequence ", order[start], " is empty");
    auto ids = torch::full({B, T}, static_cast<int64_t>(pad_id), torch::kLong);
    auto mask = torch::zeros({B, T}, torch::kLong);
    auto* pi = ids.data_ptr<int64_t>();
    auto* pm = mask.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      const auto& s = sequences[static_cast<size_t>(order[start + b])];
      DIVREC_CHECK(!s.empty(), "text encoder: token sequence ", order[start + b], " is empty");
      for (size_t t = 0; t < s.size(); ++t) {
        pi[b * T + static_cast<int64_t>(t)] = s[t];
        pm[b * T + static_cast<int64_t>(t)] = 1;
      }
    }
    torch::Tensor h = hidden_states(ids, mask);
    torch::Tensor v;
    if (pooling == TextPooling::kCls) {
      v = h.select(1, 0);
    } else {
      auto m = mask.to(h.device(), torch::kFloat).unsqueeze(-1);
      v = (h * m).sum(1) / m.sum(1).clamp_min(1e-9);
    }
    v = torch::nn::functional::normalize(v, torch::nn::functional::NormalizeFuncOptions().dim(1))
            .to(torch::kCPU);
    if (!out.defined()) out = torch::empty({n, v.size(1)}, torch::kFloat);
    auto idx = torch::from_blob(order.data() + start, {B}, torch::kLong);
    out.index_copy_(0, idx, v);
    if (progress) progress->advance(B);
  }
  if (!out.defined()) out = torch::empty({0, 0}, torch::kFloat);
  return out;
}

}  // namespace divrec::model
