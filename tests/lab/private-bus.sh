# shellcheck shell=bash
# Anyroom test lab: a private D-Bus session bus for one test's daemons (RAUC, PipeWire, ...).
# Source this file; it defines:
#   ar_private_bus_conf FILE SOCKET   write a dbus-daemon config to FILE: a session bus listening
#                                     on the unix socket SOCKET, anyone on it may own any name
#                                     and talk to anyone (it is the test's alone)
# Start it with: dbus-daemon --config-file=FILE --nofork
ar_private_bus_conf() {
  cat >"$1" <<BUS
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$2</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
BUS
}
