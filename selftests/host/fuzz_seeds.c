// SPDX-License-Identifier: GPL-2.0
/*
 * Write a few well-formed inputs for fuzz_ring into a corpus directory, so
 * that fuzzing starts from rings that work: direct, indirect, RX, event idx,
 * multi-region, 16-bit wrap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_input.h"

#define IMG 0x4000
#define DESC 0x0
#define AVAIL 0x800
#define USED 0x1000
#define DATA 0x2000
#define GPA 0x100000ull /* gpa of image offset 0 in the one-region seeds */

struct seed {
	uint8_t buf[IMG + 4096];
	size_t len;
	uint8_t *img;
};

static void put(struct seed *s, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		s->buf[s->len++] = (uint8_t)(v >> (8 * i));
}

static void wr(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void desc(struct seed *s, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t *d = s->img + DESC + 16 * i;

	wr(d, addr, 8);
	wr(d + 8, len, 4);
	wr(d + 12, flags, 2);
	wr(d + 14, next, 2);
}

static void begin(struct seed *s, unsigned int num_log2, unsigned int flags,
		  uint16_t last_avail, uint16_t avail_idx,
		  const uint16_t *heads, unsigned int nheads)
{
	memset(s, 0, sizeof(*s));
	put(s, IMG, 2);
	s->img = s->buf + s->len;
	s->len += IMG;
	wr(s->img + AVAIL + 2, avail_idx, 2);
	for (unsigned int i = 0; i < nheads; i++)
		wr(s->img + AVAIL + 4 +
			   2 * ((uint16_t)(last_avail + i) &
				((1u << num_log2) - 1)),
		   heads[i], 2);
	put(s, num_log2, 1);
	put(s, flags, 1);
	put(s, 16, 1); /* iov_max */
	put(s, last_avail, 2);
	put(s, DESC, 4);
	put(s, AVAIL, 4);
	put(s, USED, 4);
}

static void region(struct seed *s, uint64_t gpa, uint64_t size, uint64_t uoff)
{
	put(s, gpa, 8);
	put(s, size, 8);
	put(s, uoff, 8);
}

static void ops_common(struct seed *s, int pop_op)
{
	put(s, pop_op, 1);
	put(s, FUZZ_OP_PUSH, 1);
	put(s, 64, 4);
	put(s, FUZZ_OP_SIGNAL, 1);
	put(s, FUZZ_OP_KICK_ENABLE, 1);
	put(s, FUZZ_OP_KICK_DISABLE, 1);
	put(s, FUZZ_OP_GUEST_DESC, 1);
	put(s, 5, 2);
	put(s, GPA + DATA + 0x100, 8);
	put(s, 32, 4);
	put(s, pop_op == FUZZ_OP_POP_IN ? 2 : 0, 2);
	put(s, 0, 2);
	put(s, FUZZ_OP_GUEST_PUBLISH, 1);
	put(s, 5, 2);
	put(s, FUZZ_OP_AVAIL, 1);
	put(s, pop_op, 1);
	put(s, FUZZ_OP_UNPOP, 1);
	put(s, 1, 1);
	put(s, pop_op, 1);
	put(s, FUZZ_OP_PUSH, 1);
	put(s, 0, 4);
	put(s, FUZZ_OP_TRANSLATE, 1);
	put(s, 0, 1);
	put(s, 0x10, 2);
	put(s, 0x100, 2);
	put(s, FUZZ_OP_SIGNAL, 1);
}

static int save(const struct seed *s, const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len) {
		perror(path);
		return 1;
	}
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct seed s;
	uint16_t heads[4] = { 0, 3, 1, 2 };
	int ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}

	/* TX: two chains of direct readable descriptors, one region. */
	begin(&s, 3, 0, 0, 2, heads, 2);
	desc(&s, 0, GPA + DATA, 100, 1, 1);
	desc(&s, 1, GPA + DATA + 0x200, 50, 0, 0);
	desc(&s, 3, GPA + DATA + 0x400, 1500, 0, 0);
	put(&s, 1, 1);
	region(&s, GPA, IMG, 0);
	ops_common(&s, FUZZ_OP_POP_OUT);
	ret |= save(&s, argv[1], "tx-direct");

	/* RX with event idx: writable chains, 16-bit wrap of avail idx. */
	begin(&s, 2, 1, 65535, 1, heads, 2);
	desc(&s, 0, GPA + DATA, 1500, 2, 0);
	desc(&s, 3, GPA + DATA + 0x800, 64, 3, 1);
	desc(&s, 1, GPA + DATA + 0x900, 64, 2, 0);
	put(&s, 1, 1);
	region(&s, GPA, IMG, 0);
	ops_common(&s, FUZZ_OP_POP_IN);
	ret |= save(&s, argv[1], "rx-event-wrap");

	/* Indirect table that spans two regions with split user ranges. */
	begin(&s, 3, 2 | 1, 0, 1, heads, 1);
	desc(&s, 0, 0x200000 - 8, 48, 4, 0);
	/* table bytes [0, 8) at image 0x3000 - 8, the rest at image 0x3800 */
	{
		uint8_t t[48];

		memset(t, 0, sizeof(t));
		wr(t, GPA + DATA, 8);
		wr(t + 8, 10, 4);
		wr(t + 12, 1, 2);
		wr(t + 14, 2, 2);
		wr(t + 32, GPA + DATA + 0x20, 8);
		wr(t + 40, 20, 4);
		memcpy(s.img + 0x3000 - 8, t, 8);
		memcpy(s.img + 0x3800, t + 8, 40);
	}
	put(&s, 3, 1);
	region(&s, GPA, IMG, 0);
	region(&s, 0x200000 - 0x800, 0x800, 0x2800);
	region(&s, 0x200000, 0x400, 0x3800);
	ops_common(&s, FUZZ_OP_POP_OUT);
	ret |= save(&s, argv[1], "tx-indirect-span");

	/* An indirect table over three regions of 8, 8 and 32 bytes. */
	begin(&s, 3, 2, 0, 1, heads, 1);
	desc(&s, 0, 0x300000, 48, 4, 0);
	{
		uint8_t t[48];

		memset(t, 0, sizeof(t));
		wr(t, GPA + DATA, 8);
		wr(t + 8, 10, 4);
		wr(t + 12, 1, 2);
		wr(t + 14, 1, 2);
		wr(t + 16, GPA + DATA + 0x20, 8);
		wr(t + 24, 20, 4);
		wr(t + 28, 1, 2);
		wr(t + 30, 2, 2);
		wr(t + 32, GPA + DATA + 0x40, 8);
		wr(t + 40, 30, 4);
		memcpy(s.img + 0x3000, t, 8);
		memcpy(s.img + 0x3100, t + 8, 8);
		memcpy(s.img + 0x3200, t + 16, 32);
	}
	put(&s, 4, 1);
	region(&s, GPA, IMG, 0);
	region(&s, 0x300000, 8, 0x3000);
	region(&s, 0x300008, 8, 0x3100);
	region(&s, 0x300010, 32, 0x3200);
	ops_common(&s, FUZZ_OP_POP_OUT);
	ret |= save(&s, argv[1], "tx-indirect-3span");

	/* Overlapping regions and a notify-on-empty ring. */
	begin(&s, 0, 4 | 8, 7, 8, heads, 1);
	desc(&s, 0, GPA + DATA + 0xff0, 0x20, 0, 0);
	put(&s, 2, 1);
	region(&s, GPA + 0x1000, IMG - 0x1000, 0x1000);
	region(&s, GPA, IMG, 0);
	ops_common(&s, FUZZ_OP_POP_OUT);
	ret |= save(&s, argv[1], "overlap-notify-empty");
	return ret;
}
