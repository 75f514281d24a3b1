// Command-line plumbing shared by every subcommand: Boost.Program_options with long options and
// an INI `--config FILE` (section-less keys or [section] keys named like the options), the
// resolved-config table rank 0 prints, and saving that config next to the outputs.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace divrec::launcher {

namespace po = boost::program_options;

using Args = std::vector<std::string>;

// Parses args (the words after the subcommand). Adds --help and --config. Values given on the
// command line win over the INI file. Unknown options and bad values throw divrec::Error naming
// the option. Returns false when --help was printed (the command should return 0).
bool parse_options(const std::string& command, const Args& args, po::options_description& desc,
                   po::variables_map& vm,
                   const po::positional_options_description* positional = nullptr);

// "key = value" lines for every option that has a value (defaulted or given), sorted by key.
std::string format_config_ini(const po::variables_map& vm);
// The boxed table rank 0 prints at start.
std::string format_config_table(const std::string& title, const po::variables_map& vm);

// The full command line of this process, for manifests and configs.
void set_command_line(int argc, char** argv);
const std::string& command_line();

// Parses "5,10,20" into integers (throws naming the option on a bad element).
std::vector<int> parse_int_list(const std::string& option, const std::string& text);
std::vector<double> parse_double_list(const std::string& option, const std::string& text);

}  // namespace divrec::launcher
