// `divrec encode-items --data DIR --encoder MODEL.pt (--text FILE --tokenizer VOCAB|SPM.model |
// --token-ids FILE)`: a pre-trained text encoder's pooled vectors of the item texts become the
// dataset's content (trainer/encode_items.h); under mpirun each rank encodes a slice.
#include <fmt/format.h>

#include <iostream>

#include "core/comm/factory.h"
#include "core/log.h"
#include "core/threads.h"
#include "data_shards/content_dtype.h"
#include "launcher/commands.h"
#include "trainer/encode_items.h"

namespace divrec::launcher {

int cmd_encode_items(const Args& args) {
  trainer::EncodeItemsOptions o;
  std::string pooling = "mean";
  int threads = 0;
  std::string content_dtype = "fp32";
  po::options_description d("encode-items");
  // clang-format off
  d.add_options()
    ("data", po::value(&o.data_dir)->required(), "dataset directory (gets a new version)")
    ("encoder", po::value(&o.encoder)->required(), "TorchScript text encoder: forward(input_ids, attention_mask) -> hidden states [B, T, H] (tools/text/export_text_encoder.py)")
    ("text", po::value(&o.text), "item texts: TSV with a header, raw item id first, text last (e.g. Beauty_item_titles.tsv)")
    ("tokenizer", po::value(&o.tokenizer), "with --text: the encoder's WordPiece vocab.txt or SentencePiece .model")
    ("token-ids", po::value(&o.token_ids), "instead of --text: TSV with a header, raw item id first, space-separated token ids last")
    ("pooling", po::value(&pooling)->default_value(pooling), "mean (over real tokens) | cls (first token)")
    ("max-tokens", po::value(&o.max_tokens)->default_value(o.max_tokens), "tokens per item, special tokens included (longer texts are cut)")
    ("batch-size", po::value(&o.batch_size)->default_value(o.batch_size), "texts per encoder call (similar lengths batched together)")
    ("pad-id", po::value(&o.pad_id)->default_value(o.pad_id), "padding token id (-1: the tokenizer's [PAD], or 0)")
    ("name", po::value(&o.name), "content_model recorded with the vectors (default: the encoder's file name)")
    ("pca", po::value(&o.pca_dim)->default_value(o.pca_dim), "reduce to DIM dimensions by PCA (0 = off)")
    ("whiten", po::bool_switch(&o.whiten), "with --pca: scale each component to unit variance")
    ("content-dtype", po::value(&content_dtype)->default_value(content_dtype), "stored precision: fp32 | fp16 | bf16 (half the memory and disk)")
    ("skip-unknown-ids", po::bool_switch(&o.skip_unknown_ids), "ignore lines whose id is not a dataset item (default: error)")
    ("device", po::value(&o.device)->default_value(o.device), "cpu | cuda | auto: where the encoder runs")
    ("threads", po::value(&threads)->default_value(threads), "threads per rank (0 = auto)")
    ("no-progress", po::bool_switch(), "no progress line");
  // clang-format on
  po::variables_map vm;
  if (!parse_options("encode-items", args, d, vm)) return 0;
  o.pooling = model::parse_text_pooling(pooling);
  o.content_dtype = data::parse_content_dtype(content_dtype, "--content-dtype");
  o.progress = !vm["no-progress"].as<bool>();
  o.command = command_line();

  // Only small control messages and one gather of the vectors: MPI, whatever the device.
  auto comm = core::make_communicator("mpi");
  core::set_log_rank(comm->rank(), comm->world());
  threads = core::resolve_threads(threads);
  core::configure_threads(threads);
  core::log0("{}",
             format_config_table(fmt::format("divrec encode-items: {} rank(s), {} thread(s)/rank",
                                             comm->world(), threads),
                                 vm));
  const auto res = trainer::encode_items(o, *comm);
  if (comm->rank() == 0) {
    const auto& s = res.import;
    std::cout << fmt::format(
        "OK: {} is now version {} (content '{}', {} -> {} dims; {} of {} items encoded in {:.1f} "
        "s, {} with an empty text and the rest of the catalog get the fallback; the previous "
        "version is {})\n",
        o.data_dir, s.manifest.dataset_version, res.content_model, res.hidden, s.content_dim,
        s.matched, s.manifest.num_items, res.seconds, res.empty, s.manifest.previous_manifest);
  }
  return 0;
}

}  // namespace divrec::launcher
