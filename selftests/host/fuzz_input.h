/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input format of fuzz_ring.c, shared with fuzz_seeds.c. All integers are
 * little-endian; a short input reads as zeros.
 *
 *   u16 img_len, img_len bytes of guest image (the only "user memory")
 *   u8 num_log2, u8 flags (1 event_idx, 2 indirect, 4 notify_on_empty,
 *   8 start with NO_NOTIFY), u8 iov_max, u16 last_avail_idx,
 *   u32 desc, avail, used offsets into the image
 *   u8 nregions, then per region u64 gpa, u64 size, u64 uoff
 *   (uoff: offset into the image, or with bit 63 a raw user address)
 *   operations until the end: u8 op (mod FUZZ_OP_MAX) and its arguments
 */
#ifndef _VHX_FUZZ_INPUT_H
#define _VHX_FUZZ_INPUT_H

#define FUZZ_MAX_IMAGE 0xffff
#define FUZZ_UOFF_MASK 0xffffu
#define FUZZ_UADDR_RAW (1ull << 63)
#define FUZZ_MAX_NUM_LOG2 10
#define FUZZ_MAX_NUM (1u << FUZZ_MAX_NUM_LOG2)
#define FUZZ_MAX_IOV 64
#define FUZZ_MAX_REGIONS 8
#define FUZZ_MAX_STEPS 256

enum fuzz_op {
	FUZZ_OP_POP_OUT, /* no args */
	FUZZ_OP_POP_IN, /* no args */
	FUZZ_OP_PUSH, /* u32 len: push every popped chain */
	FUZZ_OP_UNPOP, /* u8 n (mod popped + 1) */
	FUZZ_OP_SIGNAL,
	FUZZ_OP_KICK_ENABLE,
	FUZZ_OP_KICK_DISABLE,
	FUZZ_OP_AVAIL,
	FUZZ_OP_GUEST_DESC, /* u16 i, u64 addr, u32 len, u16 flags, u16 next */
	FUZZ_OP_GUEST_PUBLISH, /* u16 head */
	FUZZ_OP_GUEST_POKE, /* u16 offset, u16 value */
	FUZZ_OP_TRANSLATE, /* u8 region, s16 offset from its gpa, u16 len */
	FUZZ_OP_START,
	FUZZ_OP_MAX,
};

#endif /* _VHX_FUZZ_INPUT_H */
