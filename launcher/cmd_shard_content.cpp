// `divrec shard add-content DIR --vectors FILE --name NAME [...]`: imports item content vectors
// made elsewhere into a dataset as a new version (data_shards/content_import.h).
#include <fmt/format.h>

#include <iostream>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/content_dtype.h"
#include "data_shards/content_import.h"
#include "launcher/commands.h"

namespace divrec::launcher {

int shard_add_content(const Args& args) {
  po::options_description desc("add-content");
  auto add = desc.add_options();
  add("dir", po::value<std::string>()->required(), "dataset directory");
  add("vectors", po::value<std::string>()->required(),
      "vector file: .npy (with --ids), .h5/.hdf5, .csv or .tsv (id, then the values)");
  add("name", po::value<std::string>()->required(),
      "name of the model that made the vectors (stored as content_model)");
  add("vectors-format", po::value<std::string>()->default_value(""),
      "npy | hdf5 | csv | tsv (default: from the file extension)");
  add("ids", po::value<std::string>()->default_value(""),
      "npy: file with one raw item id per line, in the array's row order");
  add("h5-ids", po::value<std::string>()->default_value("ids"),
      "hdf5: dataset of raw item ids (strings or integers)");
  add("h5-vectors", po::value<std::string>()->default_value("vectors"),
      "hdf5: 2-D [N, D] float dataset");
  add("delimiter", po::value<std::string>()->default_value(""),
      "csv/tsv: field delimiter (default ',' for csv, tab for tsv)");
  add("header", po::bool_switch(), "csv/tsv: the first line is a header");
  add("pca", po::value<int64_t>()->default_value(0), "reduce to DIM dimensions by PCA (0 = off)");
  add("whiten", po::bool_switch(), "with --pca: scale each component to unit variance");
  add("content-dtype", po::value<std::string>()->default_value("fp32"),
      "stored precision: fp32 | fp16 | bf16 (half the memory and disk; rounded to nearest even)");
  add("skip-unknown-ids", po::bool_switch(),
      "ignore vectors whose id is not a dataset item (default: error)");
  add("require-all", po::bool_switch(),
      "every dataset item must get a vector (default: items without one get the fallback)");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("shard add-content", args, desc, vm, &pos)) return 0;
  core::log0("{}", format_config_table("divrec shard add-content", vm));

  data::ContentImportOptions o;
  o.dir = vm["dir"].as<std::string>();
  o.source.vectors = vm["vectors"].as<std::string>();
  o.source.format = vm["vectors-format"].as<std::string>();
  o.source.ids = vm["ids"].as<std::string>();
  o.source.h5_ids = vm["h5-ids"].as<std::string>();
  o.source.h5_vectors = vm["h5-vectors"].as<std::string>();
  o.source.header = vm["header"].as<bool>();
  const auto delim = vm["delimiter"].as<std::string>();
  if (!delim.empty()) {
    DIVREC_CHECK_HINT(delim.size() == 1 || delim == "tab", "pass one character, or 'tab'",
                      "--delimiter '", delim, "' is not a single character");
    o.source.delimiter = delim == "tab" ? '\t' : delim[0];
  }
  o.name = vm["name"].as<std::string>();
  o.pca_dim = vm["pca"].as<int64_t>();
  o.whiten = vm["whiten"].as<bool>();
  o.content_dtype =
      data::parse_content_dtype(vm["content-dtype"].as<std::string>(), "--content-dtype");
  o.skip_unknown_ids = vm["skip-unknown-ids"].as<bool>();
  o.require_all = vm["require-all"].as<bool>();
  o.command = command_line();
  auto s = data::import_content(o);
  std::cout << fmt::format(
      "OK: {} is now version {} (content '{}', dim {}, {}; {} of {} items have a vector; the "
      "previous version is {})\n",
      o.dir, s.manifest.dataset_version, o.name, s.content_dim,
      data::content_dtype_name(o.content_dtype), s.matched, s.manifest.num_items,
      s.manifest.previous_manifest);
  return 0;
}

}  // namespace divrec::launcher
