// SPDX-License-Identifier: GPL-2.0
/*
 * tapframes - inject numbered frames into a tap from the host side, and count
 * them coming back, for the DPDK virtio-user suite.
 *
 *   tapframes inject IFNAME COUNT [WINDOW]
 *   tapframes echo   IFNAME COUNT [WINDOW]
 *
 * Frames are 64 bytes: locally administered unicast MACs
 * (02:76:68:78:00:01 -> 02:76:68:78:00:02), ethertype 0x88b5 (IEEE 802 local
 * experimental), then "VHXD", a run id and a sequence number, so that stray
 * traffic (IPv6 router solicitations, ...) is never mistaken for them.
 *
 * Frames are sent on an AF_PACKET socket bound to IFNAME: the tap transmits
 * them to whoever reads its queue, i.e. the vhost backend, which puts them in
 * the virtio-user RX ring.
 *
 * inject: paced so that at most WINDOW (default 256) frames are waiting in the
 *         tap's queue (txqueuelen 1000), reading the tap's tx_packets and
 *         tx_dropped from sysfs (tun counts tx_packets when the reader takes a
 *         frame). Returns when the tap has handed out all COUNT frames.
 * echo:   also receives the frames that come back into the tap (testpmd in
 *         io forward mode sends them back unchanged), paced so that at most
 *         WINDOW are in flight; checks that every sequence number arrives
 *         exactly once.
 *
 * Prints one line of key=value pairs on stdout, e.g.
 *   inject sent=20000 taken=20000 tx_dropped=0 elapsed=1.234 pps=16207
 *   echo sent=20000 received=20000 dup=0 missing=0 foreign=0 sock_drops=0 elapsed=1.5 pps=13333
 * Exit status: 0 when every frame got through, 1 otherwise, 2 on usage or
 * setup errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define ETHTYPE 0x88b5
#define FRAME_LEN 64
#define MAGIC 0x56485844u /* "VHXD" */
#define BATCH 32
#define STALL_NS (10LL * 1000000000LL)

static const uint8_t src_mac[6] = { 0x02, 0x76, 0x68, 0x78, 0x00, 0x01 };
static const uint8_t dst_mac[6] = { 0x02, 0x76, 0x68, 0x78, 0x00, 0x02 };

struct payload {
	uint32_t magic;
	uint32_t run;
	uint32_t seq;
} __attribute__((packed));

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
}

/* A counter under /sys/class/net/IFNAME/statistics. */
static int stat_open(const char *ifname, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", ifname, name);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		exit(2);
	}
	return fd;
}

static uint64_t stat_read(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		perror("pread statistics");
		exit(2);
	}
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

static int packet_socket(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETHTYPE),
		.sll_ifindex = ifindex,
	};
	int one = 1, rcvbuf = 16 << 20;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETHTYPE));
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		exit(2);
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("bind");
		exit(2);
	}
	/* Our own frames going out are not "back". */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return fd;
}

static void frame_fill(uint8_t *f, uint32_t run, uint32_t seq)
{
	struct payload p = { htonl(MAGIC), htonl(run), htonl(seq) };
	uint16_t et = htons(ETHTYPE);

	memset(f, 0, FRAME_LEN);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	memcpy(f + 12, &et, 2);
	memcpy(f + 14, &p, sizeof(p));
	/* A recognisable fill after the header, to check it comes back intact. */
	for (int i = 14 + (int)sizeof(p); i < FRAME_LEN; i++)
		f[i] = (uint8_t)(seq + i);
}

