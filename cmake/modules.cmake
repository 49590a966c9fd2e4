# The module targets, with link lists read from cmake/modules.txt (the dependency rule that
# scripts/check_includes.py also checks every #include against).
#
#   etuner_module(<name>)          the library etuner_<name> from src/<name>/*.cpp, linked
#                                  PUBLIC to the modules the table lists for it
#   etuner_link_declared(<target> <table name>)   the same links for an executable
#
# External libraries (torch, zlib, ...) are added beside each etuner_module() call.

set(ETUNER_MODULE_TABLE ${CMAKE_CURRENT_LIST_DIR}/modules.txt)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                                                           ${ETUNER_MODULE_TABLE})

# ETUNER_TABLE_MODULES: every module line's name; ETUNER_DEPS_<name>: what it uses.
set(ETUNER_TABLE_MODULES "")
file(STRINGS ${ETUNER_MODULE_TABLE} _etuner_rows REGEX "^(module|program)[ \t]")
foreach(_row IN LISTS _etuner_rows)
  string(REGEX REPLACE "#.*" "" _row "${_row}")
  string(STRIP "${_row}" _row)
  string(REGEX REPLACE "[ \t]+" ";" _words "${_row}")
  list(POP_FRONT _words _kind _name)
  if(_kind STREQUAL "program")
    list(POP_FRONT _words)  # the program's folder
  else()
    list(APPEND ETUNER_TABLE_MODULES ${_name})
  endif()
  set(ETUNER_DEPS_${_name} "${_words}")
endforeach()

# Modules the table lists but this configuration does not build (serve without
# cpp-httplib); links to them are skipped.
set(ETUNER_SKIPPED_MODULES "")

function(etuner_link_declared target name)
  if(NOT DEFINED ETUNER_DEPS_${name})
    message(FATAL_ERROR "${name} is not in ${ETUNER_MODULE_TABLE}: add a `module` or "
                        "`program` line naming the modules it uses")
  endif()
  foreach(dep IN LISTS ETUNER_DEPS_${name})
    if(NOT dep IN_LIST ETUNER_SKIPPED_MODULES)
      target_link_libraries(${target} PUBLIC etuner_${dep})
    endif()
  endforeach()
endfunction()

# Public headers (include/) are the interface; src/ stays private to each module, so private
# headers never reach other modules or users.
function(etuner_module name)
  if(NOT name IN_LIST ETUNER_TABLE_MODULES)
    message(FATAL_ERROR "module ${name} is not in ${ETUNER_MODULE_TABLE}: add a line "
                        "`module ${name} <modules it uses>`")
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(etuner_${name} STATIC ${srcs})
  target_include_directories(etuner_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(etuner_${name} PRIVATE -Wall -Wextra)
  target_compile_features(etuner_${name} PUBLIC cxx_std_17)
  # Installed as etuner::<name> (cmake/install.cmake); users link etuner::etuner.
  set_target_properties(etuner_${name} PROPERTIES EXPORT_NAME ${name})
  etuner_link_declared(etuner_${name} ${name})
  set_property(GLOBAL APPEND PROPERTY ETUNER_BUILT_MODULES ${name})
endfunction()

# Links added by hand beside the table (target_link_libraries(etuner_x ... etuner_y)) must
# be edges the table declares, or the table would stop being the rule. Call after every
# module and program is defined.
function(etuner_check_declared_links)
  get_property(built GLOBAL PROPERTY ETUNER_BUILT_MODULES)
  set(targets "")
  foreach(m IN LISTS built)
    list(APPEND targets "etuner_${m}|${m}")
  endforeach()
  foreach(entry IN LISTS targets ARGN)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 target)
    list(GET entry 1 name)
    get_target_property(libs ${target} LINK_LIBRARIES)
    foreach(lib IN LISTS libs)
      if(lib MATCHES "^etuner_(.+)$" AND NOT CMAKE_MATCH_1 IN_LIST ETUNER_DEPS_${name})
        message(FATAL_ERROR "${target} links ${lib}, which ${ETUNER_MODULE_TABLE} does not "
                            "list for ${name}: add ${CMAKE_MATCH_1} to the line of ${name} there")
      endif()
    endforeach()
  endforeach()
endfunction()
