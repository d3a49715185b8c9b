#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo, on the host: boot the test VM and run scripts/demo-guest.sh in it.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
exec "$TOP/selftests/vm/run.sh" "$TOP/scripts/demo-guest.sh"
