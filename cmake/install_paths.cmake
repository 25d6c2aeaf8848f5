# pc_install_with_paths(SRC DESTINATION DIR [RENAME NAME] [SYSCONF]):
# install the text file SRC into DIR with the paths it names
# (/usr/local/bin, /usr/local/share) replaced by those of the install
# prefix, resolved when installing, so `cmake --install build --prefix P`
# gives files that point into P and the Debian package (prefix /usr) files
# that point into /usr.
#
# A relative DIR is under the prefix; with SYSCONF it is under the system
# configuration directory instead: /etc when the prefix is /usr (as
# GNUInstallDirs has it), PREFIX/etc otherwise.  Both are decided when
# installing, since CPack installs the same build with the prefix /usr.
function(pc_install_with_paths src)
  cmake_parse_arguments(A "SYSCONF" "DESTINATION;RENAME" "" ${ARGN})
  get_filename_component(src "${src}" ABSOLUTE)
  if(NOT A_RENAME)
    get_filename_component(A_RENAME "${src}" NAME)
  endif()
  install(CODE "
    set(_bindir \"${CMAKE_INSTALL_BINDIR}\")
    set(_datadir \"${CMAKE_INSTALL_DATADIR}\")
    if(NOT IS_ABSOLUTE \"\${_bindir}\")
      set(_bindir \"\${CMAKE_INSTALL_PREFIX}/\${_bindir}\")
    endif()
    if(NOT IS_ABSOLUTE \"\${_datadir}\")
      set(_datadir \"\${CMAKE_INSTALL_PREFIX}/\${_datadir}\")
    endif()
    set(_dir \"${A_DESTINATION}\")
    set(_sysconf ${A_SYSCONF})
    if(_sysconf AND NOT IS_ABSOLUTE \"\${_dir}\")
      if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
        set(_dir \"/etc/\${_dir}\")
      else()
        set(_dir \"\${CMAKE_INSTALL_PREFIX}/etc/\${_dir}\")
      endif()
    elseif(NOT IS_ABSOLUTE \"\${_dir}\")
      set(_dir \"\${CMAKE_INSTALL_PREFIX}/\${_dir}\")
    endif()
    file(READ \"${src}\" _text)
    string(REPLACE \"/usr/local/bin\" \"\${_bindir}\" _text \"\${_text}\")
    string(REPLACE \"/usr/local/share\" \"\${_datadir}\" _text \"\${_text}\")
    message(STATUS \"Installing: \$ENV{DESTDIR}\${_dir}/${A_RENAME}\")
    file(MAKE_DIRECTORY \"\$ENV{DESTDIR}\${_dir}\")
    file(WRITE \"\$ENV{DESTDIR}\${_dir}/${A_RENAME}\" \"\${_text}\")
  ")
endfunction()
