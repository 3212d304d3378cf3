# Installing the programs the way a Debian admin expects (docs/operations.md,
# "Installing"): binaries under CMAKE_INSTALL_BINDIR, a man page generated
# from each program's --help by help2man, per COMPONENT:
#   servers    -- smdpd, otad, their systemd units and example configurations
#   tools      -- the command-line programs (lpa, ota, market, gpt, ...)
#   simulators -- the simulated cards (euicc-sim, masim, gp-card-sim) and the visited network (visited-network)
include(GNUInstallDirs)

# help2man is a Debian package (scripts/deps.sh); without it the build still
# works and installs no man pages (tests/packaging/install.sh then fails).
find_program(RSP_HELP2MAN help2man)
if(NOT RSP_HELP2MAN)
  message(WARNING "help2man not found: no man pages (apt-get install help2man)")
endif()

# rsp_install_program(TARGET COMPONENT SECTION "short description")
# SECTION 8 for the daemons (Debian's place for system administration
# programs and daemons), 1 for the rest.
function(rsp_install_program target component section description)
  install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})
  if(NOT RSP_HELP2MAN OR RSP_FUZZ)
    return()
  endif()
  set(page ${CMAKE_BINARY_DIR}/man/${target}.${section})
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND bash ${PROJECT_SOURCE_DIR}/packaging/man_page.sh $<TARGET_FILE:${target}> ${page} ${section} "${description}"
    DEPENDS ${target} ${PROJECT_SOURCE_DIR}/packaging/man_page.sh
    COMMENT "man page ${target}(${section}) from --help"
    VERBATIM)
  add_custom_target(man_${target} ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endfunction()

# rsp_install_server(TARGET "short description"): a daemon in component
# "servers": the program and its man page in section 8, its systemd unit
# (packaging/TARGET.service.in, ExecStart at the configured bindir), and the
# example configuration packaging/TARGET.json twice: in the documentation's
# examples, and as SYSCONFDIR/rsp/TARGET.json.example -- never as
# TARGET.json, so installing (or upgrading a package) never replaces the
# admin's file; the admin copies it once (docs/operations.md).
function(rsp_install_server target description)
  rsp_install_program(${target} servers 8 "${description}")
  configure_file(${PROJECT_SOURCE_DIR}/packaging/${target}.service.in ${CMAKE_CURRENT_BINARY_DIR}/${target}.service @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${target}.service DESTINATION lib/systemd/system COMPONENT servers)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/${target}.json DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
          COMPONENT servers)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/${target}.json DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/rsp
          RENAME ${target}.json.example COMPONENT servers)
  install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT servers)
endfunction()
