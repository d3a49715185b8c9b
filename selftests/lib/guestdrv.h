/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestdrv: a virtio-net "guest driver" that lives in the test process.
 *
 * The process plays both the VMM and the guest: guest memory is one or more
 * anonymous mappings that are described to the device with
 * VHOST_SET_MEM_TABLE (guest physical address = offset chosen by gd_mem_init),
 * the split rings live in that memory, and packets reach the host side through
 * a tap device whose other end is watched with AF_PACKET sockets.
 *
 * Works against any device that speaks the <linux/vhost.h> net ABI:
 * /dev/vhost-net (the reference) and /dev/vhostx-net.
 */
#ifndef GUESTDRV_H
#define GUESTDRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vhost_workers.h"

#define GD_RX 0
#define GD_TX 1
#define GD_NVQ 2

#define GD_MEM_MAX_REGIONS 8
#define GD_BAD_GPA (~0ULL)

/* One guest memory region: a private anonymous mapping. */
struct gd_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t brk;		/* bump allocator, offset into the region */
};

struct gd_mem {
	unsigned int nr;
	struct gd_region r[GD_MEM_MAX_REGIONS];
};

/*
 * Region i spans [base + i * (size + gap), + size). gap 0 makes the regions
 * GPA-adjacent while their host mappings stay apart, so one guest buffer can
 * straddle two regions.
 */
int gd_mem_init(struct gd_mem *m, unsigned int nr, uint64_t base, uint64_t size, uint64_t gap);
/* Add one more region at an arbitrary (non-overlapping) gpa. */
int gd_mem_add(struct gd_mem *m, uint64_t gpa, uint64_t size);
void gd_mem_free(struct gd_mem *m);
/* First fit, never crossing a region. Returns GD_BAD_GPA when out of space. */
uint64_t gd_mem_alloc(struct gd_mem *m, uint64_t len, uint64_t align);
/* Host pointer for [gpa, gpa+len) when it lies in one region, else NULL. */
void *gd_mem_ptr(const struct gd_mem *m, uint64_t gpa, uint64_t len);
/* Piecewise copies that may cross adjacent regions; -EFAULT on a hole. */
int gd_mem_write(const struct gd_mem *m, uint64_t gpa, const void *src, uint64_t len);
int gd_mem_read(const struct gd_mem *m, uint64_t gpa, void *dst, uint64_t len);
uint64_t gd_mem_hva_to_gpa(const struct gd_mem *m, const void *hva);

/* A scatter-gather element of a chain. */
struct gd_sg {
	uint64_t gpa;
	uint32_t len;
	bool write;		/* device-writable (VRING_DESC_F_WRITE) */
};

#define GD_NO_COOKIE (~0ULL)

struct gd_dev;

struct gd_vq {
	struct gd_dev *dev;
	unsigned int index;
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;

	/* driver state */
	uint16_t avail_idx;	/* next avail index to publish */
	uint16_t kicked_idx;	/* avail index at the last notify decision */
	uint16_t last_used;
	uint16_t free_head;
	unsigned int num_free;
	uint16_t *chain_len;	/* per head: descriptors taken from the table */
	uint32_t *chain_wlen;	/* per head: device-writable bytes */
	uint64_t *cookie;	/* per head: caller's cookie, GD_NO_COOKIE if free */

	/* indirect tables: ind_max entries per head, preallocated */
	unsigned int ind_max;
	uint64_t ind_gpa;

	int kick_fd, call_fd, err_fd;

	/* statistics */
	uint64_t kicks, kicks_suppressed, calls, added, completed;
};

struct gd_dev {
	int fd;
	char path[64];
	uint64_t features;	/* negotiated */
	size_t hdr_len;		/* virtio_net_hdr size the guest uses */
	struct gd_mem *mem;
	struct gd_vq vq[GD_NVQ];
};

/* vq setup flags */
#define GD_VQ_INDIRECT	(1u << 0)	/* preallocate indirect tables */

/* dev */
int gd_dev_open(struct gd_dev *d, const char *path);
void gd_dev_close(struct gd_dev *d);
int gd_dev_set_owner(struct gd_dev *d);
int gd_dev_get_features(struct gd_dev *d, uint64_t *features);
int gd_dev_set_features(struct gd_dev *d, uint64_t features);
int gd_dev_set_mem(struct gd_dev *d, struct gd_mem *m);
int gd_dev_set_backend(struct gd_dev *d, unsigned int index, int fd);
int gd_dev_reset_owner(struct gd_dev *d);
bool gd_has(const struct gd_dev *d, unsigned int bit);

/*
 * Dirty logging, as QEMU switches it on for a migration: log base and
 * eventfd, then VHOST_F_LOG_ALL, then each ring's VHOST_VRING_F_LOG with the
 * used ring's gpa. Off: the feature, then the flag, dropped again.
 */
int gd_dev_set_log_base(struct gd_dev *d, const void *bitmap);
int gd_dev_set_log_fd(struct gd_dev *d, int fd);
int gd_vq_set_log(struct gd_vq *vq, bool on);

