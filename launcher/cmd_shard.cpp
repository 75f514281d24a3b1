// `divrec shard convert | inspect | validate` (add-content: cmd_shard_content.cpp): converting
// source data into format-v1 HDF5 shards, summarising a dataset directory (text or JSON), and
// checking all its invariants. Single-process; no communicator.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/content_dtype.h"
#include "data_shards/convert/converters.h"
#include "data_shards/convert/item_text.h"
#include "data_shards/reader.h"
#include "data_shards/writer.h"
#include "launcher/commands.h"

namespace divrec::launcher {

namespace {

using data::RawDataset;

// Options that only some formats take: giving one to another format is an error.
const std::vector<std::pair<std::string, std::vector<std::string>>> kFormatOptions = {
    {"amazon-s3rec", {"allow-missing-attributes"}},
    {"movielens", {"min-rating"}},
    {"taobao", {"behaviors"}},
    {"csv",
     {"delimiter", "header", "user-col", "item-col", "time-col", "category-col", "attributes-col",
      "attr-delimiter"}},
    {"synthetic",
     {"users", "items", "categories", "attributes", "mean-length", "content-dim", "seed",
      "cover-items"}},
};

char single_char(const std::string& option, const std::string& v) {
  if (v == "\\t" || v == "tab" || v == "TAB") return '\t';
  DIVREC_CHECK_HINT(v.size() == 1, "pass one character, or 'tab'", "--", option, " '", v,
                    "' is not a single character");
  return v[0];
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t p = text.find(',', start);
    if (p == std::string::npos) p = text.size();
    if (p > start) out.push_back(text.substr(start, p - start));
    start = p + 1;
  }
  return out;
}

RawDataset run_converter(const std::string& format, const po::variables_map& vm) {
  auto input = [&] {
    DIVREC_CHECK_HINT(vm.count("input"), "pass --input PATH", "--format ", format,
                      " needs --input");
    return vm["input"].as<std::string>();
  };
  if (format == "amazon-s3rec") {
    return data::convert_amazon_s3rec({input(), vm["allow-missing-attributes"].as<bool>()});
  }
  if (format == "movielens")
    return data::convert_movielens({input(), vm["min-rating"].as<double>()});
  if (format == "taobao") {
    return data::convert_taobao({input(), split_list(vm["behaviors"].as<std::string>())});
  }
  if (format == "csv") {
    data::CsvOptions o;
    o.input = input();
    o.delimiter = single_char("delimiter", vm["delimiter"].as<std::string>());
    o.header = vm["header"].as<bool>();
    for (auto [opt, field] : {std::pair{"user-col", &o.user_col},
                              {"item-col", &o.item_col},
                              {"time-col", &o.time_col},
                              {"category-col", &o.category_col},
                              {"attributes-col", &o.attributes_col}}) {
      if (vm.count(opt)) *field = vm[opt].as<std::string>();
    }
    o.attr_delimiter = single_char("attr-delimiter", vm["attr-delimiter"].as<std::string>());
    return data::convert_csv(o);
  }
  if (format == "synthetic") {
    DIVREC_CHECK_HINT(!vm.count("input"), "drop --input", "--format synthetic takes no --input");
    data::SyntheticOptions o;
    o.users = vm["users"].as<int64_t>();
    o.items = vm["items"].as<int64_t>();
    o.categories = vm["categories"].as<int64_t>();
    o.attributes = vm["attributes"].as<int64_t>();
    o.mean_length = vm["mean-length"].as<double>();
    o.content_dim = vm["content-dim"].as<int64_t>();
    o.seed = vm["seed"].as<uint64_t>();
    o.cover_items = vm["cover-items"].as<bool>();
    return data::convert_synthetic(o);
  }
  DIVREC_FAIL("--format '", format,
              "' is not one of amazon-s3rec, movielens, taobao, csv, synthetic");
}

int convert(const Args& args) {
  po::options_description common("convert");
  auto add = common.add_options();
  add("format", po::value<std::string>()->required(),
      "amazon-s3rec | movielens | taobao | csv | synthetic");
  add("input", po::value<std::string>(), "input file or directory (not for synthetic)");
  add("output", po::value<std::string>()->required(), "dataset directory to write");
  add("num-shards", po::value<int>()->default_value(1), "user shards (hash of the raw user id)");
  add("split", po::value<std::string>()->default_value("leave-one-out"),
      "leave-one-out | temporal");
  add("valid-frac", po::value<double>()->default_value(0.1, "0.1"),
      "temporal: fraction of events (by time) in validation");
  add("test-frac", po::value<double>()->default_value(0.1, "0.1"),
      "temporal: fraction of events (by time) in test");
  add("valid-cut", po::value<int64_t>(), "temporal: explicit validation cut (unix seconds)");
  add("test-cut", po::value<int64_t>(), "temporal: explicit test cut (unix seconds)");
  add("min-seq-len", po::value<int>()->default_value(3), "drop users with fewer events");
  add("cold-items", po::value<double>()->default_value(0.0, "0"),
      "hold out this share of the items (seeded): only their test-target events are kept, so "
      "they are cold in training and form eval's `cold` slice");
  add("cold-seed", po::value<uint64_t>()->default_value(1), "seed of --cold-items");
  add("item-text", po::value<std::string>()->default_value(""),
      "item texts: TSV with a header, raw item id first, text last (any format)");
  add("text-tokenizer", po::value<std::string>()->default_value(""),
      "SentencePiece .model for --item-text (default: train one on the texts)");
  add("text-vocab-size", po::value<int>()->default_value(4000),
      "pieces of the trained tokenizer (an upper bound on small corpora)");
  add("text-model-type", po::value<std::string>()->default_value("unigram"),
      "trained tokenizer: unigram | bpe");
  add("max-text-tokens", po::value<int64_t>()->default_value(32),
      "keep each item's first N text pieces");
  po::options_description fmt_opts("format options");
  auto fadd = fmt_opts.add_options();
  fadd("allow-missing-attributes", po::bool_switch(),
       "amazon-s3rec: accept items missing from NAME_item2attributes.json");
  fadd("min-rating", po::value<double>()->default_value(0.0, "0"), "movielens: keep ratings >= R");
  fadd("behaviors", po::value<std::string>()->default_value(""),
       "taobao: comma-separated subset of pv,cart,fav,buy (default all)");
  fadd("delimiter", po::value<std::string>()->default_value(","), "csv: field delimiter ('tab')");
  fadd("header", po::bool_switch(), "csv: the first line names the columns");
  fadd("user-col", po::value<std::string>(), "csv: user column (0-based index or header name)");
  fadd("item-col", po::value<std::string>(), "csv: item column");
  fadd("time-col", po::value<std::string>(), "csv: time column (default: file order)");
  fadd("category-col", po::value<std::string>(), "csv: item category column");
  fadd("attributes-col", po::value<std::string>(), "csv: item attributes column");
  fadd("attr-delimiter", po::value<std::string>()->default_value("|"),
       "csv: separator inside the attributes column");
  fadd("users", po::value<int64_t>()->default_value(1000), "synthetic: users");
  fadd("items", po::value<int64_t>()->default_value(500), "synthetic: items");
  fadd("categories", po::value<int64_t>()->default_value(10), "synthetic: categories");
  fadd("attributes", po::value<int64_t>()->default_value(40), "synthetic: attributes");
  fadd("mean-length", po::value<double>()->default_value(20.0, "20"),
       "synthetic: mean sequence length");
  fadd("content-dim", po::value<int64_t>()->default_value(16), "synthetic: content vector size");
  fadd("seed", po::value<uint64_t>()->default_value(1), "synthetic: random seed");
  fadd("cover-items", po::bool_switch(),
       "synthetic: every item gets >= 1 interaction (needs users x mean length >= items)");
  common.add(fmt_opts);
  po::variables_map vm;
  if (!parse_options("shard convert", args, common, vm)) return 0;
  const auto format = vm["format"].as<std::string>();
  for (const auto& [f, opts] : kFormatOptions) {
    if (f == format) continue;
    for (const auto& o : opts) {
      DIVREC_CHECK_HINT(!vm.count(o) || vm[o].defaulted(), "see divrec shard convert --help", "--",
                        o, " is a ", f, " option, not for --format ", format);
    }
  }
  po::variables_map shown;  // the common options and this format's only
  for (const auto& [k, v] : vm) {
    bool other = false;
    for (const auto& [f, opts] : kFormatOptions) {
      other |= f != format && std::find(opts.begin(), opts.end(), k) != opts.end();
    }
    if (!other) shown.insert({k, v});
  }
  core::log0("{}", format_config_table("divrec shard convert", shown));

  data::WriteOptions w;
  w.output_dir = vm["output"].as<std::string>();
  w.num_shards = vm["num-shards"].as<int>();
  w.min_seq_len = vm["min-seq-len"].as<int>();
  w.cold_items = vm["cold-items"].as<double>();
  w.cold_seed = vm["cold-seed"].as<uint64_t>();
  w.command = command_line();
  w.split.type = vm["split"].as<std::string>();
  w.split.valid_frac = vm["valid-frac"].as<double>();
  w.split.test_frac = vm["test-frac"].as<double>();
  DIVREC_CHECK_HINT(vm.count("valid-cut") == vm.count("test-cut"), "pass both or neither",
                    "--valid-cut and --test-cut go together");
  if (vm.count("valid-cut")) {
    DIVREC_CHECK_HINT(w.split.type == "temporal", "add --split temporal",
                      "--valid-cut/--test-cut need --split temporal");
    w.split.explicit_cuts = true;
    w.split.valid_cut = vm["valid-cut"].as<int64_t>();
    w.split.test_cut = vm["test-cut"].as<int64_t>();
  }
  RawDataset raw = run_converter(format, vm);
  data::ItemTextOptions text;
  text.path = vm["item-text"].as<std::string>();
  text.tokenizer = vm["text-tokenizer"].as<std::string>();
  text.train.vocab_size = vm["text-vocab-size"].as<int>();
  text.train.model_type = vm["text-model-type"].as<std::string>();
  text.max_tokens = vm["max-text-tokens"].as<int64_t>();
  data::attach_item_text(&raw, text);
  data::write_dataset(raw, w);
  return 0;
}

// Nearest-rank percentile of sorted values: the ceil(p/100 * n)-th smallest.
int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

int inspect(const Args& args) {
  po::options_description desc("inspect");
  auto add = desc.add_options();
  add("dir", po::value<std::string>()->required(), "dataset directory");
  add("json", po::bool_switch(), "print JSON instead of text");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("shard inspect", args, desc, vm, &pos)) return 0;
  const auto dir = vm["dir"].as<std::string>();
  data::Manifest m = data::read_manifest(dir);
  data::ItemTable t = data::read_item_table(dir);
  auto lengths = data::read_sequence_lengths(dir);
  std::sort(lengths.begin(), lengths.end());
  nlohmann::json seq;
  if (!lengths.empty()) {
    double mean = static_cast<double>(m.num_interactions) / static_cast<double>(lengths.size());
    seq = {{"min", lengths.front()},         {"p50", percentile(lengths, 50)},
           {"p90", percentile(lengths, 90)}, {"p99", percentile(lengths, 99)},
           {"max", lengths.back()},          {"mean", std::round(mean * 100) / 100}};
  }
  // Cold items (`--cold-items` hold-out, or simply never in a train prefix).
  const auto cold = std::count(t.popularity.begin(), t.popularity.end(), int64_t{0});
  const auto content_missing = std::count(t.has_content.begin(), t.has_content.end(), 0);
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& s : m.shards) {
    shards.push_back({{"file", s.file},
                      {"users", s.num_users},
                      {"interactions", s.num_events},
                      {"crc32", s.crc32}});
  }
  nlohmann::json j = {
      {"dir", dir},
      {"format_version", m.format_version},
      {"source", m.source},
      {"input", m.input},
      {"command", m.command},
      {"split", m.split},
      {"users", m.num_users},
      {"items", m.num_items},
      {"interactions", m.num_interactions},
      {"categories", m.num_categories},
      {"category_method", m.category_method},
      {"attributes", m.num_attributes},
      {"content_dim", m.content_dim},
      {"content_model", t.content_model},
      {"content_encoder", t.content_encoder.empty() ? nlohmann::json(nullptr)
                                                    : nlohmann::json::parse(t.content_encoder)},
      {"content_dtype", data::content_dtype_name(t.content_dtype)},
      {"content_missing", content_missing},
      {"dataset_version", m.dataset_version},
      {"text_vocab", t.text_vocab},
      {"text_pieces", t.text_ids.size()},
      {"text_max_tokens", t.text_max_tokens},
      {"text_tokenizer_bytes", t.text_tokenizer.size()},
      {"items_without_train_interactions", cold},
      {"shards", shards},
      {"seq_len", seq}};
  if (m.split == "temporal") {
    j["valid_cut_time"] = m.valid_cut_time;
    j["test_cut_time"] = m.test_cut_time;
  }
  if (vm["json"].as<bool>()) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::string out = fmt::format("dataset {} (format v{}, source {}, split {})\n", dir,
                                m.format_version, m.source, m.split);
  out += fmt::format("  users         {}\n  items         {}\n  interactions  {}\n", m.num_users,
                     m.num_items, m.num_interactions);
  out += fmt::format("  categories    {} ({})\n  attributes    {}\n", m.num_categories,
                     m.category_method, m.num_attributes);
  out +=
      m.content_dim > 0
          ? fmt::format("  content       dim {} {} ({}; {} items without a vector)\n",
                        m.content_dim, data::content_dtype_name(t.content_dtype), t.content_model,
                        content_missing)
          : std::string("  content       none\n");
  out += t.text_vocab > 0
             ? fmt::format(
                   "  item text     {} pieces in the vocabulary, {} in the table, at most {} "
                   "per item (SentencePiece model, {} bytes)\n",
                   t.text_vocab, t.text_ids.size(), t.text_max_tokens, t.text_tokenizer.size())
             : std::string("  item text     none\n");
  out += fmt::format("  cold items    {} (no train interaction)\n", cold);
  if (m.split == "temporal") {
    out += fmt::format("  cut times     valid {}  test {}\n", m.valid_cut_time, m.test_cut_time);
  }
  if (!seq.empty()) {
    out += fmt::format("  seq length    min {}  p50 {}  p90 {}  p99 {}  max {}  mean {:.2f}\n",
                       seq["min"].get<int64_t>(), seq["p50"].get<int64_t>(),
                       seq["p90"].get<int64_t>(), seq["p99"].get<int64_t>(),
                       seq["max"].get<int64_t>(), seq["mean"].get<double>());
  }
  out += fmt::format("  shards        {}\n", m.shards.size());
  for (const auto& s : m.shards) {
    out += fmt::format("    {}  {:>9} users  {:>11} interactions  crc32 {:08x}\n", s.file,
                       s.num_users, s.num_events, s.crc32);
  }
  out += fmt::format("  command       {}\n", m.command);
  if (m.dataset_version > 0) {
    out += fmt::format("  version       {} (items {}, previous {}): {}\n", m.dataset_version,
                       m.items_file, m.previous_manifest, m.version_command);
  }
  std::cout << out;
  return 0;
}

