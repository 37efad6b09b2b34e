# The service's files of `make install` (cmake --install runs this): the systemd unit, the
# user it runs as (sysusers.d) and the default config. Paths follow the prefix chosen at
# install time (cmake --install --prefix P), so that the unit names the binary where it went:
# the unit in P/lib/systemd/system, the user in P/lib/sysusers.d, the config in /etc/tailor
# when P is /usr, else in P/etc/tailor. DESTDIR is honoured (file(INSTALL) prepends it). An
# existing config is kept: it holds the administrator's settings.
# Needs TL_SRC and TL_BUILD (the source and build folders).
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(confdir "/etc/tailor")
else()
  set(confdir "${prefix}/etc/tailor")
endif()
set(TL_BIN "${prefix}/bin/tailor")
set(TL_CONF "${confdir}/tailor.conf")
configure_file("${TL_SRC}/packaging/tailor.service.in" "${TL_BUILD}/packaging/tailor.service" @ONLY)
file(INSTALL "${TL_BUILD}/packaging/tailor.service" DESTINATION "${prefix}/lib/systemd/system")
file(INSTALL "${TL_SRC}/packaging/tailor.sysusers" DESTINATION "${prefix}/lib/sysusers.d"
     RENAME tailor.conf)
if(EXISTS "$ENV{DESTDIR}${TL_CONF}")
  message(STATUS "Keeping: $ENV{DESTDIR}${TL_CONF} (the default is ${TL_SRC}/etc/tailor.conf)")
else()
  file(INSTALL "${TL_SRC}/etc/tailor.conf" DESTINATION "${confdir}")
endif()
