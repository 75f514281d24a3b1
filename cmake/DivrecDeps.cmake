# Third-party dependencies, all Debian packages (scripts/install-deps.sh installs them):
#   LibTorch (model, autograd), Open MPI (CPU collectives, control plane), HDF5 (shards and
#   artifacts), Boost.Program_options (CLI + INI), fmt (formatting), nlohmann-json (reports,
#   manifests' JSON views, HTTP bodies), cpp-httplib (serving), Faiss (approximate retrieval;
#   its static library needs OpenMP + BLAS), GTest, Google Benchmark,
#   and NCCL from the CUDA toolkit when present (GPU collectives).

find_package(Torch REQUIRED)
find_package(MPI REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(fmt REQUIRED)
# PyPI's LibTorch 2.x ships fmt 12's headers in its include directory, which the compiler
# searches before /usr/include: project code then compiles against fmt 12 and must link fmt 12,
# which torch's libraries do not export. Build fmt 12's compiled part from those headers next to
# Debian's libfmt (other namespace: fmt::v12 vs fmt::v9). Debian's LibTorch 1.13 ships no fmt.
get_target_property(_fmt_inc fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt/format-inl.h" AND
   NOT "${TORCH_INSTALL_PREFIX}/include" IN_LIST _fmt_inc)
  add_library(divrec_torch_fmt STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_fmt.cpp)
  target_include_directories(divrec_torch_fmt SYSTEM PRIVATE "${TORCH_INSTALL_PREFIX}/include")
  set_property(TARGET fmt::fmt APPEND PROPERTY INTERFACE_LINK_LIBRARIES divrec_torch_fmt)
endif()
find_package(nlohmann_json REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_path(HTTPLIB_INCLUDE_DIR httplib.h)
# Debian's libfaiss-dev ships libfaiss.a and a CMake package whose imported target `faiss` links
# OpenMP::OpenMP_CXX and libblas (OpenBLAS through the alternatives): find OpenMP first.
find_package(OpenMP REQUIRED COMPONENTS CXX)
# ICU: Unicode normalisation, case mapping and character classes for WordPiece tokenization.
find_package(ICU REQUIRED COMPONENTS uc)
find_package(faiss REQUIRED)
get_target_property(_faiss_inc faiss INTERFACE_INCLUDE_DIRECTORIES)
if(_faiss_inc)
  set_target_properties(faiss PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_faiss_inc}")
endif()

# Torch's imported target carries its include dirs; mark them SYSTEM so -Werror applies to
# project code only.
get_target_property(_torch_inc torch INTERFACE_INCLUDE_DIRECTORIES)
if(_torch_inc)
  set_target_properties(torch PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_torch_inc}")
endif()

add_library(divrec_hdf5 INTERFACE)
target_include_directories(divrec_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(divrec_hdf5 INTERFACE ${HDF5_C_LIBRARIES})
target_compile_definitions(divrec_hdf5 INTERFACE ${HDF5_C_DEFINITIONS})

# NCCL: ON by default when the CUDA toolkit and nccl.h are found. The backend then compiles and
# links even on machines without a GPU; its tests skip at run time.
find_package(CUDAToolkit QUIET)
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include
          /usr/local/cuda-13.0/include)
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64
             /usr/local/cuda-13.0/lib64)
set(_nccl_default OFF)
if(CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
  set(_nccl_default ON)
endif()
option(DIVREC_WITH_NCCL "Build the NCCL communicator backend" ${_nccl_default})
if(DIVREC_WITH_NCCL)
  if(NOT (CUDAToolkit_FOUND AND NCCL_INCLUDE_DIR AND NCCL_LIBRARY))
    message(FATAL_ERROR "DIVREC_WITH_NCCL=ON but the CUDA toolkit or NCCL was not found")
  endif()
  message(STATUS "divrec: NCCL backend ON (${NCCL_LIBRARY})")
else()
  message(STATUS "divrec: NCCL backend OFF (CUDA toolkit or nccl.h not found)")
endif()

if(DIVREC_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(DIVREC_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

divrec_setup_pch()
