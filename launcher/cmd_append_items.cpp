// `divrec append-items`: new items (JSON lines of features) appended to a serving artifact and its
// ANN index, written atomically (by default over the artifact itself, which `serve --reload`
// then picks up). One process, no MPI.
#include <fmt/format.h>

#include "core/log.h"
#include "core/threads.h"
#include "launcher/commands.h"
#include "serving/append_items.h"

namespace divrec::launcher {

int cmd_append_items(const Args& args) {
  std::string model_path, items_path, output;
  po::options_description d;
  // clang-format off
  d.add_options()
    ("model", po::value(&model_path)->required(), "serving artifact (divrec export)")
    ("items", po::value(&items_path)->required(), "JSON lines: {\"id\", \"category\", \"attributes\": [...], \"content\": [...]}")
    ("output", po::value(&output), "the artifact to write (default: --model, replaced atomically)");
  // clang-format on
  po::variables_map vm;
  if (!parse_options("append-items", args, d, vm)) return 0;
  if (output.empty()) output = model_path;
  core::configure_threads(core::resolve_threads(0));
  auto items = serving::read_new_items(items_path);
  auto s = serving::append_items(model_path, items, output);
  core::log0("append-items: {} items appended, '{}' now has {} items (checksum {:#010x}){}",
             s.appended, output, s.items, s.checksum,
             s.ann_index.empty() ? "" : fmt::format(", ANN index '{}'", s.ann_index));
  return 0;
}

}  // namespace divrec::launcher
