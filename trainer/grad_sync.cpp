// Gradient fusion buckets, autograd hooks and the communication thread (see grad_sync.h).
#include "trainer/grad_sync.h"

#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "core/check.h"
#include "core/log.h"

namespace divrec::trainer {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sum over ranks, then divide: every rank gets the same bits (the backend reduces in a fixed
// order). CUDA buffers are filled on the compute stream, so wait for it before communicating.
void average_in_place(core::Communicator& comm, torch::Tensor& buf) {
  if (buf.is_cuda()) torch::cuda::synchronize(buf.device().index());
  comm.allreduce(buf, core::ReduceOp::kSum);
  buf.div_(static_cast<double>(comm.world()));
}

}  // namespace

// State shared with the communication thread. Held by shared_ptr so that a thread stuck in a
// collective when GradSync is destroyed (an error on another rank) can be detached safely.
struct GradSync::Shared {
  core::Communicator* comm = nullptr;
  std::vector<torch::Tensor> buffers;  // one flat buffer per bucket
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  bool in_step = false;
  bool busy = false;  // comm thread inside a collective
  std::vector<char> bucket_ready;
  size_t next_send = 0;  // next bucket the comm thread reduces (strict order)
  size_t reduced = 0;    // buckets reduced this step
  std::exception_ptr error;
  GradSyncStats stats;

  void loop() {
    std::unique_lock<std::mutex> lock(m);
    for (;;) {
      cv.wait(lock, [&] {
        return stop || (in_step && !error && next_send < buffers.size() && bucket_ready[next_send]);
      });
      if (stop) return;
      size_t b = next_send;
      busy = true;
      lock.unlock();
      auto t0 = std::chrono::steady_clock::now();
      std::exception_ptr err;
      try {
        torch::NoGradGuard no_grad;
        average_in_place(*comm, buffers[b]);
      } catch (...) {
        err = std::current_exception();
      }
      double dt = seconds_since(t0);
      lock.lock();
      busy = false;
      if (err) {
        error = err;  // later buckets are not sent: the ranks' collective sequences diverged
      } else {
        stats.comm_seconds += dt;
        stats.bytes_reduced += buffers[b].numel() * buffers[b].element_size();
        ++stats.buckets_reduced;
        ++next_send;
        ++reduced;
      }
      cv.notify_all();
    }
  }
};

std::vector<BucketInfo> GradSync::assign_buckets(const std::vector<torch::Tensor>& params,
                                                 int64_t bucket_cap_bytes) {
  std::vector<BucketInfo> out;
  torch::Dtype dtype = torch::kFloat32;
  torch::Device device = torch::kCPU;
  for (size_t k = params.size(); k-- > 0;) {
    const auto& p = params[k];
    int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    bool fresh = out.empty() || out.back().bytes + bytes > bucket_cap_bytes ||
                 p.scalar_type() != dtype || p.device() != device;
    if (fresh) {
      out.emplace_back();
      dtype = p.scalar_type();
      device = p.device();
    }
    auto& b = out.back();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
    b.bytes += bytes;
  }
  return out;
}

GradSync::GradSync(std::vector<torch::Tensor> params, std::vector<std::string> names,
                   core::Communicator& comm, int64_t bucket_cap_bytes, bool overlap)
    : overlap_(overlap), s_(std::make_shared<Shared>()) {
  DIVREC_CHECK(names.empty() || names.size() == params.size(), "GradSync got ", params.size(),
               " parameters but ", names.size(), " names");
  DIVREC_CHECK(bucket_cap_bytes > 0, "bucket_cap_bytes must be positive, got ", bucket_cap_bytes);
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].requires_grad()) continue;
    DIVREC_CHECK(params[i].is_leaf(), "GradSync needs leaf parameters; '",
                 names.empty() ? std::to_string(i) : names[i], "' is not a leaf");
    params_.push_back(params[i]);
    names_.push_back(names.empty() ? fmt::format("param{}", i) : names[i]);
  }
  s_->comm = &comm;
  use_thread_ = overlap_ && comm.world() > 1;
  buckets_ = assign_buckets(params_, bucket_cap_bytes);
  bucket_of_.assign(params_.size(), 0);
  offset_of_.assign(params_.size(), 0);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const auto& first = params_[buckets_[b].params.front()];
    s_->buffers.push_back(torch::zeros({buckets_[b].numel}, first.options().requires_grad(false)));
    for (size_t j = 0; j < buckets_[b].params.size(); ++j) {
      bucket_of_[buckets_[b].params[j]] = b;
      offset_of_[buckets_[b].params[j]] = buckets_[b].offsets[j];
    }
  }
  param_ready_.assign(params_.size(), 0);
  pending_.assign(buckets_.size(), 0);
  s_->bucket_ready.assign(buckets_.size(), 0);
  if (comm.world() == 1) s_->buffers.clear();  // nothing to communicate: no copies either
  if (use_thread_) {
    for (size_t i = 0; i < params_.size(); ++i) {
      hook_handles_.push_back(
          params_[i].register_hook([this, i](torch::Tensor grad) { on_grad(i, grad); }));
    }
    thread_ = std::thread([s = s_] { s->loop(); });
  }
}

