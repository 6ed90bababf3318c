#!/bin/sh
# ALBM: keepalived notify script — record each VRRP transition (and hook site-specific actions)
#
# keepalived calls it as: albm-notify.sh [LOGFILE] TYPE NAME STATE PRIORITY
# (LOGFILE is our own first argument from keepalived.conf's `notify "... LOGFILE"`).
# It appends "EPOCH_SECONDS.NANOSECONDS STATE NAME PRIORITY" to LOGFILE
# (default /run/albm/vrrp-state.log) and logs the transition to syslog when logger exists.
# A transition needs nothing from albmd: in mode dr its XDP program serves whatever VIP
# traffic reaches the node; in mode proxy it already listens.  Add site actions below.
set -u
case ${1:-} in
/*) log=$1; shift ;;
*) log=/run/albm/vrrp-state.log ;;
esac
type=${1:-?} name=${2:-?} state=${3:-?} prio=${4:-?}
mkdir -p "$(dirname "$log")"
echo "$(date +%s.%N) $state $type:$name $prio" >>"$log"
command -v logger >/dev/null 2>&1 && logger -t albm-vrrp "$type $name -> $state (priority $prio)"
case $state in
MASTER) : ;; # e.g. warm caches, page nobody
BACKUP | FAULT | STOP) : ;;
esac
exit 0
