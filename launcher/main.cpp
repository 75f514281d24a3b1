// divrec: one executable, subcommands. Every exception is logged with its rank and brings the
// whole job down (MPI_Abort through the job communicator), so no rank is left hanging.
#include <cstring>
#include <exception>
#include <iostream>

#include "core/comm/communicator.h"
#include "core/log.h"
#include "launcher/commands.h"

namespace {

struct Entry {
  const char* name;
  int (*fn)(const divrec::launcher::Args&);
  const char* help;
};

const Entry kCommands[] = {
    {"shard", divrec::launcher::cmd_shard, "convert | inspect | validate datasets (HDF5 shards)"},
    {"encode-items", divrec::launcher::cmd_encode_items,
     "item texts -> a pre-trained encoder's vectors as content (mpirun)"},
    {"train", divrec::launcher::cmd_train, "pre-train / fine-tune the transformer (mpirun)"},
    {"eval", divrec::launcher::cmd_eval, "distributed evaluation with diversity re-ranking"},
    {"export", divrec::launcher::cmd_export, "write the self-contained serving artifact"},
    {"append-items", divrec::launcher::cmd_append_items,
     "append new items to an artifact and its ANN index"},
    {"recommend", divrec::launcher::cmd_recommend, "diverse top-K for one history or a batch"},
    {"serve", divrec::launcher::cmd_serve, "HTTP/JSON recommendation server"},
};

void usage() {
  std::cout << "usage: divrec <command> [options]   (divrec <command> --help for options)\n\n";
  for (const auto& e : kCommands) std::cout << "  " << e.name << "\t" << e.help << "\n";
}

[[noreturn]] void fail(const std::string& what) {
  divrec::core::log_error("{}", what);
  auto comm = divrec::core::job_communicator();
  if (comm && comm->world() > 1) comm->abort(2);  // brings every rank down
  std::_Exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  divrec::launcher::set_command_line(argc, argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? 1 : 0;
  }
  divrec::launcher::Args args(argv + 2, argv + argc);
  for (const auto& e : kCommands) {
    if (std::strcmp(argv[1], e.name) != 0) continue;
    try {
      int rc = e.fn(args);
      divrec::core::set_job_communicator(nullptr);  // finalises MPI before static destructors
      return rc;
    } catch (const std::exception& ex) {
      fail(ex.what());
    } catch (...) {
      fail("unknown exception");
    }
  }
  std::cerr << "divrec: unknown command '" << argv[1] << "'\n";
  usage();
  return 1;
}
