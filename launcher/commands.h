// The subcommands of the divrec executable; each lives in its own cmd_*.cpp and returns an exit
// code. `main` owns error handling: an exception anywhere is logged with the rank and aborts the
// job.
#pragma once

#include "launcher/cli.h"

namespace divrec::launcher {

int cmd_shard(const Args& args);          // convert | inspect | validate | add-content
int shard_add_content(const Args& args);  // cmd_shard_content.cpp
int cmd_train(const Args& args);
int cmd_eval(const Args& args);
int cmd_export(const Args& args);
int cmd_append_items(const Args& args);
int cmd_encode_items(const Args& args);  // cmd_encode_items.cpp
int cmd_recommend(const Args& args);
int cmd_serve(const Args& args);

}  // namespace divrec::launcher
