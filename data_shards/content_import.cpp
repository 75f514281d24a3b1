// import_content (see content_import.h).
#include "data_shards/content_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "core/check.h"
#include "core/log.h"
#include "data_shards/content_dtype.h"
#include "data_shards/content_pca.h"
#include "data_shards/dataset_version.h"
#include "data_shards/reader.h"

namespace divrec::data {

ContentImportSummary apply_content(const ContentImportOptions& o, const ContentRows& rows,
                                   ItemTable* t) {
  DIVREC_CHECK_HINT(!o.name.empty(), "pass --name, e.g. --name all-MiniLM-L6-v2",
                    "the content model needs a name");
  DIVREC_CHECK_HINT(o.pca_dim >= 0, "pass --pca DIM >= 1", "--pca ", o.pca_dim);
  DIVREC_CHECK_HINT(!o.whiten || o.pca_dim > 0, "add --pca DIM", "--whiten needs --pca");
  const auto n = static_cast<size_t>(t->num_items);
  const auto din = static_cast<size_t>(rows.dim);
  std::unordered_map<std::string, int64_t> dense;
  dense.reserve(n);
  for (size_t i = 0; i < n; ++i) dense.emplace(t->raw_ids[i], static_cast<int64_t>(i));

  ContentImportSummary s;
  s.rows = static_cast<int64_t>(rows.ids.size());
  s.input_dim = rows.dim;
  std::vector<int64_t> row_of(n, -1);  // file row of each catalog item
  for (size_t k = 0; k < rows.ids.size(); ++k) {
    auto it = dense.find(rows.ids[k]);
    if (it == dense.end()) {
      DIVREC_CHECK_HINT(o.skip_unknown_ids,
                        "pass --skip-unknown-ids to ignore vectors of items outside the catalog "
                        "(e.g. items of users dropped by --min-seq-len)",
                        rows.where[k], ": item id '", rows.ids[k], "' is not in the dataset (",
                        o.dir, " has ", n, " items)");
      ++s.skipped_unknown;
      continue;
    }
    auto& r = row_of[static_cast<size_t>(it->second)];
    DIVREC_CHECK_HINT(r < 0, "give each item one vector", rows.where[k], ": item id '", rows.ids[k],
                      "' appears twice (first at ",
                      rows.where[static_cast<size_t>(std::max<int64_t>(r, 0))], ")");
    r = static_cast<int64_t>(k);
  }
  std::vector<int64_t> have;  // catalog items with a vector, ascending
  for (size_t i = 0; i < n; ++i) {
    if (row_of[i] >= 0) have.push_back(static_cast<int64_t>(i));
  }
  s.matched = static_cast<int64_t>(have.size());
  s.missing = t->num_items - s.matched;
  DIVREC_CHECK_HINT(s.matched > 0, "check that the file's ids are the dataset's raw item ids",
                    "no vector of '", o.source.vectors, "' belongs to an item of ", o.dir);
  if (o.require_all && s.missing > 0) {
    for (size_t i = 0; i < n; ++i) {
      DIVREC_CHECK_HINT(row_of[i] >= 0, "drop --require-all to give such items the fallback",
                        "item '", t->raw_ids[i], "' (dense id ", i, ") has no vector in '",
                        o.source.vectors, "' (", s.missing, " items have none)");
    }
  }
  // Rows of the items that have a vector, in dense id order.
  std::vector<float> x(have.size() * din);
  for (size_t j = 0; j < have.size(); ++j) {
    const auto r = static_cast<size_t>(row_of[static_cast<size_t>(have[j])]);
    std::copy_n(rows.values.begin() + static_cast<ptrdiff_t>(r * din), din,
                x.begin() + static_cast<ptrdiff_t>(j * din));
  }
  size_t dout = din;
  s.pca_explained = 1.0;
  if (o.pca_dim > 0) {
    auto p = pca_reduce(x, s.matched, rows.dim, o.pca_dim, o.whiten);
    x = std::move(p.projected);
    dout = static_cast<size_t>(o.pca_dim);
    s.pca_explained = p.explained_ratio;
  }
  t->content_dim = static_cast<int64_t>(dout);
  t->content_model = o.name;
  t->content_encoder = o.encoder;
  t->content.assign(n * dout, 0.0f);
  t->has_content.assign(n, 0);
  for (size_t j = 0; j < have.size(); ++j) {
    const auto i = static_cast<size_t>(have[j]);
    std::copy_n(x.begin() + static_cast<ptrdiff_t>(j * dout), dout,
                t->content.begin() + static_cast<ptrdiff_t>(i * dout));
    t->has_content[i] = 1;
  }
  t->content_dtype = o.content_dtype;
  round_to_content_dtype(o.content_dtype, t->content.data(), t->content.size(),
                         "--content-dtype " + std::string(content_dtype_name(o.content_dtype)) +
                             " (" + o.name + " vectors)");
  s.content_dim = t->content_dim;
  return s;
}

ContentImportSummary import_content(const ContentImportOptions& o) {
  return commit_content(o, read_content_rows(o.source));
}

ContentImportSummary commit_content(const ContentImportOptions& o, const ContentRows& rows) {
  Manifest m = read_manifest(o.dir);
  ItemTable t = read_item_table(o.dir);
  ContentImportSummary s = apply_content(o, rows, &t);
  s.manifest = commit_items_version(o.dir, m, t, o.command);
  core::log0(
      "{}: version {} with content '{}' ({} -> {} dims{}, {}): {} of {} items have a vector, "
      "{} get the fallback (zeros, has_content = 0){}",
      o.dir, s.manifest.dataset_version, o.name, s.input_dim, s.content_dim,
      o.pca_dim > 0 ? fmt::format(", PCA keeps {:.1f}% of the variance{}", 100 * s.pca_explained,
                                  o.whiten ? ", whitened" : "")
                    : std::string(),
      content_dtype_name(t.content_dtype), s.matched, t.num_items, s.missing,
      s.skipped_unknown > 0 ? fmt::format("; {} vectors of unknown ids skipped", s.skipped_unknown)
                            : std::string());
  return s;
}

}  // namespace divrec::data
