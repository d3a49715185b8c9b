#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Check ctl/completion/vhostxctl: complete a few command lines and compare.
# usage: completion.sh COMPLETION_FILE
set -u
# shellcheck source=/dev/null
source "$1"

# A stand-in vhostxctl that lists devices 0, 3 and 12.
fake_vhostxctl() { echo '[{"id":0,"queues":[{"index":0}]},{"id":3},{"id":12}]'; }

fails=0
check() { # expected, then the words; the last word is the one being completed
	local expected=$1
	shift
	COMP_WORDS=(fake_vhostxctl "$@")
	COMP_CWORD=$#
	_vhostxctl
	local got="${COMPREPLY[*]:-}"
	if [[ $got != "$expected" ]]; then
		echo "not ok: '$*' gave '$got', expected '$expected'"
		fails=$((fails + 1))
	else
		echo "ok: '$*' -> '$got'"
	fi
}

check "dev stats set monitor attach detach" ""
check "stats set" "s"
check "list show" dev ""
check "show" dev s
check "0 3 12" dev show ""
check "3" dev show 3
check "" dev list ""
check "0 3 12" stats ""
check "12" -j stats 1
check "" stats 3 ""
check "0 3 12" set ""
check "busypoll-us weight-packets weight-bytes" set 3 ""
check "weight-packets weight-bytes" set 3 w
check "" set 3 busypoll-us ""
check "weight-packets weight-bytes" set 3 busypoll-us 50 ""
check "weight-bytes" set 3 busypoll-us 50 weight-packets 8 ""
check "" stats --watch ""
check "0 3 12" stats --watch 1 ""
check "-j --json -h --help -V --version" -
check "--json" --j
check "--watch" stats --w
check "-j --json -h --help" dev -
check "monitor" m
check "attach" att
check "dev detach" de
check "detach" det
check "-j --json -h --help --qmp --tap --queues --mac --id --bus --device --timeout" attach -
check "-j --json -h --help --qmp --id --timeout" detach -
check "--queues" attach --qmp /s --qu
check "" attach --queues ""
check "" detach --qmp /s --id x ""
check "--count" monitor --c
check "-j --json -h --help --count" monitor -
check "" monitor --count ""
check "" monitor --count 2 ""
check "" -j monitor ""
exit $((fails > 0))
