# etuner serve (src/serve/): HTTP via Debian's cpp-httplib (a compiled library whose header
# must see the same CPPHTTPLIB_* definitions, hence pkg-config), samples in SQLite.
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(SQLite3 REQUIRED)
# Request images: Debian's maintained decoders (libjpeg62-turbo-dev, libpng-dev; setup.sh).
find_package(JPEG REQUIRED)
find_package(PNG REQUIRED)

etuner_module(serve)
etuner_use_pch(etuner_serve)
target_link_libraries(etuner_serve PUBLIC etuner_harness PkgConfig::HTTPLIB SQLite::SQLite3
                      ${ETUNER_FMT} Threads::Threads)
# spdlog: one line per round, commit and refused request (docs/serve.md, "Logging").
target_link_libraries(etuner_serve PRIVATE spdlog::spdlog JPEG::JPEG PNG::PNG)
target_link_libraries(etuner PRIVATE etuner_serve)
