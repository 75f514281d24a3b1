# Compiler settings for project code: warnings as errors, ccache, optional sanitizers, and one
# precompiled LibTorch header shared by every target (a torch include costs ~20 s otherwise).

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# MPI C++ bindings are deprecated and unused; skipping them avoids link errors.
add_compile_definitions(OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)

set(DIVREC_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)
if(DIVREC_SANITIZE)
  # GCC 12's -Wmaybe-uninitialized reports false positives inside libstdc++ (std::regex's
  # std::function) when the sanitizers instrument it, which -Werror turned into a broken build.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()

# The shared precompiled header: built once, reused by every target that links torch.
set(DIVREC_PCH_HEADER ${CMAKE_CURRENT_LIST_DIR}/pch.h)
function(divrec_setup_pch)
  add_library(divrec_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/pch.cpp)
  target_link_libraries(divrec_pch PUBLIC torch)
  target_include_directories(divrec_pch PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(divrec_pch PRIVATE ${DIVREC_WARNINGS})
  target_precompile_headers(divrec_pch PRIVATE ${DIVREC_PCH_HEADER})
endfunction()

# divrec_use_pch(target): same flags as divrec_pch, so the .gch is valid for it.
function(divrec_use_pch target)
  target_precompile_headers(${target} REUSE_FROM divrec_pch)
endfunction()

# divrec_library(name SOURCES ... DEPS ... [NO_PCH]): one library per folder.
function(divrec_library name)
  cmake_parse_arguments(ARG "NO_PCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${DIVREC_WARNINGS})
  if(NOT ARG_NO_PCH)
    divrec_use_pch(${name})
  endif()
endfunction()

# divrec_executable(name SOURCES ... DEPS ...)
function(divrec_executable name)
  cmake_parse_arguments(ARG "NO_PCH" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${DIVREC_WARNINGS})
  if(NOT ARG_NO_PCH)
    divrec_use_pch(${name})
  endif()
endfunction()
