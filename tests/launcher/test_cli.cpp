// Command-line parsing shared by every subcommand: a later option overrides an earlier one, the
// command line wins over --config, INI sections are ignored, and bad input names the option.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/check.h"
#include "launcher/cli.h"

using namespace divrec::launcher;

namespace {

struct Parsed {
  double lr = 0;
  std::string decay;
  int epochs = 0;
};

Parsed parse(const Args& args) {
  Parsed p;
  po::options_description d;
  d.add_options()("lr", po::value(&p.lr)->default_value(1e-3), "learning rate")(
      "decay", po::value(&p.decay)->default_value("constant"), "schedule")(
      "epochs", po::value(&p.epochs)->default_value(20), "epochs");
  po::variables_map vm;
  EXPECT_TRUE(parse_options("train", args, d, vm));
  return p;
}

std::string write_ini(const std::string& text) {
  auto path = (std::filesystem::temp_directory_path() /
               ("divrec_test_cli_" + std::to_string(::getpid()) + ".ini"))
                  .string();
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(Cli, DefaultsAndValues) {
  auto p = parse({});
  EXPECT_DOUBLE_EQ(p.lr, 1e-3);
  EXPECT_EQ(p.decay, "constant");
  p = parse({"--lr", "0.01", "--decay=cosine"});
  EXPECT_DOUBLE_EQ(p.lr, 0.01);
  EXPECT_EQ(p.decay, "cosine");
}

TEST(Cli, LaterOptionOverridesEarlier) {
  auto p = parse({"--decay", "constant", "--epochs", "30", "--decay", "cosine", "--epochs=5"});
  EXPECT_EQ(p.decay, "cosine");
  EXPECT_EQ(p.epochs, 5);
}

TEST(Cli, CommandLineWinsOverConfigFile) {
  auto ini = write_ini("[train]\nlr = 0.5\ndecay = linear\n");
  auto p = parse({"--config", ini, "--decay", "cosine"});
  EXPECT_DOUBLE_EQ(p.lr, 0.5);   // from the file (section header ignored)
  EXPECT_EQ(p.decay, "cosine");  // command line wins
  EXPECT_EQ(p.epochs, 20);       // default
  std::filesystem::remove(ini);
}

// The message parse_options throws for args, or "" when it does not throw.
std::string parse_error(const Args& args) {
  po::options_description d;
  int epochs = 0;
  d.add_options()("epochs", po::value(&epochs), "epochs");
  po::variables_map vm;
  try {
    parse_options("train", args, d, vm);
  } catch (const divrec::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Cli, BadInputNamesTheOption) {
  EXPECT_NE(parse_error({"--epochs", "many"}).find("epochs"), std::string::npos);
  EXPECT_NE(parse_error({"--bogus", "3"}).find("bogus"), std::string::npos);
  auto missing = (std::filesystem::temp_directory_path() / "divrec_no_such.ini").string();
  EXPECT_NE(parse_error({"--config", missing}), "");
}

// Found by fuzz/fuzz_ini: Boost.Program_options never returns from building the error message of
// an option whose name or value holds one of its placeholders ("%canonical_option%", ...).
// parse_options refuses that text first, naming where it is.
TEST(Cli, BoostPlaceholdersAreRefusedNotLoopedOn) {
  auto ini = write_ini("[train]\n%canonical_option%x-len = 50\n");
  auto msg = parse_error({"--config", ini});
  EXPECT_NE(msg.find(ini + ":2: unsupported text '%canonical_option%'"), std::string::npos) << msg;
  std::filesystem::remove(ini);
  msg = parse_error({"--epochs", "%value%"});
  EXPECT_NE(msg.find("divrec train: unsupported text '%value%'"), std::string::npos) << msg;
  EXPECT_EQ(parse_error({"--epochs", "3"}), "");
  EXPECT_DOUBLE_EQ(parse({"--decay", "50%"}).lr, 1e-3);  // a lone % is fine
}
