// encode_items (see encode_items.h): texts -> encoder token ids -> this rank's slice encoded ->
// vectors gathered on rank 0 -> committed as content with data::commit_content.
#include "trainer/encode_items.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <unordered_set>
#include <vector>

#include "core/check.h"
#include "core/comm/typed.h"
#include "core/log.h"
#include "data_shards/convert/item_text.h"
#include "data_shards/files.h"
#include "data_shards/reader.h"
#include "data_shards/tokenize/encoder_tokens.h"
#include "trainer/model/device.h"
#include "trainer/model/text_encoder_identity.h"

namespace divrec::trainer {

namespace {

void check_options(const EncodeItemsOptions& o) {
  DIVREC_CHECK_HINT(o.text.empty() != o.token_ids.empty(),
                    "pass --text FILE --tokenizer VOCAB|SPM.model, or --token-ids FILE",
                    "encode-items needs item texts or pre-tokenized ids (exactly one of them)");
  DIVREC_CHECK_HINT(o.text.empty() || !o.tokenizer.empty(),
                    "pass --tokenizer vocab.txt (WordPiece) or --tokenizer SPM.model",
                    "--text needs the encoder's tokenizer");
  DIVREC_CHECK_HINT(o.token_ids.empty() || o.tokenizer.empty(), "drop --tokenizer",
                    "--token-ids are already tokenized; --tokenizer would be ignored");
  DIVREC_CHECK_HINT(o.max_tokens >= 2, "pass --max-tokens 2 or more", "--max-tokens ",
                    o.max_tokens);
  DIVREC_CHECK_HINT(o.batch_size >= 1, "pass --batch-size 1 or more", "--batch-size ",
                    o.batch_size);
}

}  // namespace

EncodeItemsResult encode_items(const EncodeItemsOptions& o, core::Communicator& comm) {
  check_options(o);
  EncodeItemsResult res;
  const bool pretokenized = !o.token_ids.empty();
  const std::string& source = pretokenized ? o.token_ids : o.text;

  // The encodable items, in file order: known ids with a non-empty text.
  // Raw item ids from the manifest (a copy of the item table's; the reader checks the file kind,
  // version and checksum): no rank reads the item table, whose content vectors may be the largest
  // array of the dataset; rank 0 reads it to commit.
  const auto raw_ids = data::read_manifest_id_maps(o.data_dir + "/" + data::kManifestFile).items;
  std::unordered_set<std::string> known(raw_ids.begin(), raw_ids.end());
  std::vector<data::ItemTextLine> lines =
      data::read_item_text_file(source, pretokenized ? "reading token ids" : "reading item text");
  res.texts = static_cast<int64_t>(lines.size());
  std::vector<data::ItemTextLine> todo;
  for (auto& l : lines) {
    if (!known.count(l.id)) {
      DIVREC_CHECK_HINT(o.skip_unknown_ids, "pass --skip-unknown-ids to ignore such lines", source,
                        ":", l.line, ": item id '", l.id, "' is not in the dataset ", o.data_dir);
      ++res.unknown;
    } else if (l.text.empty()) {
      ++res.empty;
    } else {
      todo.push_back(std::move(l));
    }
  }
  const int64_t n = static_cast<int64_t>(todo.size());
  DIVREC_CHECK_HINT(n > 0, "check that the file's ids are the dataset's raw item ids", source,
                    ": no item of ", o.data_dir, " has a text to encode");
  const int64_t W = comm.world(), r = comm.rank();
  const int64_t lo = r * n / W, hi = (r + 1) * n / W;

  // This rank's slice, tokenized.
  std::vector<std::vector<int32_t>> seqs;
  seqs.reserve(static_cast<size_t>(hi - lo));
  int32_t pad = o.pad_id >= 0 ? o.pad_id : 0;
  std::string tokenizer_desc = "pre-tokenized ids";
  if (pretokenized) {
    for (int64_t i = lo; i < hi; ++i) {
      const auto& l = todo[static_cast<size_t>(i)];
      seqs.push_back(
          data::parse_token_ids(l.text, o.max_tokens, source + ":" + std::to_string(l.line)));
    }
  } else {
    const auto tok = data::EncoderTokenizer::from_file(o.tokenizer);
    if (o.pad_id < 0) pad = tok.pad_id();
    tokenizer_desc = tok.description();
    for (int64_t i = lo; i < hi; ++i) {
      seqs.push_back(tok.encode(todo[static_cast<size_t>(i)].text, o.max_tokens));
    }
  }
  const torch::Device device = model::resolve_device(o.device);
  core::log0(
      "encode-items: {} of {} texts to encode ({} empty, {} unknown ids) on {} rank(s), "
      "tokenizer: {}, encoder {} on {}, {} pooling, <= {} tokens",
      n, res.texts, res.empty, res.unknown, W, tokenizer_desc, o.encoder,
      model::device_name(device), model::text_pooling_name(o.pooling), o.max_tokens);

  // Encode (rank 0's progress line stands for all: the slices differ by at most one item).
  const auto t0 = std::chrono::steady_clock::now();
  model::TextEncoder encoder(o.encoder, device);
  std::unique_ptr<core::Progress> progress;
  if (o.progress) progress = std::make_unique<core::Progress>("encode-items (rank 0)", hi - lo);
  torch::Tensor vec = encoder.encode(seqs, o.pooling, pad, o.batch_size, progress.get());
  if (progress) progress->finish();
  res.seconds = core::allreduce_scalar<double>(
      comm, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
      core::ReduceOp::kMax);

  // Every rank with items must agree on H (ranks with an empty slice know none).
  const int64_t h_mine = vec.numel() > 0 ? vec.size(1) : 0;
  const int64_t H = core::allreduce_scalar<int64_t>(comm, h_mine, core::ReduceOp::kMax);
  const int64_t h_min =
      core::allreduce_scalar<int64_t>(comm, h_mine > 0 ? h_mine : H, core::ReduceOp::kMin);
  DIVREC_CHECK_HINT(H > 0 && h_min == H, "run the same encoder file on every rank",
                    "encode-items: ranks' encoders return hidden sizes ", h_min, " and ", H);
  res.hidden = H;
  res.content_model =
      o.name.empty() ? std::filesystem::path(o.encoder).filename().string() : o.name;
  res.encoded = n;

  // Gather on rank 0: rank q's rows [q n / W, (q + 1) n / W) in one broadcast from q.
  data::ContentRows rows;
  if (r == 0) rows.values.resize(static_cast<size_t>(n * H));
  std::vector<float> buf;
  for (int64_t q = 0; q < W; ++q) {
    const int64_t qlo = q * n / W, qhi = (q + 1) * n / W;
    const size_t count = static_cast<size_t>((qhi - qlo) * H);
    if (count == 0) continue;
    float* dst = nullptr;
    if (r == 0) {
      dst = rows.values.data() + qlo * H;
    } else {
      buf.resize(count);
      dst = buf.data();
    }
    if (q == r) std::copy(vec.data_ptr<float>(), vec.data_ptr<float>() + count, dst);
    comm.broadcast(dst, count, core::DType::kFloat32, static_cast<int>(q));
  }

  if (r == 0) {
    rows.dim = H;
    for (auto& l : todo) {
      rows.where.push_back(source + ":" + std::to_string(l.line));
      rows.ids.push_back(std::move(l.id));
    }
    data::ContentImportOptions io;
    io.dir = o.data_dir;
    io.name = res.content_model;
    // What append-items --encoder must match (the token ids' tokenizer is not known: none).
    auto identity =
        model::TextEncoderIdentity::of_files(o.encoder, pretokenized ? "" : o.tokenizer,
                                             model::text_pooling_name(o.pooling), o.max_tokens);
    identity.pca_dim = o.pca_dim;
    io.encoder = identity.to_json();
    io.pca_dim = o.pca_dim;
    io.whiten = o.whiten;
    io.content_dtype = o.content_dtype;
    io.command = o.command;
    res.import = data::commit_content(io, rows);
  }
  comm.barrier();
  return res;
}

}  // namespace divrec::trainer
