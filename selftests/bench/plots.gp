# SPDX-License-Identifier: GPL-2.0
# selftests/bench/plots.gp - the L2 benchmark's plots, from the data files
# that `l2report.py --plotdata` writes (run gnuplot in that directory).
set terminal pngcairo size 900,480 font ",10" noenhanced
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set grid ytics
set key top right
set yrange [0:*]

set output "pps.png"
set title "Packets/s by backend (median, bars: min..max); tx counted at the tap, rx in the guest"
set ylabel "packets/s"
plot "pps.dat" using 2:3:4:xtic(1) title "qemu ioeventfd=off", \
     "" using 5:6:7 title "qemu (ioeventfd)", \
     "" using 8:9:10 title "vhost_net", \
     "" using 11:12:13 title "vhostx"

set output "tcp.png"
set title "iperf3 TCP, one stream (median, bars: min..max)"
set ylabel "Mbit/s through the tap"
plot "tcp.dat" using 2:3:4:xtic(1) title "qemu ioeventfd=off", \
     "" using 5:6:7 title "qemu (ioeventfd)", \
     "" using 8:9:10 title "vhost_net", \
     "" using 11:12:13 title "vhostx"

set style histogram clustered gap 1
set xtics rotate by -30
set output "perpkt.png"
set title "Per packet, 64-byte frames (median): VM exits, exits to userspace, guest interrupts, injected interrupts"
set ylabel "events per packet"
plot "perpkt.dat" using 2:xtic(1) title "kvm_exit", \
     "" using 3 title "kvm_userspace_exit", \
     "" using 4 title "guest virtio interrupts", \
     "" using 5 title "kvm_inj_virq"

set style histogram rowstacked
set output "cpu.png"
set title "Host CPU time per packet by thread, 64-byte frames (median)"
set ylabel "microseconds per packet"
plot "cpu.dat" using 2:xtic(1) title "QEMU vCPU", \
     "" using 3 title "QEMU main loop", \
     "" using 4 title "QEMU other threads", \
     "" using 5 title "vhost worker"