int validate(const Args& args) {
  po::options_description desc("validate");
  desc.add_options()("dir", po::value<std::string>()->required(), "dataset directory");
  po::positional_options_description pos;
  pos.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("shard validate", args, desc, vm, &pos)) return 0;
  const auto dir = vm["dir"].as<std::string>();
  data::validate_dataset(dir);
  data::Manifest m = data::read_manifest(dir);
  std::cout << fmt::format(
      "OK: {} is a valid format-v{} dataset ({} users, {} items, {} interactions, {} shards; "
      "checksums match)\n",
      dir, m.format_version, m.num_users, m.num_items, m.num_interactions, m.shards.size());
  return 0;
}

}  // namespace

int cmd_shard(const Args& args) {
  const std::string usage =
      "usage: divrec shard convert --format F --output DIR [options]   (see --help)\n"
      "       divrec shard inspect DIR [--json]\n"
      "       divrec shard validate DIR\n"
      "       divrec shard add-content DIR --vectors FILE --name NAME [options]   (see --help)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return args.empty() ? 1 : 0;
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "convert") return convert(rest);
  if (args[0] == "inspect") return inspect(rest);
  if (args[0] == "validate") return validate(rest);
  if (args[0] == "add-content") return shard_add_content(rest);
  std::cerr << "divrec shard: unknown subcommand '" << args[0] << "'\n" << usage;
  return 1;
}

}  // namespace divrec::launcher
