// FairnessExport I/O (see fairness_export.h): the eval report -> policy, and the /fairness group.
#include "serving/fairness_export.h"

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/fs.h"

namespace divrec::serving {

namespace h5 = data::h5;

FairnessExport fairness_from_report(const std::string& path, const data::ItemTable& items) {
  FairnessExport f;
  nlohmann::json r;
  try {
    r = nlohmann::json::parse(core::read_file(path));
  } catch (const std::exception& e) {
    DIVREC_FAIL("--fairness-policy '", path, "': not a JSON eval report: ", e.what());
  }
  DIVREC_CHECK_HINT(r.contains("fairness") && r["fairness"].is_object(),
                    "run `divrec eval --fairness dual` without a tolerance sweep",
                    "--fairness-policy '", path, "' has no single fairness policy");
  const auto& j = r["fairness"];
  try {
    f.policy.groups = eval::make_exposure_groups(j.at("groups").get<std::string>(), items);
    const auto names = j.at("group_names").get<std::vector<std::string>>();
    DIVREC_CHECK_HINT(names == f.policy.groups.names, "export with the dataset eval used",
                      "--fairness-policy '", path,
                      "': the groups rebuilt over this catalog differ from the report's");
    f.policy.mu = j.at("multiplier_vector").get<std::vector<double>>();
    for (const auto& n : names) f.target.push_back(j.at("target").at(n).get<double>());
    f.weights = eval::parse_exposure_weights(j.at("weights").get<std::string>());
    f.k = j.at("k").get<int>();
    f.tolerance = j.at("tolerance").get<double>();
    f.min_group_share = j.at("min_group_share").get<double>();
    f.step = j.at("step").get<double>();
    f.score_spread = j.at("score_spread").get<double>();
  } catch (const nlohmann::json::exception& e) {
    DIVREC_FAIL("--fairness-policy '", path, "': bad fairness object: ", e.what());
  }
  DIVREC_CHECK(f.policy.mu.size() == f.policy.groups.names.size() && f.k > 0, "--fairness-policy '",
               path, "': ", f.policy.mu.size(), " multipliers for ", f.policy.groups.names.size(),
               " groups");
  f.source = path;
  return f;
}

void write_fairness(const h5::Group& root, const FairnessExport& f) {
  if (!f.present()) return;
  auto g = root.create_group("fairness");
  g.set_attr_string("params", nlohmann::json{{"groups", f.policy.groups.spec},
                                             {"weights", eval::exposure_weights_name(f.weights)},
                                             {"k", f.k},
                                             {"tolerance", f.tolerance},
                                             {"min_group_share", f.min_group_share},
                                             {"step", f.step},
                                             {"score_spread", f.score_spread},
                                             {"source", f.source}}
                                  .dump());
  h5::write_vector(g, "item_group", f.policy.groups.item_group);
  h5::write_vector(g, "multipliers", f.policy.mu);
  h5::write_vector(g, "target", f.target);
  g.write_strings("group_names", f.policy.groups.names);
}

FairnessExport read_fairness(const h5::Group& root, int64_t num_items, const std::string& where) {
  FairnessExport f;
  if (!root.has("fairness")) return f;
  auto g = root.open_group("fairness");
  try {
    const auto p = nlohmann::json::parse(g.attr_string("params"));
    f.policy.groups.spec = p.at("groups").get<std::string>();
    f.weights = eval::parse_exposure_weights(p.at("weights").get<std::string>());
    f.k = p.at("k").get<int>();
    f.tolerance = p.at("tolerance").get<double>();
    f.min_group_share = p.at("min_group_share").get<double>();
    f.step = p.at("step").get<double>();
    f.score_spread = p.at("score_spread").get<double>();
    f.source = p.at("source").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    DIVREC_FAIL("serving artifact '", where, "': bad /fairness params: ", e.what());
  }
  f.policy.groups.item_group = h5::read_vector<int32_t>(g, "item_group");
  f.policy.mu = h5::read_vector<double>(g, "multipliers");
  f.target = h5::read_vector<double>(g, "target");
  f.policy.groups.names = g.read_strings("group_names");
  const size_t G = f.policy.groups.names.size();
  bool ok = static_cast<int64_t>(f.policy.groups.item_group.size()) == num_items &&
            f.policy.mu.size() == G && f.target.size() == G && G > 0 && f.k > 0;
  for (int32_t x : f.policy.groups.item_group) ok = ok && x >= -1 && x < static_cast<int32_t>(G);
  DIVREC_CHECK_HINT(ok, "re-export the model with `divrec export`", "serving artifact '", where,
                    "': /fairness is inconsistent (", f.policy.groups.item_group.size(),
                    " item groups for ", num_items, " items, ", G, " groups, ", f.policy.mu.size(),
                    " multipliers, ", f.target.size(), " targets)");
  return f;
}

uint32_t fairness_checksum(const FairnessExport& f, uint32_t crc) {
  if (!f.present()) return crc;
  const auto& ig = f.policy.groups.item_group;
  crc = core::crc32_bytes(ig.data(), ig.size() * sizeof(int32_t), crc);
  crc = core::crc32_bytes(f.policy.mu.data(), f.policy.mu.size() * sizeof(double), crc);
  return core::crc32_bytes(f.target.data(), f.target.size() * sizeof(double), crc);
}

}  // namespace divrec::serving
