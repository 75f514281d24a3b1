// `divrec append-items`: new items (JSON lines of features) appended to a serving artifact and its
// ANN index, written atomically (by default over the artifact itself, which `serve --reload`
// then picks up). With --encoder, items that carry "text" but no "content" get their content from
// the pre-trained text encoder (the one `divrec encode-items` ran). One process, no MPI.
#include <fmt/format.h>

#include "core/check.h"
#include "core/log.h"
#include "core/threads.h"
#include "data_shards/tokenize/encoder_tokens.h"
#include "launcher/commands.h"
#include "serving/append_items.h"
#include "trainer/model/text_encoder.h"
#include "trainer/model/text_encoder_identity.h"

namespace divrec::launcher {

namespace {

// Fills `content` of the items with a text and no content; returns how many.
int64_t encode_item_texts(std::vector<serving::NewItem>& items, const std::string& encoder_path,
                          const std::string& tokenizer_path, const std::string& pooling,
                          int max_tokens) {
  std::vector<size_t> rows;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].text.empty() && items[i].content.empty()) rows.push_back(i);
  }
  if (rows.empty()) return 0;
  DIVREC_CHECK_HINT(!tokenizer_path.empty(), "pass the encoder's --tokenizer (vocab.txt or .model)",
                    "append-items: --encoder needs --tokenizer");
  const auto tok = data::EncoderTokenizer::from_file(tokenizer_path);
  std::vector<std::vector<int32_t>> seqs;
  for (size_t i : rows) seqs.push_back(tok.encode(items[i].text, max_tokens));
  model::TextEncoder encoder(encoder_path, torch::kCPU);
  const torch::Tensor v =
      encoder.encode(seqs, model::parse_text_pooling(pooling), tok.pad_id()).contiguous();
  const int64_t H = v.size(1);
  for (size_t r = 0; r < rows.size(); ++r) {
    const float* p = v.data_ptr<float>() + static_cast<int64_t>(r) * H;
    items[rows[r]].content.assign(p, p + H);
  }
  return static_cast<int64_t>(rows.size());
}

}  // namespace

int cmd_append_items(const Args& args) {
  std::string model_path, items_path, output, encoder, tokenizer, pooling = "mean";
  int max_tokens = 256;
  po::options_description d;
  // clang-format off
  d.add_options()
    ("model", po::value(&model_path)->required(), "serving artifact (divrec export)")
    ("items", po::value(&items_path)->required(), "JSON lines: {\"id\", \"category\", \"attributes\": [...], \"content\": [...], \"text\": \"...\"}")
    ("output", po::value(&output), "the artifact to write (default: --model, replaced atomically)")
    ("encoder", po::value(&encoder), "TorchScript text encoder: items with \"text\" and no \"content\" get its pooled vector (as `divrec encode-items` made the catalog's)")
    ("tokenizer", po::value(&tokenizer), "with --encoder: its WordPiece vocab.txt or SentencePiece .model")
    ("pooling", po::value(&pooling)->default_value(pooling), "with --encoder: mean | cls")
    ("max-tokens", po::value(&max_tokens)->default_value(max_tokens), "with --encoder: tokens per text");
  // clang-format on
  po::variables_map vm;
  if (!parse_options("append-items", args, d, vm)) return 0;
  if (output.empty()) output = model_path;
  core::configure_threads(core::resolve_threads(0));
  auto items = serving::read_new_items(items_path);
  if (!encoder.empty()) {
    // Before encoding anything: is --encoder (with its tokenizer, pooling, token limit) the one
    // that made the catalog's content? Vectors of another encoder would be silently wrong.
    const auto given = model::TextEncoderIdentity::of_files(
        encoder, tokenizer, model::text_pooling_name(model::parse_text_pooling(pooling)),
        max_tokens);
    const std::string recorded = serving::read_content_encoder(model_path);
    if (recorded.empty()) {
      core::log0(
          "append-items: warning: '{}' does not record which encoder made its content (imported "
          "with `shard add-content`, or encoded before divrec recorded it), so --encoder '{}' "
          "cannot be checked against it",
          model_path, encoder);
    } else {
      model::check_same_text_encoder(
          model::TextEncoderIdentity::from_json(recorded, model_path + " /items content_encoder"),
          given, "append-items: '" + model_path + "'");
    }
    const int64_t n = encode_item_texts(items, encoder, tokenizer, pooling, max_tokens);
    core::log0("append-items: {} item texts encoded with {}", n, encoder);
  } else {
    int64_t unused = 0;
    for (const auto& it : items) unused += !it.text.empty() && it.content.empty();
    if (unused > 0) {
      core::log0(
          "append-items: warning: {} items have a \"text\" but no \"content\" and no --encoder "
          "was given: their text gives them no content vector (pass the encoder `divrec "
          "encode-items` ran; a model with item text still gets their bag of subwords)",
          unused);
    }
  }
  auto s = serving::append_items(model_path, items, output);
  core::log0("append-items: {} items appended, '{}' now has {} items (checksum {:#010x}){}",
             s.appended, output, s.items, s.checksum,
             s.ann_index.empty() ? "" : fmt::format(", ANN index '{}'", s.ann_index));
  return 0;
}

}  // namespace divrec::launcher