GradSync::~GradSync() {
  for (size_t i = 0; i < hook_handles_.size(); ++i) params_[i].remove_hook(hook_handles_[i]);
  if (!thread_.joinable()) return;
  bool busy;
  {
    std::lock_guard<std::mutex> lock(s_->m);
    s_->stop = true;
    busy = s_->busy;
  }
  s_->cv.notify_all();
  if (busy) {
    // Blocked in a collective that the other ranks will never join (an error unwound this
    // rank mid-step). Joining would hang; the thread keeps Shared alive and the job is aborted
    // by the error handler.
    core::log_error(
        "GradSync destroyed while a gradient all-reduce was in flight; detaching "
        "the communication thread");
    thread_.detach();
  } else {
    thread_.join();
  }
}

void GradSync::begin_step() {
  std::lock_guard<std::mutex> lock(s_->m);
  if (s_->error) std::rethrow_exception(s_->error);
  DIVREC_CHECK(!s_->in_step, "GradSync::begin_step called twice without finish_step");
  std::fill(param_ready_.begin(), param_ready_.end(), 0);
  for (size_t b = 0; b < buckets_.size(); ++b) {
    pending_[b] = static_cast<int64_t>(buckets_[b].params.size());
  }
  std::fill(s_->bucket_ready.begin(), s_->bucket_ready.end(), 0);
  s_->next_send = 0;
  s_->reduced = 0;
  s_->in_step = true;
}

// Runs on the autograd thread, before the gradient is accumulated into .grad().
void GradSync::on_grad(size_t i, const torch::Tensor& grad) {
  size_t b = bucket_of_[i];
  {
    std::lock_guard<std::mutex> lock(s_->m);
    if (!s_->in_step) return;  // backward outside begin/finish: local accumulation (no_sync)
    DIVREC_CHECK_HINT(!param_ready_[i], "run one backward per begin_step()/finish_step()",
                      "GradSync: the gradient of '", names_[i],
                      "' was produced twice in one step; its bucket may already be reduced");
    param_ready_[i] = 1;
  }
  // The bucket is not ready until this slot is written, so nobody else touches it now.
  {
    torch::NoGradGuard no_grad;
    const auto& p = params_[i];
    auto dst = s_->buffers[b].narrow(0, offset_of_[i], p.numel()).view(p.sizes());
    auto g = grad.is_sparse() ? grad.to_dense() : grad;
    const auto& old = p.grad();
    if (old.defined()) {
      torch::add_out(dst, old.is_sparse() ? old.to_dense() : old, g);  // what .grad() will be
    } else {
      dst.copy_(g);
    }
  }
  std::lock_guard<std::mutex> lock(s_->m);
  if (--pending_[b] == 0) {
    s_->bucket_ready[b] = 1;
    s_->cv.notify_all();
  }
}

void GradSync::pack_from_grad(size_t i) {
  torch::NoGradGuard no_grad;
  const auto& p = params_[i];
  auto dst = s_->buffers[bucket_of_[i]].narrow(0, offset_of_[i], p.numel()).view(p.sizes());
  const auto& g = p.grad();
  if (g.defined()) {
    dst.copy_(g.is_sparse() ? g.to_dense() : g);
  } else {
    dst.zero_();
  }
}

// Parameters whose hooks never fired (unused this step) contribute .grad() or zeros; buckets
// are completed in index order so the comm thread can go on at once.
void GradSync::fill_unready_locked() {
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (pending_[b] == 0) continue;
    for (size_t i : buckets_[b].params) {
      if (!param_ready_[i]) {
        pack_from_grad(i);
        param_ready_[i] = 1;
      }
    }
    pending_[b] = 0;
    s_->bucket_ready[b] = 1;
  }
  s_->cv.notify_all();
}

