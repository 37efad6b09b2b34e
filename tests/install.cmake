# `make install` into a temporary DESTDIR (cmake -P, from CTest): the binary, the systemd unit
# naming it and the config, the service's user and the default config are in place; the unit
# waits longer at stop than the server's drain; the shipped config passes `tailor serve
# --check-config` and lists every setting of the table, commented lines with their defaults;
# a second install keeps an edited config. Needs BUILD, SRC and WORK.
function(fail)
  message(FATAL_ERROR "install_service: ${ARGV}")
endfunction()

function(run out_var) # runs the command in ARGN; fails unless it exits 0
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    fail("${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(root "${WORK}/root")
set(ENV{DESTDIR} "${root}")
run(out ${CMAKE_COMMAND} --install "${BUILD}" --prefix /usr)

foreach(f usr/bin/tailor usr/lib/systemd/system/tailor.service usr/lib/sysusers.d/tailor.conf
          etc/tailor/tailor.conf usr/include/tailor/service.h)
  if(NOT EXISTS "${root}/${f}")
    fail("${f} was not installed")
  endif()
endforeach()

file(READ "${root}/usr/lib/systemd/system/tailor.service" unit)
foreach(line "ExecStart=/usr/bin/tailor serve --config /etc/tailor/tailor.conf" "User=tailor"
             "ProtectSystem=strict" "ReadWritePaths=/var/lib/tailor" "Restart=on-failure"
             "KillSignal=SIGTERM")
  string(FIND "${unit}" "\n${line}\n" at)
  if(at LESS 0)
    fail("the unit lacks ${line}")
  endif()
endforeach()
if(unit MATCHES "@[A-Z_]+@")
  fail("the unit has a placeholder left: ${CMAKE_MATCH_0}")
endif()

# What the server uses with the shipped file, and the table's defaults (a file with only the
# required settings); TAILOR_* variables of the environment would change both.
set(bin "${root}/usr/bin/tailor")
set(conf "${root}/etc/tailor/tailor.conf")
run(used ${CMAKE_COMMAND} -E env --unset=TAILOR_CONFIG "${bin}" serve --config "${conf}" --check-config)
string(FIND "${used}" "model = /var/lib/tailor/model.tlm\n" at)
if(at LESS 0)
  fail("the shipped config does not serve /var/lib/tailor/model.tlm:\n${used}")
endif()
file(WRITE "${WORK}/minimal.conf" "model = m.tlm\ndb = s.db\n")
run(defaults "${bin}" serve --config "${WORK}/minimal.conf" --check-config)

file(STRINGS "${conf}" conf_lines)
string(REPLACE "\n" ";" default_lines "${defaults}")
foreach(d IN LISTS default_lines)
  if(d MATCHES "^# ([a-z-]+) \\(none\\)$")
    set(name "${CMAKE_MATCH_1}")
    set(value "")
  elseif(d MATCHES "^([a-z-]+) = (.*)$")
    set(name "${CMAKE_MATCH_1}")
    set(value "${CMAKE_MATCH_2}")
  else()
    continue()
  endif()
  set(found 0)
  foreach(c IN LISTS conf_lines)
    if(c MATCHES "^${name} = ")
      set(found 1) # set for the service (model, db)
    elseif(c MATCHES "^# ${name} = (.*)$")
      set(found 1)
      if(NOT value STREQUAL "" AND NOT CMAKE_MATCH_1 STREQUAL value)
        fail("etc/tailor.conf says ${name} defaults to ${CMAKE_MATCH_1}; it is ${value}")
      endif()
    endif()
  endforeach()
  if(NOT found)
    fail("etc/tailor.conf does not list the setting ${name}")
  endif()
endforeach()

# The unit gives the server's drain (request-timeout) time to end before it kills.
string(REGEX MATCH "request-timeout = ([0-9]+)" _ "${defaults}")
set(drain "${CMAKE_MATCH_1}")
string(REGEX MATCH "\nTimeoutStopSec=([0-9]+)\n" _ "${unit}")
if(NOT CMAKE_MATCH_1 GREATER drain)
  fail("TimeoutStopSec=${CMAKE_MATCH_1} is not over request-timeout ${drain}")
endif()

# A bad line is refused, saying where.
file(WRITE "${WORK}/bad.conf" "model = m.tlm\nport = eighty\n")
execute_process(COMMAND "${bin}" serve --config "${WORK}/bad.conf" --check-config
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "bad.conf:2: port")
  fail("a bad config file: exit ${rc}, ${err}")
endif()

# Installing again keeps the administrator's config.
file(APPEND "${conf}" "port = 9090\n")
run(out ${CMAKE_COMMAND} --install "${BUILD}" --prefix /usr)
file(READ "${conf}" after)
if(NOT after MATCHES "\nport = 9090\n")
  fail("a second install replaced the edited config")
endif()
file(REMOVE_RECURSE "${WORK}")
