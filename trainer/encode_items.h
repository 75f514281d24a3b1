// `divrec encode-items`: runs a pre-trained TorchScript text encoder (model/text_encoder.h) over
// the catalog's item texts, each rank a contiguous slice of them, and commits the pooled,
// L2-normalised vectors as the dataset's content (a new dataset version, as add-content does).
#pragma once

#include <cstdint>
#include <string>

#include "core/comm/communicator.h"
#include "data_shards/content_import.h"
#include "trainer/model/text_encoder.h"

namespace divrec::trainer {

struct EncodeItemsOptions {
  std::string data_dir;   // the dataset; gets a new version
  std::string encoder;    // TorchScript module: forward(input_ids, attention_mask) -> [B, T, H]
  std::string text;       // id -> text (item_text.h's TSV format), with `tokenizer`
  std::string tokenizer;  // WordPiece vocab.txt or SentencePiece .model (encoder_tokens.h)
  std::string token_ids;  // or: id -> space-separated token ids (same TSV format), no tokenizer
  model::TextPooling pooling = model::TextPooling::kMean;
  int max_tokens = 256;        // per item, special tokens included
  int64_t batch_size = 64;     // texts per encoder call
  int32_t pad_id = -1;         // -1: the tokenizer's (encoder_tokens.h); 0 with --token-ids
  std::string device = "cpu";  // model::resolve_device's spec
  std::string name;            // content_model; "" = the encoder's file name
  int64_t pca_dim = 0;         // content_import.h
  bool whiten = false;
  data::ContentDtype content_dtype = data::ContentDtype::kFloat32;  // stored precision
  bool skip_unknown_ids = false;  // default: a text whose id is not a dataset item is an error
  bool progress = true;
  std::string command;  // recorded as the new version's version_command
};

struct EncodeItemsResult {
  data::ContentImportSummary import;  // rank 0's (the others: manifest unset)
  int64_t texts = 0;                  // lines in the text / token-id file
  int64_t encoded = 0;                // items encoded (known ids with a non-empty text), all ranks
  int64_t empty = 0;          // known items whose text is empty (they get the content fallback)
  int64_t unknown = 0;        // texts of ids not in the dataset (skipped with skip_unknown_ids)
  int64_t hidden = 0;         // the encoder's width H
  std::string content_model;  // the name stored with the vectors
  double seconds = 0;         // encoding wall time (slowest rank)
};

// Collective over comm. Every rank reads the text file and the item table, tokenizes and encodes
// its slice [r n / W, (r + 1) n / W) of the n encodable items (file order); rank 0 gathers the
// vectors (one broadcast per rank, so no other rank holds the whole matrix) and commits them.
// Throws (on the rank that finds it; launcher/main aborts the job): options invalid, files
// unreadable, unknown ids without skip_unknown_ids, a token id the encoder rejects, ranks whose
// encoders disagree on H.
EncodeItemsResult encode_items(const EncodeItemsOptions& options, core::Communicator& comm);

}  // namespace divrec::trainer
