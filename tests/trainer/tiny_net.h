// A tiny embedding + MLP network for the trainer-machinery tests (grad sync, optimizer,
// checkpoints), with deterministic inputs that need no RNG (threads share torch's generator).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace divrec::testing {

struct TinyNetImpl : torch::nn::Module {
  explicit TinyNetImpl(int64_t out = 3, bool extra = false) {
    emb = register_module("emb", torch::nn::Embedding(12, 6));
    fc1 = register_module("fc1", torch::nn::Linear(6, 10));
    fc2 = register_module("fc2", torch::nn::Linear(10, out));
    head = register_module("head", torch::nn::Linear(10, 2));  // used only on request
    if (extra) fc3 = register_module("fc3", torch::nn::Linear(out, out));
    register_buffer("scale", torch::ones({3}));
  }
  // ids: [B, L] int64. use_head adds the head's output to the loss.
  torch::Tensor loss(const torch::Tensor& ids, bool use_head = false) {
    auto h = torch::relu(fc1(emb(ids).mean(1)));
    auto l = fc2(h).pow(2).sum();
    if (use_head) l = l + head(h).sum();
    return l;
  }
  torch::nn::Embedding emb{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, head{nullptr}, fc3{nullptr};
};
TORCH_MODULE(TinyNet);

// Rank-dependent ids without an RNG.
inline torch::Tensor tiny_ids(int rank, int step = 0) {
  auto a = torch::arange(8, torch::kInt64).reshape({2, 4});
  return (a * (rank + 2) + 3 * step + rank) % 12;
}

// dst's parameters and buffers := src's.
inline void copy_net(const torch::nn::Module& src, torch::nn::Module& dst) {
  torch::NoGradGuard g;
  auto s = src.parameters();
  auto d = dst.parameters();
  for (size_t i = 0; i < s.size(); ++i) d[i].copy_(s[i]);
  auto sb = src.buffers();
  auto db = dst.buffers();
  for (size_t i = 0; i < sb.size(); ++i) db[i].copy_(sb[i]);
}

inline std::vector<torch::Tensor> grads_of(const torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) {
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return out;
}

}  // namespace divrec::testing
