// Beyond-accuracy metrics of one list at cut-off K (the first min(K, len) items): intra-list
// diversity (embedding and category), category / attribute coverage, alpha-NDCG over categories,
// calibration KL, novelty and serendipity. Definitions and sources: docs/diversity.md.
#pragma once

#include <cstdint>
#include <vector>

#include "data_shards/dataset.h"
#include "eval/rerank/similarity.h"
#include "eval/rerank/user_profile.h"

namespace divrec::eval {

// Mean over pairs of 1 - sim(i, j) (ILD, Ziegler et al. 2005); 0 for fewer than two items.
// `row` is scratch (grown to K floats).
double intra_list_diversity(const int32_t* list, int len, int k, const ItemSimilarity& sim,
                            std::vector<float>& row);
// Fraction of pairs whose categories differ (-1 = none compares as a value of its own).
double category_ild(const int32_t* list, int len, int k, const data::ItemTable& table);
// Distinct categories (category -1 not counted) and distinct attribute ids in the top K.
int distinct_categories(const int32_t* list, int len, int k, const data::ItemTable& table,
                        std::vector<int32_t>& scratch);
int distinct_attributes(const int32_t* list, int len, int k, const data::ItemTable& table,
                        std::vector<int32_t>& scratch);
// Distinct categories / min(K, C): 1 = as many categories as the cut-off allows.
double category_coverage(const int32_t* list, int len, int k, const data::ItemTable& table,
                         std::vector<int32_t>& scratch);

// alpha-NDCG@K (Clarke et al., SIGIR 2008) with the target items' categories as the subtopics:
// item i at rank r gains (1 - alpha)^(earlier listed items of its category) when its category is
// a target category, else 0; discount log2(r + 1). The ideal list takes the target categories
// round-robin (the optimum for one category per item), limited by each category's catalog size
// `category_size[c]`. 0 when no target has a category.
double alpha_ndcg(const int32_t* list, int len, int k, const int32_t* targets, int num_targets,
                  const data::ItemTable& table, const std::vector<int64_t>& category_size,
                  double alpha, std::vector<int32_t>& scratch);

// Steck's miscalibration KL(p || q~) in nats, p = history distribution (must be non-empty), q =
// category shares of the top K's categorised items, q~ = (1 - alpha) q + alpha p.
double list_calibration_kl(const int32_t* list, int len, int k, const data::ItemTable& table,
                           const CategoryDistribution& p, double alpha,
                           std::vector<double>& scratch);

// Self-information -log2((pop_i + 1) / (sum pop + I)) of every item (Laplace-smoothed train
// popularity), for novelty.
std::vector<double> item_self_information(const data::ItemTable& table);
// Mean self-information of the top K (Zhou et al. 2010 novelty); 0 for an empty list.
double novelty(const int32_t* list, int len, int k, const std::vector<double>& self_information);

// Fraction of the top K that are hits and unexpected: category known (>= 0) and not among the
// history's categories (Kaminskas & Bridge 2016; Ge et al. 2010). Divides by min(K, len).
double serendipity(const int32_t* list, int len, int k, const int32_t* targets, int num_targets,
                   const data::ItemTable& table, const CategoryDistribution& history);

}  // namespace divrec::eval
