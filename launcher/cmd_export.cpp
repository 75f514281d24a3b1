// `divrec export`: checkpoint + dataset item table -> the self-contained serving artifact (one
// HDF5 file, docs/serving.md). One process, no MPI; the request-settings options given here
// become the artifact's defaults.
#include <fmt/format.h>

#include "core/log.h"
#include "core/threads.h"
#include "launcher/commands.h"
#include "launcher/retrieval_options.h"
#include "launcher/settings_options.h"
#include "serving/export.h"

namespace divrec::launcher {

int cmd_export(const Args& args) {
  serving::ExportOptions o;
  int threads = 0;
  po::options_description d;
  // clang-format off
  d.add_options()
    ("checkpoint", po::value(&o.checkpoint)->required(), "checkpoint file or run directory (best.pt)")
    ("data", po::value(&o.data_dir)->required(), "the dataset the model was trained on")
    ("output", po::value(&o.output)->required(), "the artifact to write (MODEL.h5)")
    ("threads", po::value(&threads)->default_value(threads), "threads (0 = auto)")
    ("fairness-policy", po::value(&o.fairness_report), "REPORT.json of divrec eval --fairness dual: store its exposure groups and multipliers (serve/recommend apply them)");
  // clang-format on
  add_settings_options(d);
  RetrievalArgs ra;
  // Export only builds: --retrieval says whether (auto: from 200000 items on); the search
  // parameters belong to eval / recommend / serve.
  d.add_options()("retrieval", po::value(&ra.mode)->default_value("auto"),
                  "exact | ann | auto: build an ANN index beside the artifact (auto: from 200000 "
                  "items on)");
  add_ann_build_options(d, ra);
  po::variables_map vm;
  if (!parse_options("export", args, d, vm)) return 0;
  core::configure_threads(core::resolve_threads(threads));
  o.retrieval = eval::parse_retrieval_mode(ra.mode, "--retrieval");
  o.ann = resolve_ann_build(ra, core::resolve_threads(threads));
  o.defaults = resolve_settings(vm, serving::RecommendSettings{});
  o.command = command_line();
  core::log0("{}", format_config_table("divrec export", vm));

  auto s = serving::export_artifact(o);
  core::log0(
      "export: wrote '{}' ({:.1f} MiB): {} items, {} weight tensors ({} parameters), "
      "checksum {:#010x}, from '{}'",
      o.output, static_cast<double>(s.bytes) / (1 << 20), s.items, s.weights, s.parameters,
      s.checksum, s.checkpoint);
  if (!s.ann_index.empty()) {
    core::log0("export: ANN index '{}' beside it (built in {:.1f} s)", s.ann_index, s.ann_build_s);
  }
  return 0;
}

}  // namespace divrec::launcher
