# etuner::etuner, the one target users link, and the install rules behind
# find_package(etuner) (docs/library.md).
#
# The modules stay separate static libraries, installed and exported as etuner::<module>
# under one INTERFACE target: the link graph users get is the one the table in
# cmake/modules.txt declares and the tests build against, so there is no second list of
# objects to keep in step (as one combined library of OBJECT modules would need), and a
# program that calls only torch-free modules links no more than it uses.

get_property(_etuner_modules GLOBAL PROPERTY ETUNER_BUILT_MODULES)
list(TRANSFORM _etuner_modules PREPEND etuner_ OUTPUT_VARIABLE _etuner_module_targets)

add_library(etuner_library INTERFACE)
target_link_libraries(etuner_library INTERFACE ${_etuner_module_targets})
set_target_properties(etuner_library PROPERTIES EXPORT_NAME etuner)
add_library(etuner::etuner ALIAS etuner_library)  # the same name under add_subdirectory
# The modules of a sanitizer build (make sanitize, make tsan) call the sanitizer runtime, so a
# program linking them must link that runtime too (examples.install_build_run does).
if(ETUNER_SANITIZE)
  target_link_options(etuner_library INTERFACE -fsanitize=${ETUNER_SANITIZE})
endif()

# Under add_subdirectory, the targets find_package() imported here (torch, zlib, ...) are
# visible in this directory only, yet the parent's programs link them through
# etuner::etuner: make every imported target the modules reach global.
function(etuner_make_imports_global)
  set(seen "")
  set(queue ${ARGN})
  while(queue)
    list(POP_FRONT queue t)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" t "${t}")
    if(NOT TARGET "${t}" OR t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(imported ${t} IMPORTED)
    get_target_property(global ${t} IMPORTED_GLOBAL)
    if(imported AND NOT global)
      set_target_properties(${t} PROPERTIES IMPORTED_GLOBAL TRUE)
    endif()
    get_target_property(libs ${t} INTERFACE_LINK_LIBRARIES)
    if(libs)
      list(APPEND queue ${libs})
      # Torch's targets name others inside generator expressions too.
      string(REGEX MATCHALL "\\$<TARGET_[A-Z_]+:[^,>]+" named "${libs}")
      list(TRANSFORM named REPLACE "^\\$<TARGET_[A-Z_]+:" "")
      list(APPEND queue ${named})
    endif()
  endwhile()
endfunction()
if(NOT ETUNER_TOP_LEVEL)
  etuner_make_imports_global(${_etuner_module_targets})
endif()

if(NOT ETUNER_INSTALL)
  return()
endif()

include(CMakePackageConfigHelpers)
set(ETUNER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/etuner)

install(TARGETS etuner_library ${_etuner_module_targets}
  EXPORT etunerTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/etuner
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS etuner RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT etunerTargets NAMESPACE etuner:: DESTINATION ${ETUNER_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/etunerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/etunerConfig.cmake INSTALL_DESTINATION ${ETUNER_CMAKE_DIR})
# Before 1.0 a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/etunerConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/etunerConfig.cmake
              ${PROJECT_BINARY_DIR}/etunerConfigVersion.cmake
  DESTINATION ${ETUNER_CMAKE_DIR})
