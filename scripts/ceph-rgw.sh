#!/usr/bin/env bash
# A copy of the workplace tool ../shared/tools/ceph-rgw.sh, kept in the repository so that CI on a
# clean clone can start the same real Ceph RGW for the S3 conformance stage. One change: RGW's
# garbage collection of deleted objects runs at once (see [client.rgw.a]). One option:
# RGW_TCP_NODELAY=1 starts RGW with Nagle's algorithm off (beast's tcp_nodelay=1, which
# docs/registry.md recommends to operators); unset, RGW keeps its default (on), as the workplace tool.
# A fix: the OSD does not update the CRUSH map at boot (see [osd.0]), which made starts fail at
# random ("wrong fsid").
# Start (or stop) a single-node Ceph cluster with an RGW S3 endpoint on 127.0.0.1:${RGW_PORT:-7480}.
# Real S3-compatible engine from Debian's packages; memstore OSD (data lives in RAM).
# Credentials: AKTEST / SKTEST. Usage: ceph-rgw.sh start|stop
set -euo pipefail
D=${CEPH_DIR:-/tmp/ceph}; PORT=${RGW_PORT:-7480}
NODELAY=""; [ "${RGW_TCP_NODELAY:-0}" = 1 ] && NODELAY=" tcp_nodelay=1"
stop() {
  # Only the daemons this script started: their pid files live in $D/run.
  local f pid
  for f in "$D"/run/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    rm -f "$f"
  done
}
if [ "${1:-start}" = stop ]; then stop; exit 0; fi
stop
if ! command -v radosgw >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-mgr ceph-common >/dev/null
fi
rm -rf "$D"; mkdir -p "$D"/{mon,osd0,rgw,run,log}; cd "$D"
fsid=$(cat /proc/sys/kernel/random/uuid)
cat > ceph.conf <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:6789
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
ms bind msgr2 = false
[mon.a]
mon data = $D/mon
[osd.0]
osd data = $D/osd0
osd objectstore = memstore
memstore device bytes = 4294967296
# The OSD places itself in the CRUSH map below (osd crush add), not at boot: its boot-time command
# can reach the monitor before the monitor's map reaches it, carrying a zero fsid, and is refused
# ("handle_command on fsid 00000000-... != ...", the OSD then exits: "wrong fsid").
osd crush update on start = false
osd class update on start = false
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT$NODELAY
# Deleted objects are garbage-collected after 2 hours by default: in 4 GiB of RAM, tests and
# benches that write and delete would fill the store first. Collect them at once.
rgw gc obj min wait = 0
rgw gc processor period = 10
rgw data = $D/rgw
CONF
C="-c $D/ceph.conf"
ceph-authtool --create-keyring keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --add a v1:127.0.0.1:6789 --fsid "$fsid" monmap >/dev/null
ceph-mon $C --mkfs -i a --monmap monmap --keyring keyring
ceph-mon $C -i a
sleep 2
ceph $C osd create >/dev/null
ceph-osd $C -i 0 --mkfs >/dev/null 2>&1
ceph-osd $C -i 0 2>/dev/null
ceph-mgr $C -i x
ceph $C osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>&1
radosgw $C -n client.rgw.a
for i in $(seq 1 60); do curl -sf -m 2 "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 1; done
radosgw-admin $C user create --uid=test --display-name=test --access-key=AKTEST --secret=SKTEST >/dev/null 2>&1
echo "rgw ready on http://127.0.0.1:$PORT (AKTEST/SKTEST)"
