# BPF programs, built the libbpf-bootstrap way:
#
#   bpf_object(NAME SOURCE [DEPENDS header...])
#
# compiles SOURCE with clang -target bpf -O2 -g -Werror, links it with
# `bpftool gen object` (drops DWARF, keeps BTF), generates NAME.skel.h with
# `bpftool gen skeleton ... name NAME` in the build directory and defines the
# INTERFACE target NAME_skel, which carries that directory and libbpf.  Link
# it PRIVATE from the target whose sources include NAME.skel.h, in the same
# directory as the bpf_object() call.  No .o file is read at run time.
#
# Also defines PkgConfig::LIBBPF.

find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.0)

find_program(BPF_CLANG NAMES clang clang-14 clang-15 clang-16 REQUIRED
             DOC "clang for -target bpf")
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin REQUIRED
             DOC "bpftool for gen object/skeleton")

# -target bpf does not search the host's multiarch include directory
# (<asm/types.h> lives there); give clang the host compiler's system
# directories after its own, as libbpf-bootstrap does.
execute_process(COMMAND ${BPF_CLANG} -v -E -x c -
                INPUT_FILE /dev/null OUTPUT_VARIABLE _bpf_out ERROR_VARIABLE _bpf_err)
string(REGEX MATCH "> search starts here:\n(.*)\nEnd of search list." _bpf_dirs "${_bpf_err}")
string(REGEX REPLACE "\n *" ";" _bpf_dirs "${CMAKE_MATCH_1}")
set(BPF_SYS_INCLUDES "")
foreach(_dir IN LISTS _bpf_dirs)
  string(STRIP "${_dir}" _dir)
  if(_dir AND IS_DIRECTORY "${_dir}")
    list(APPEND BPF_SYS_INCLUDES -idirafter "${_dir}")
  endif()
endforeach()

set(BPF_CFLAGS -target bpf -O2 -g -Wall -Werror
    CACHE STRING "Flags for the BPF objects")

function(bpf_object name src)
  cmake_parse_arguments(PARSE_ARGV 2 BPF "" "" "DEPENDS")
  get_filename_component(_src "${src}" ABSOLUTE)
  get_filename_component(_srcdir "${_src}" DIRECTORY)
  set(_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  set(_tmp ${_dir}/${name}.tmp.bpf.o)
  set(_obj ${_dir}/${name}.bpf.o)
  set(_skel ${_dir}/${name}.skel.h)

  add_custom_command(OUTPUT ${_obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_dir}
    COMMAND ${BPF_CLANG} ${BPF_CFLAGS} -I${_srcdir} ${BPF_SYS_INCLUDES}
            -c ${_src} -o ${_tmp}
    COMMAND ${BPFTOOL} gen object ${_obj} ${_tmp}
    DEPENDS ${_src} ${BPF_DEPENDS}
    COMMENT "[clang] BPF object ${name}"
    COMMAND_EXPAND_LISTS VERBATIM)
  add_custom_command(OUTPUT ${_skel}
    COMMAND ${BPFTOOL} gen skeleton ${_obj} name ${name} > ${_skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${_skel}.tmp ${_skel}
    DEPENDS ${_obj}
    COMMENT "[bpftool] BPF skeleton ${name}.skel.h"
    VERBATIM)

  add_library(${name}_skel INTERFACE)
  target_sources(${name}_skel INTERFACE ${_skel})
  target_include_directories(${name}_skel INTERFACE ${_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
