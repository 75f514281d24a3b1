// Data-parallel gradient averaging (as PyTorch DDP / Horovod): gradients are packed into
// size-capped fusion buckets by autograd hooks and all-reduced by a communication thread while
// backward is still running; finish_step() writes the averaged gradients back into .grad().
// Also the start-of-training parameter broadcast and a global gradient-norm clip.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/comm/communicator.h"

namespace divrec::trainer {

inline constexpr int64_t kDefaultBucketCapBytes = 25 * 1024 * 1024;

// One fusion bucket: parameters (indices into the constructor's list) and their offsets (in
// elements) in the bucket's flat buffer. All parameters of a bucket share dtype and device.
struct BucketInfo {
  std::vector<size_t> params;
  std::vector<int64_t> offsets;
  int64_t numel = 0;
  int64_t bytes = 0;
};

struct GradSyncStats {
  double comm_seconds = 0;  // time the collectives took (communication busy)
  double wait_seconds = 0;  // time the main thread spent in finish_step
  int64_t bytes_reduced = 0;
  int64_t buckets_reduced = 0;
  int64_t steps = 0;
};

// Usage, every step:   sync.begin_step(); loss.backward(); sync.finish_step(); optimizer.step();
// After finish_step each parameter's .grad() holds the mean over ranks of the .grad() the local
// backward produced (gradients already in .grad() before backward are included, as in DDP, so
// a backward run OUTSIDE begin_step/finish_step just accumulates locally: DDP's no_sync()).
// A parameter that got no gradient this step contributes its current .grad(), or zeros if it
// has none (zeros after optimizer.zero_grad()). Every rank must construct GradSync with the same
// parameters in the same order and call begin_step/finish_step the same number of times.
//
// Threading: with overlap (and world > 1) a communication thread issues the all-reduces, in
// strict bucket order, while the main thread runs autograd. Between begin_step() and the end
// of finish_step() the main thread must NOT issue collectives on the same communicator (the
// MPI backend asks for MPI_THREAD_MULTIPLE, but interleaved collectives of two threads would
// pair up differently on different ranks). Only one thread calls MPI at a time, so SERIALIZED
// suffices; an MPI that grants only FUNNELED (MpiCommunicator accepts it) needs overlap=false.
// Backward may produce each parameter's gradient only once per step (one backward per
// begin/finish pair); a second one throws. CPU-tested; CUDA buffers sync the device first.
class GradSync {
 public:
  // params: trainable leaf tensors in registration order (module->parameters()); names: the
  // same length, for messages (may be empty). Parameters without requires_grad are skipped.
  GradSync(std::vector<torch::Tensor> params, std::vector<std::string> names,
           core::Communicator& comm, int64_t bucket_cap_bytes = kDefaultBucketCapBytes,
           bool overlap = true);
  ~GradSync();
  GradSync(const GradSync&) = delete;
  GradSync& operator=(const GradSync&) = delete;

  void begin_step();
  // Waits for every bucket, rethrows any communication error, and writes the averages into
  // .grad() (defining it when undefined).
  void finish_step();

  const std::vector<BucketInfo>& buckets() const { return buckets_; }
  GradSyncStats stats() const;
  void reset_stats();
  bool overlap() const { return overlap_; }

  // The bucket assignment GradSync uses: parameters in REVERSE order (backward produces the
  // last layers' gradients first), a new bucket whenever adding the next one would exceed the
  // cap (a parameter larger than the cap gets a bucket of its own) or dtype/device changes.
  static std::vector<BucketInfo> assign_buckets(const std::vector<torch::Tensor>& params,
                                                int64_t bucket_cap_bytes);

 private:
  struct Shared;  // what the communication thread touches; it outlives a detached thread
  void on_grad(size_t param, const torch::Tensor& grad);
  void pack_from_grad(size_t param);
  void fill_unready_locked();
  void unpack();

  std::vector<torch::Tensor> params_;
  std::vector<std::string> names_;
  bool overlap_;
  bool use_thread_;  // overlap and world > 1
  std::vector<BucketInfo> buckets_;
  std::vector<size_t> bucket_of_;   // param -> bucket
  std::vector<int64_t> offset_of_;  // param -> element offset in its bucket
  std::vector<unsigned> hook_handles_;
  std::vector<char> param_ready_;  // guarded by Shared::m
  std::vector<int64_t> pending_;   // per bucket: gradients still to arrive (Shared::m)
  std::shared_ptr<Shared> s_;
  std::thread thread_;
};

// Copies root's values of these tensors (parameters and buffers) to every rank, in order.
void broadcast_parameters(const std::vector<torch::Tensor>& tensors, core::Communicator& comm,
                          int root = 0);
// All parameters and buffers of a module (recursively, registration order).
void broadcast_module(const torch::nn::Module& module, core::Communicator& comm, int root = 0);

// Global L2 norm over every defined .grad() (in double); if max_norm > 0 and the norm exceeds
// it, grads are scaled by max_norm / (norm + 1e-6) (PyTorch's rule). Call after finish_step so
// the result is the same on every rank. Returns the pre-clip norm; a non-finite norm is
// returned without scaling so the caller can skip the step.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);
// As above with gradients held elsewhere (the sparse item table): extra_sq is their squared
// norm, added to the global norm; *scale receives the factor applied to the dense grads (1 when
// not clipped), for the caller to apply to those gradients too.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm, double extra_sq,
                      double* scale);

}  // namespace divrec::trainer
