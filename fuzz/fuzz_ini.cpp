// The INI readers: `--config FILE` of every subcommand (launcher::parse_options: [section] lines
// dropped, then Boost.Program_options with the value types divrec's options use) and the model
// config text stored in checkpoints and artifacts (model::from_ini).
#include "fuzz/fuzz_util.h"
#include "launcher/cli.h"
#include "trainer/model/config_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace divrec;
  namespace po = boost::program_options;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean([&] { model::from_ini(text); });
  const std::string path = fuzz::write_file("config.ini", text);
  fuzz::expect_clean([&] {
    po::options_description desc("fuzz");
    desc.add_options()("data", po::value<std::string>(), "")(
        "epochs", po::value<int>()->default_value(3), "")("lr", po::value<double>(), "")(
        "batch-size", po::value<int64_t>(), "")("seed", po::value<uint64_t>(), "")(
        "k", po::value<std::vector<std::string>>()->multitoken(), "")("amp", po::bool_switch(), "");
    po::variables_map vm;
    if (launcher::parse_options("fuzz", {"--config", path, "--epochs", "2"}, desc, vm)) {
      launcher::format_config_ini(vm);
      launcher::format_config_table("fuzz", vm);
    }
  });
  return 0;
}
