// Declarations of the AVX2 + FMA kernel builds (kernels_avx2.cpp); internal to kernels.cpp.
#pragma once

#include <cstdint>

namespace divrec::eval::kernels::avx2 {

void dot_rows_avx2(const float* q, const float* table, int64_t dim, const int32_t* rows, int n,
                   float* out);
void dot_block_avx2(const float* q, const float* block, int64_t dim, int n, float* out);
void project_out_avx2(const float* s, float a, float b, const float* const* x, const float* coef,
                      int m, float* y, int n);
void chol_column_avx2(const float* acc, float inv_d, float* e, float* resid, int n);
void shifted_residual_avx2(const float* dot, float shift, float scale, float* resid, int n);
void rotate_avx2(float c, float s, float* x, float* y, int n);
void max_avx2(const float* x, float* y, int n);
void dpp_gains_avx2(const float* q2, const float* resid, const float* rel, float eps, float* gain,
                    int n);
float max_value_avx2(const float* v, int n);
int argmax_avx2(const float* v, int n);
void set_where_equal_avx2(const int32_t* ids, int32_t id, float value, float* out, int n);

}  // namespace divrec::eval::kernels::avx2