void GradSync::unpack() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    auto src = s_->buffers[bucket_of_[i]].narrow(0, offset_of_[i], p.numel()).view(p.sizes());
    auto& g = p.mutable_grad();
    if (!g.defined() || g.is_sparse() || g.sizes() != p.sizes()) {
      g = src.clone();
    } else {
      g.copy_(src);
    }
  }
}

void GradSync::finish_step() {
  auto t0 = std::chrono::steady_clock::now();
  if (s_->comm->world() == 1) {
    // The local gradient already is the mean; only define missing ones, as with world > 1.
    std::lock_guard<std::mutex> lock(s_->m);
    DIVREC_CHECK(s_->in_step, "GradSync::finish_step called without begin_step");
    torch::NoGradGuard no_grad;
    for (auto& p : params_) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    }
    s_->in_step = false;
    ++s_->stats.steps;
    s_->stats.wait_seconds += seconds_since(t0);
    return;
  }
  if (!use_thread_) {
    {
      std::lock_guard<std::mutex> lock(s_->m);
      DIVREC_CHECK(s_->in_step, "GradSync::finish_step called without begin_step");
      s_->in_step = false;
    }
    // Everything packed and reduced here, bucket by bucket in index order (no overlap).
    for (size_t b = 0; b < buckets_.size(); ++b) {
      for (size_t i : buckets_[b].params) pack_from_grad(i);
      auto tc = std::chrono::steady_clock::now();
      {
        torch::NoGradGuard no_grad;
        average_in_place(*s_->comm, s_->buffers[b]);
      }
      std::lock_guard<std::mutex> lock(s_->m);
      s_->stats.comm_seconds += seconds_since(tc);
      s_->stats.bytes_reduced += buckets_[b].bytes;
      ++s_->stats.buckets_reduced;
    }
  } else {
    std::unique_lock<std::mutex> lock(s_->m);
    DIVREC_CHECK(s_->in_step, "GradSync::finish_step called without begin_step");
    if (!s_->error) fill_unready_locked();
    s_->cv.wait(lock, [&] { return s_->error || s_->reduced == buckets_.size(); });
    s_->in_step = false;
    if (s_->error) std::rethrow_exception(s_->error);  // and stays failed: begin_step rethrows
  }
  unpack();
  std::lock_guard<std::mutex> lock(s_->m);
  ++s_->stats.steps;
  s_->stats.wait_seconds += seconds_since(t0);
}

GradSyncStats GradSync::stats() const {
  std::lock_guard<std::mutex> lock(s_->m);
  return s_->stats;
}

void GradSync::reset_stats() {
  std::lock_guard<std::mutex> lock(s_->m);
  s_->stats = GradSyncStats{};
}

void broadcast_parameters(const std::vector<torch::Tensor>& tensors, core::Communicator& comm,
                          int root) {
  if (comm.world() == 1) return;
  torch::NoGradGuard no_grad;
  for (const auto& t : tensors) {
    if (t.is_contiguous()) {
      torch::Tensor view = t;  // shares storage: the broadcast writes the parameter itself
      comm.broadcast(view, root);
    } else {
      auto tmp = t.contiguous();
      comm.broadcast(tmp, root);
      torch::Tensor(t).copy_(tmp);
    }
  }
}

void broadcast_module(const torch::nn::Module& module, core::Communicator& comm, int root) {
  auto tensors = module.parameters(true);
  for (const auto& b : module.buffers(true)) tensors.push_back(b);
  broadcast_parameters(tensors, comm, root);
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  double unused = 1.0;
  return clip_grad_norm(params, max_norm, 0.0, &unused);
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm, double extra_sq,
                      double* scale_out) {
  torch::NoGradGuard no_grad;
  double sq = extra_sq;
  *scale_out = 1.0;
  // Per-parameter sums on the parameters' device, added on the host in parameter order (one
  // device-to-host copy instead of one per parameter; the same arithmetic on every device).
  std::vector<torch::Tensor> parts;
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (g.defined()) parts.push_back(g.to(torch::kFloat64).pow(2).sum());
  }
  if (!parts.empty()) {
    const auto host = torch::stack(parts).to(torch::kCPU).contiguous();
    const double* a = host.data_ptr<double>();
    for (int64_t i = 0; i < host.numel(); ++i) sq += a[i];
  }
  double norm = std::sqrt(sq);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    double scale = max_norm / (norm + 1e-6);
    *scale_out = scale;
    for (const auto& p : params) {
      if (p.grad().defined()) torch::Tensor(p.grad()).mul_(scale);
    }
  }
  return norm;
}

}  // namespace divrec::trainer