/* Send frames [*sent, *sent + n) in one sendmmsg; advances *sent. */
static int send_some(int fd, uint32_t run, uint64_t *sent, unsigned int n)
{
	static uint8_t frames[BATCH][FRAME_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int ret;

	memset(msgs, 0, sizeof(msgs));
	for (unsigned int i = 0; i < n; i++) {
		frame_fill(frames[i], run, (uint32_t)(*sent + i));
		iov[i].iov_base = frames[i];
		iov[i].iov_len = FRAME_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	ret = sendmmsg(fd, msgs, n, 0);
	if (ret < 0) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			return 0;
		perror("sendmmsg");
		exit(2);
	}
	*sent += ret;
	return ret;
}

struct rx_state {
	uint8_t *seen;
	uint64_t count, received, dup, foreign, corrupt;
};

/* Drain the socket, accounting for each of our frames that came back. */
static void recv_some(int fd, uint32_t run, struct rx_state *st)
{
	uint8_t buf[2048];
	struct sockaddr_ll from;

	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct payload p;
		uint8_t want[FRAME_LEN];
		uint32_t seq;

		if (n < 0)
			return;
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (n < 14 + (ssize_t)sizeof(p)) {
			st->foreign++;
			continue;
		}
		memcpy(&p, buf + 14, sizeof(p));
		if (ntohl(p.magic) != MAGIC || ntohl(p.run) != run) {
			st->foreign++;
			continue;
		}
		seq = ntohl(p.seq);
		if (seq >= st->count) {
			st->foreign++;
			continue;
		}
		frame_fill(want, run, seq);
		if (n != FRAME_LEN || memcmp(buf, want, FRAME_LEN))
			st->corrupt++;
		if (st->seen[seq]) {
			st->dup++;
			continue;
		}
		st->seen[seq] = 1;
		st->received++;
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: tapframes inject|echo IFNAME COUNT [WINDOW]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode, *ifname;
	uint64_t count, window = 256, sent = 0, taken = 0, last_progress_val = 0;
	uint64_t tx0, drop0, txd = 0;
	int64_t t0, t_end, last_progress;
	struct rx_state st = { 0 };
	int fd, ifindex, fd_tx, fd_drop;
	uint32_t run;
	bool echo;
	double secs;

	if (argc < 4)
		return usage();
	mode = argv[1];
	ifname = argv[2];
	count = strtoull(argv[3], NULL, 0);
	if (argc > 4)
		window = strtoull(argv[4], NULL, 0);
	if (strcmp(mode, "inject") && strcmp(mode, "echo"))
		return usage();
	if (!count || window < BATCH)
		return usage();
	echo = !strcmp(mode, "echo");
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "no interface %s\n", ifname);
		return 2;
	}
	run = (uint32_t)getpid() ^ (uint32_t)now_ns();
	fd = packet_socket(ifindex);
	fd_tx = stat_open(ifname, "tx_packets");
	fd_drop = stat_open(ifname, "tx_dropped");
	tx0 = stat_read(fd_tx);
	drop0 = stat_read(fd_drop);
	if (echo) {
		st.count = count;
		st.seen = calloc(count, 1);
		if (!st.seen) {
			perror("calloc");
			return 2;
		}
	}

	t0 = last_progress = now_ns();
	for (;;) {
		uint64_t done, inflight;

		if (echo) {
			recv_some(fd, run, &st);
			done = st.received + st.dup;
		} else {
			taken = stat_read(fd_tx) - tx0;
			txd = stat_read(fd_drop) - drop0;
			done = taken + txd;
		}
		if (done != last_progress_val) {
			last_progress_val = done;
			last_progress = now_ns();
		}
		if (sent == count && done >= count)
			break;
		if (now_ns() - last_progress > STALL_NS) {
			fprintf(stderr, "tapframes: no progress for %llds (sent %llu, done %llu)\n",
				STALL_NS / 1000000000LL, (unsigned long long)sent,
				(unsigned long long)done);
			break;
		}
		inflight = sent - (done < sent ? done : sent);
		if (sent < count && inflight + BATCH <= window) {
			uint64_t n = count - sent;

			if (n > BATCH)
				n = BATCH;
			if (send_some(fd, run, &sent, (unsigned int)n))
				continue;
		}
		if (echo) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			poll(&pfd, 1, 1);
		} else {
			nap(20000);
		}
	}
	t_end = now_ns();
	secs = (double)(t_end - t0) / 1e9;

	if (echo) {
		struct tpacket_stats ps = { 0 };
		socklen_t pl = sizeof(ps);
		uint64_t missing = count - st.received;

		/* Late duplicates, if any. */
		nap(200000000);
		recv_some(fd, run, &st);
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ps, &pl);
		txd = stat_read(fd_drop) - drop0;
		printf("echo sent=%llu received=%llu dup=%llu missing=%llu corrupt=%llu foreign=%llu "
		       "tx_dropped=%llu sock_drops=%u elapsed=%.3f pps=%.0f\n",
		       (unsigned long long)sent, (unsigned long long)st.received,
		       (unsigned long long)st.dup, (unsigned long long)missing,
		       (unsigned long long)st.corrupt, (unsigned long long)st.foreign,
		       (unsigned long long)txd, ps.tp_drops, secs, st.received / secs);
		return st.received == count && !st.dup && !st.corrupt && !ps.tp_drops ? 0 : 1;
	}
	printf("inject sent=%llu taken=%llu tx_dropped=%llu elapsed=%.3f pps=%.0f\n",
	       (unsigned long long)sent, (unsigned long long)taken,
	       (unsigned long long)txd, secs, taken / secs);
	return taken == count && !txd ? 0 : 1;
}