/* vq: allocate the ring in guest memory and hand it to the device */
int gd_vq_alloc(struct gd_dev *d, unsigned int index, unsigned int num, unsigned int flags);
int gd_vq_config(struct gd_vq *vq, uint16_t base);	/* NUM, ADDR, BASE, KICK, CALL, ERR */
void gd_vq_reset_ring(struct gd_vq *vq);		/* zero ring memory and driver state */
int gd_vq_set_num(struct gd_vq *vq, unsigned int num);
int gd_vq_set_addr(struct gd_vq *vq, uint64_t desc, uint64_t avail, uint64_t used);
int gd_vq_set_base(struct gd_vq *vq, unsigned int base);
int gd_vq_get_base(struct gd_vq *vq, unsigned int *base);
void gd_vq_free(struct gd_vq *vq);

/* datapath */
unsigned int gd_vq_free_descs(const struct gd_vq *vq);
int gd_vq_next_head(const struct gd_vq *vq);
int gd_vq_add(struct gd_vq *vq, const struct gd_sg *sg, unsigned int n, bool indirect,
	      uint64_t cookie);
/* Publish avail->idx; kick if the device asks for it. Returns true if kicked. */
bool gd_vq_notify(struct gd_vq *vq);
void gd_vq_kick(struct gd_vq *vq);
/* Reap one used entry: head >= 0, -EAGAIN when none, -EIO on a device bug. */
int gd_vq_get_used(struct gd_vq *vq, uint32_t *len, uint64_t *cookie);
bool gd_vq_has_used(const struct gd_vq *vq);
uint16_t gd_vq_used_idx(const struct gd_vq *vq);
/* Ask for an interrupt on the next used entry; false if one is already there. */
bool gd_vq_enable_cb(struct gd_vq *vq);
void gd_vq_disable_cb(struct gd_vq *vq);
/* Wait for the call eventfd: 1 signalled, 0 timeout, <0 error. */
int gd_vq_wait_call(struct gd_vq *vq, int timeout_ms);
/* Wait for the err eventfd: the count read, 0 on timeout. */
int gd_vq_wait_err(struct gd_vq *vq, int timeout_ms);

/* raw access, for hostile rings */
void gd_vq_raw_desc(struct gd_vq *vq, unsigned int i, uint64_t gpa, uint32_t len,
		    uint16_t flags, uint16_t next);
void gd_vq_raw_avail(struct gd_vq *vq, uint16_t head);
void gd_vq_raw_set_avail_idx(struct gd_vq *vq, uint16_t idx);
/*
 * Stop the queue, throw the ring away and start again from index 0:
 * SET_BACKEND -1, GET_VRING_BASE, zero the ring, SET_VRING_ADDR,
 * SET_VRING_BASE 0, SET_BACKEND backend_fd (if >= 0).
 */
int gd_vq_restart(struct gd_vq *vq, int backend_fd);

/* tap */
#define GD_TAP_VNET_HDR	(1u << 0)	/* IFF_VNET_HDR + TUNSETVNETHDRSZ */
#define GD_TAP_OFFLOAD	(1u << 1)	/* TUNSETOFFLOAD CSUM|TSO4|TSO6 */
#define GD_TAP_MULTI_QUEUE (1u << 2)	/* IFF_MULTI_QUEUE: see gd_tap_open_queue() */

struct gd_tap {
	int fd;
	char name[IFNAMSIZ];
	int ifindex;
	int cap;		/* AF_PACKET, sees what the tap receives (guest TX) */
	int inj;		/* AF_PACKET, transmits on the tap (toward guest RX) */
	unsigned int flags;
	int vnet_hdr_sz;
};

/* A private network namespace with IPv6 off, so nothing else talks. */
int gd_netns_private(void);
int gd_tap_create(struct gd_tap *t, const char *name, unsigned int flags, int vnet_hdr_sz);
int gd_tap_set_mtu(struct gd_tap *t, int mtu);
/*
 * Another queue of the multi-queue tap @of, as QEMU opens one per queue pair:
 * only q->fd is set (no capture or inject sockets: use @of's).
 */
int gd_tap_open_queue(struct gd_tap *q, const struct gd_tap *of);
void gd_tap_close(struct gd_tap *t);
int gd_tap_delete_link(const struct gd_tap *t);	/* RTM_DELLINK while the fd stays open */
/* Frame toward the guest; h may be NULL (no GSO). */
int gd_tap_inject(struct gd_tap *t, const struct virtio_net_hdr *h, const void *frame, size_t len);
/*
 * One frame the guest sent (non-blocking unless timeout_ms > 0).
 * Returns the frame length (full length even if truncated to cap), 0 on timeout.
 */
ssize_t gd_tap_capture(struct gd_tap *t, struct virtio_net_hdr *h, void *buf, size_t cap,
		       int timeout_ms);
/* Drops counted by the capture socket since the last call. */
unsigned int gd_tap_capture_drops(struct gd_tap *t);

/* misc */
uint64_t gd_now_ns(void);
const char *gd_errname(int err);

#endif /* GUESTDRV_H */
