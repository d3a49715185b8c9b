// SPDX-License-Identifier: GPL-2.0
// Host unit tests for kmod/ring_split.c: good paths and every hostile-input
// rule (each asserts the exact error class and that nothing was consumed).
#include <catch2/catch.hpp>

#include "guest.hpp"

using namespace vhx_test;

namespace {

constexpr std::uint16_t NEXT = VRING_DESC_F_NEXT;
constexpr std::uint16_t WRITE = VRING_DESC_F_WRITE;
constexpr std::uint16_t INDIRECT = VRING_DESC_F_INDIRECT;

// A pop that must fail with @err, consume nothing and write nothing; the
// ring then stays broken with the same error.
void require_broken(Guest &g, vhx_dir dir, vhx_ring_err err, int errno_want,
		    unsigned int iov_max = 256)
{
	std::uint16_t last = g.r.last_avail_idx;
	std::uint16_t used = g.used_idx();
	unsigned long writes = vhx_user_stats.writes;

	int ret = g.pop(dir, iov_max);
	INFO("err " << g.r.err << " (" << vhx_ring_err_str(g.r.err) << ")");
	REQUIRE(ret == errno_want);
	REQUIRE(g.r.err == err);
	REQUIRE(g.r.last_avail_idx == last);
	REQUIRE(g.used_idx() == used);
	REQUIRE(vhx_user_stats.writes == writes);

	// First error wins and the ring refuses further work untouched.
	unsigned long reads = vhx_user_stats.reads;
	REQUIRE(g.pop(dir) == -EIO);
	REQUIRE(vhx_ring_avail(&g.r) == -EIO);
	REQUIRE(vhx_ring_kick_enable(&g.r) == -EIO);
	REQUIRE(g.r.err == err);
	REQUIRE(g.r.last_avail_idx == last);
	REQUIRE(vhx_user_stats.reads == reads);
	REQUIRE(vhx_user_stats.writes == writes);
}

} // namespace

// ---------------------------------------------------------------------------
// Good paths
// ---------------------------------------------------------------------------

TEST_CASE("ring: start writes used flags, reads used idx", "[ring]")
{
	Guest g(8);
	g.set_used_idx(1234);
	g.r.used_flags = VRING_USED_F_NO_NOTIFY;
	g.r.signalled_used_valid = true;
	g.r.err = VHX_RERR_HEAD;	// a restart clears an old error
	REQUIRE(g.start() == 0);
	CHECK(g.r.last_used_idx == 1234);
	CHECK(g.used_flags() == VRING_USED_F_NO_NOTIFY);
	CHECK_FALSE(g.r.signalled_used_valid);
	CHECK(g.r.err == VHX_RERR_NONE);
}

TEST_CASE("ring: start rejects bad num and inaccessible rings", "[ring]")
{
	Guest g(8);
	g.r.num = 6;
	CHECK(g.start() == -EINVAL);
	g.r.num = 65536;
	CHECK(g.start() == -EINVAL);
	g.r.num = 8;

	SECTION("used ring read-only: the flags write fails") {
		vhx_user_reset();
		vhx_user_map(g.ram, g.used_gpa, VHX_USER_RW);
		vhx_user_map(g.ram + g.used_gpa, RAM_SIZE - g.used_gpa, VHX_USER_R);
		CHECK(g.start() == -EFAULT);
		CHECK(g.r.err == VHX_RERR_USED);
	}
	SECTION("used ring not mapped at all") {
		vhx_user_reset();
		vhx_user_map(g.ram, g.used_gpa, VHX_USER_RW);
		CHECK(g.start() == -EFAULT);
		CHECK(g.r.err == VHX_RERR_USED);
	}
	SECTION("ring above the user address space") {
		g.r.used = reinterpret_cast<vring_used_t *>((1ull << 47) - 8);
		CHECK(g.start() == -EFAULT);
		CHECK(g.r.err == VHX_RERR_ACCESS);
	}
}

TEST_CASE("ring: empty ring pops nothing", "[ring]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	CHECK(g.pop(VHX_DIR_OUT) == 0);
	CHECK(vhx_ring_avail(&g.r) == 0);
	CHECK(g.r.err == VHX_RERR_NONE);
	CHECK(g.r.last_avail_idx == 0);
}

TEST_CASE("ring: simple readable chain (TX)", "[ring]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(100), b = g.alloc(200), c = g.alloc(50);
	std::uint16_t head = g.add_chain({ { a, 100 }, { b, 200 }, { c, 50 } });
	CHECK(vhx_ring_avail(&g.r) == 1);

	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == head);
	CHECK(g.c.out == 3);
	CHECK(g.c.in == 0);
	CHECK(g.c.out_len == 350);
	CHECK(g.c.in_len == 0);
	CHECK(g.iov[0].iov_base == g.ptr(a));
	CHECK(g.iov[0].iov_len == 100);
	CHECK(g.iov[1].iov_base == g.ptr(b));
	CHECK(g.iov[2].iov_base == g.ptr(c));
	CHECK(g.iov[2].iov_len == 50);
	CHECK(g.r.last_avail_idx == 1);
	CHECK(g.pop(VHX_DIR_OUT) == 0);
	CHECK(g.r.err == VHX_RERR_NONE);
}

TEST_CASE("ring: writable chain (RX) and several chains in order", "[ring]")
{
	Guest g(4);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(1500), b = g.alloc(64);
	std::uint16_t h1 = g.add_chain({ { a, 1500, true } });
	std::uint16_t h2 = g.add_chain({ { b, 64, true }, { a, 10, true } });
	CHECK(vhx_ring_avail(&g.r) == 2);

	REQUIRE(g.pop(VHX_DIR_IN) == 1);
	CHECK(g.c.head == h1);
	CHECK(g.c.out == 0);
	CHECK(g.c.in == 1);
	CHECK(g.c.in_len == 1500);
	REQUIRE(g.pop(VHX_DIR_IN) == 1);
	CHECK(g.c.head == h2);
	CHECK(g.c.in == 2);
	CHECK(g.c.in_len == 74);
	CHECK(g.iov[1].iov_base == g.ptr(a));
	CHECK(g.pop(VHX_DIR_IN) == 0);
}

TEST_CASE("ring: zero-length descriptors add no iov entry", "[ring]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(32);
	// addr of a zero-length descriptor is not even looked at (as in vhost)
	g.add_chain({ { 0xdead000000000000ull, 0 }, { a, 32 }, { a, 0 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.out == 1);
	CHECK(g.c.out_len == 32);
	CHECK(g.iov[0].iov_base == g.ptr(a));
}

TEST_CASE("ring: a descriptor spanning two memory regions gives two iov entries", "[ring]")
{
	Guest g(8);
	// gpa [0, 0x80000) -> ram, gpa [0x80000, RAM) -> ram + 0x80000 too, but
	// as a separate region; and gpa 0x200000.. -> ram + 0xa0000 (aliased).
	g.mem.build({ { 0, 0x80000, g.uaddr_of(0) },
		      { 0x80000, RAM_SIZE - 0x80000, g.uaddr_of(0x80000) },
		      { 0x200000, 0x1000, g.uaddr_of(0xa0000) } });
	REQUIRE(g.mem.err == 0);
	REQUIRE(g.start() == 0);
	g.add_chain({ { 0x7fff0, 0x20 }, { 0x200010, 0x10 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	REQUIRE(g.c.out == 3);
	CHECK(g.c.out_len == 0x30);
	CHECK(g.iov[0].iov_base == g.ptr(0x7fff0));
	CHECK(g.iov[0].iov_len == 0x10);
	CHECK(g.iov[1].iov_base == g.ptr(0x80000));
	CHECK(g.iov[1].iov_len == 0x10);
	CHECK(g.iov[2].iov_base == g.ptr(0xa0010));
	CHECK(g.iov[2].iov_len == 0x10);
}

TEST_CASE("ring: indirect chain", "[ring]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(10), b = g.alloc(20), t = g.alloc(64);
	std::uint16_t head = g.add_indirect({ { a, 10 }, { b, 20 } }, t);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == head);
	CHECK(g.c.out == 2);
	CHECK(g.c.out_len == 30);
	CHECK(g.iov[0].iov_base == g.ptr(a));
	CHECK(g.iov[1].iov_base == g.ptr(b));

	SECTION("the WRITE flag of the indirect descriptor itself is ignored") {
		std::uint64_t t2 = g.alloc(16);
		g.set_table(t2, Guest::chain_table({ { a, 5, true } }));
		g.set_desc(3, t2, 16, INDIRECT | WRITE);
		g.publish(3);
		REQUIRE(g.pop(VHX_DIR_IN) == 1);
		CHECK(g.c.in == 1);
		CHECK(g.c.in_len == 5);
	}
	SECTION("direct descriptors followed by a final indirect one") {
		g.set_desc(4, a, 3, NEXT, 5);
		g.set_desc(5, t, 32, INDIRECT);
		g.publish(4);
		REQUIRE(g.pop(VHX_DIR_OUT) == 1);
		CHECK(g.c.head == 4);
		CHECK(g.c.out == 3);
		CHECK(g.c.out_len == 33);
	}
	SECTION("indirect entries need not be in table order") {
		std::uint64_t t3 = g.alloc(48);
		g.set_table(t3, { Guest::make_desc(a, 1, NEXT, 2), Guest::make_desc(b, 4, 0, 0),
				  Guest::make_desc(b, 2, NEXT, 1) });
		g.set_desc(6, t3, 48, INDIRECT);
		g.publish(6);
		REQUIRE(g.pop(VHX_DIR_OUT) == 1);
		CHECK(g.c.out == 3);
		CHECK(g.c.out_len == 7);
	}
}

TEST_CASE("ring: an indirect table spanning memory regions is read correctly", "[ring]")
{
	Guest g(8, false, true);
	// The table's gpa range crosses from region 1 into region 2, whose user
	// addresses are not contiguous with region 1's.
	g.mem.build({ { 0, 0xa0008, g.uaddr_of(0) },
		      { 0xa0008, 0x1000, g.uaddr_of(0xc0000) } });
	REQUIRE(g.mem.err == 0);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(10), b = g.alloc(20);
	auto t = Guest::chain_table({ { a, 10 }, { b, 20 } });
	// bytes [0, 8) of the table at ram+0xa0000, the other 24 at ram+0xc0000
	std::memcpy(g.ptr(0xa0000), t.data(), 8);
	std::memcpy(g.ptr(0xc0000), reinterpret_cast<std::uint8_t *>(t.data()) + 8, 24);
	g.set_desc(0, 0xa0000, 32, INDIRECT);
	g.publish(0);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.out == 2);
	CHECK(g.c.out_len == 30);
	CHECK(g.iov[0].iov_base == g.ptr(a));
	CHECK(g.iov[1].iov_base == g.ptr(b));
}

TEST_CASE("ring: 16-bit avail index wraparound", "[ring]")
{
	Guest g(4);
	g.r.last_avail_idx = 65534;
	g.guest_avail = 65534;
	g.set_avail_idx(65534);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	for (int i = 0; i < 4; i++)
		g.add_chain({ { a, static_cast<std::uint32_t>(i + 1) } });
	CHECK(g.guest_avail == 2);
	CHECK(vhx_ring_avail(&g.r) == 4);
	for (int i = 0; i < 4; i++) {
		REQUIRE(g.pop(VHX_DIR_OUT) == 1);
		CHECK(g.c.head == i);
		CHECK(g.c.out_len == static_cast<std::uint64_t>(i + 1));
	}
	CHECK(g.r.last_avail_idx == 2);
	CHECK(g.pop(VHX_DIR_OUT) == 0);
	CHECK(g.r.err == VHX_RERR_NONE);
}

TEST_CASE("ring: used ring wraps in slots and in the 16-bit index", "[ring]")
{
	Guest g(4);
	g.set_used_idx(65534);	// slot 2
	REQUIRE(g.start() == 0);
	REQUIRE(g.r.last_used_idx == 65534);
	vring_used_elem e[3] = { { htole32(1), htole32(11) },
				 { htole32(2), htole32(22) },
				 { htole32(3), htole32(33) } };
	REQUIRE(vhx_ring_push_used(&g.r, e, 3) == 0);
	CHECK(g.used_idx() == 1);
	CHECK(g.r.last_used_idx == 1);
	CHECK(g.used_elem(2).id == 1);
	CHECK(g.used_elem(2).len == 11);
	CHECK(g.used_elem(3).id == 2);
	CHECK(g.used_elem(0).id == 3);	// wrapped to slot 0
	CHECK(g.used_elem(0).len == 33);

	CHECK(vhx_ring_push_used(&g.r, e, 0) == 0);	// nothing to do
	CHECK(g.used_idx() == 1);
	CHECK(vhx_ring_push_used(&g.r, e, 5) == -EINVAL);	// more than num: caller bug
	CHECK(g.r.err == VHX_RERR_NONE);
}

TEST_CASE("ring: pop, push, pop round trip", "[ring]")
{
	Guest g(2);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(64);
	for (int round = 0; round < 100; round++) {
		g.add_chain({ { a, 64, true } });
		REQUIRE(g.pop(VHX_DIR_IN) == 1);
		REQUIRE(g.push(g.c.head, 64) == 0);
		REQUIRE(g.used_idx() == static_cast<std::uint16_t>(round + 1));
	}
	CHECK(g.r.err == VHX_RERR_NONE);
}

TEST_CASE("ring: unpop gives the chains back", "[ring]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(64);
	std::uint16_t h1 = g.add_chain({ { a, 1 } });
	std::uint16_t h2 = g.add_chain({ { a, 2 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == h2);
	vhx_ring_unpop(&g.r, 2);
	CHECK(g.r.last_avail_idx == 0);
	CHECK(vhx_ring_avail(&g.r) == 2);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == h1);
	vhx_ring_unpop(&g.r, 1);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == h1);
	CHECK(g.c.out_len == 1);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(g.c.head == h2);

	SECTION("unpop across the 16-bit wrap") {
		Guest w(4);
		w.r.last_avail_idx = 65535;
		w.set_avail_idx(65535);
		REQUIRE(w.start() == 0);
		w.add_chain({ { a, 1 } });
		w.add_chain({ { a, 2 } });
		REQUIRE(w.pop(VHX_DIR_OUT) == 1);
		REQUIRE(w.pop(VHX_DIR_OUT) == 1);
		CHECK(w.r.last_avail_idx == 1);
		vhx_ring_unpop(&w.r, 2);
		CHECK(w.r.last_avail_idx == 65535);
		REQUIRE(w.pop(VHX_DIR_OUT) == 1);
		CHECK(w.c.out_len == 1);
	}
}

// ---------------------------------------------------------------------------
// Notification: interrupts (need_signal) and kicks (kick_enable/disable)
// ---------------------------------------------------------------------------

TEST_CASE("vring_need_event math", "[event]")
{
	// signal iff event is in [old, new)
	CHECK(vring_need_event(0, 1, 0));
	CHECK_FALSE(vring_need_event(1, 1, 0));
	CHECK(vring_need_event(5, 10, 3));
	CHECK(vring_need_event(9, 10, 3));
	CHECK_FALSE(vring_need_event(10, 10, 3));
	CHECK_FALSE(vring_need_event(2, 10, 3));
	// across the 16-bit wrap
	CHECK(vring_need_event(65535, 2, 65530));
	CHECK(vring_need_event(0, 2, 65530));
	CHECK_FALSE(vring_need_event(2, 2, 65530));
	CHECK_FALSE(vring_need_event(65529, 2, 65530));
	// nothing new
	CHECK_FALSE(vring_need_event(7, 7, 7));
}

TEST_CASE("need_signal without event idx follows NO_INTERRUPT", "[event]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	CHECK(vhx_ring_need_signal(&g.r));
	g.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	CHECK_FALSE(vhx_ring_need_signal(&g.r));
	g.set_avail_flags(0);
	CHECK(vhx_ring_need_signal(&g.r));

	SECTION("a read failure signals (spurious is safe)") {
		g.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
		vhx_user_reset();
		CHECK(vhx_ring_need_signal(&g.r));
	}
}

TEST_CASE("need_signal with NOTIFY_ON_EMPTY signals when the ring is drained", "[event]")
{
	Guest g(8);
	g.r.notify_on_empty = true;
	REQUIRE(g.start() == 0);
	g.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 } });
	g.add_chain({ { a, 8 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);	// one left: the guest's wish counts
	REQUIRE(g.push(g.c.head, 8) == 0);
	CHECK_FALSE(vhx_ring_need_signal(&g.r));
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);	// drained: signal anyway
	REQUIRE(g.push(g.c.head, 8) == 0);
	CHECK(vhx_ring_need_signal(&g.r));

	SECTION("also with event idx, where used_event says no") {
		Guest e(8, true);
		e.r.notify_on_empty = true;
		REQUIRE(e.start() == 0);
		e.set_used_event(100);
		CHECK(vhx_ring_need_signal(&e.r));	// empty ring
		CHECK(vhx_ring_need_signal(&e.r));
	}
}

TEST_CASE("need_signal with event idx", "[event]")
{
	Guest g(8, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	for (int i = 0; i < 6; i++)
		g.add_chain({ { a, 8 } });
	// NO_INTERRUPT is ignored with event idx
	g.set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	g.set_used_event(0);

	auto pop_push = [&] {
		REQUIRE(g.pop(VHX_DIR_OUT) == 1);
		REQUIRE(g.push(g.c.head, 8) == 0);
	};
	pop_push();	// used 0 -> 1
	// first decision after start: no valid window, signal
	CHECK(vhx_ring_need_signal(&g.r));
	CHECK(g.r.signalled_used_valid);
	CHECK(g.r.signalled_used == 1);

	pop_push();	// used -> 2; guest wants an interrupt past used idx 3
	g.set_used_event(3);
	CHECK_FALSE(vhx_ring_need_signal(&g.r));	// window [1, 2)
	CHECK(g.r.signalled_used == 2);
	pop_push();	// -> 3
	CHECK_FALSE(vhx_ring_need_signal(&g.r));	// window [2, 3)
	pop_push();	// -> 4
	CHECK(vhx_ring_need_signal(&g.r));	// window [3, 4) holds 3
	CHECK_FALSE(vhx_ring_need_signal(&g.r));	// nothing new
	pop_push();
	pop_push();	// -> 6; used_event 4 is in [4, 6)
	g.set_used_event(4);
	CHECK(vhx_ring_need_signal(&g.r));

	SECTION("used idx lapping the signalled value invalidates the window") {
		g.set_used_event(60000);	// guest wants nothing for a long time
		for (int i = 0; i < 65536 / 8; i++) {
			vring_used_elem e[8] = {};
			REQUIRE(vhx_ring_push_used(&g.r, e, 8) == 0);
		}
		CHECK_FALSE(g.r.signalled_used_valid);
		CHECK(vhx_ring_need_signal(&g.r));
	}
	SECTION("restart forgets the window") {
		REQUIRE(g.start() == 0);
		g.set_used_event(1000);
		CHECK(vhx_ring_need_signal(&g.r));
		CHECK_FALSE(vhx_ring_need_signal(&g.r));
	}
}

TEST_CASE("kick enable/disable without event idx", "[event]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	CHECK(g.used_flags() == 0);
	vhx_ring_kick_disable(&g.r);
	CHECK(g.used_flags() == VRING_USED_F_NO_NOTIFY);
	CHECK(g.r.used_flags == VRING_USED_F_NO_NOTIFY);

	CHECK(vhx_ring_kick_enable(&g.r) == 0);	// empty
	CHECK(g.used_flags() == 0);
	vhx_ring_kick_disable(&g.r);

	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 } });
	CHECK(vhx_ring_kick_enable(&g.r) == 1);	// arrived meanwhile
	CHECK(g.used_flags() == 0);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(vhx_ring_kick_enable(&g.r) == 0);

	SECTION("enable fails when the used ring is read-only") {
		vhx_ring_kick_disable(&g.r);
		vhx_user_reset();
		vhx_user_map(g.ram, RAM_SIZE, VHX_USER_R);
		CHECK(vhx_ring_kick_enable(&g.r) == -EFAULT);
		CHECK(g.r.err == VHX_RERR_USED);
	}
	SECTION("enable recheck catches a bad avail idx") {
		vhx_ring_kick_disable(&g.r);
		g.set_avail_idx(static_cast<std::uint16_t>(g.r.last_avail_idx + 9));
		CHECK(vhx_ring_kick_enable(&g.r) == -EINVAL);
		CHECK(g.r.err == VHX_RERR_AVAIL_IDX);
	}
}

TEST_CASE("kick enable/disable with event idx", "[event]")
{
	Guest g(8, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 } });
	g.add_chain({ { a, 8 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);

	vhx_ring_kick_disable(&g.r);
	CHECK(g.r.used_flags == VRING_USED_F_NO_NOTIFY);
	CHECK(g.used_flags() == 0);	// nothing written with event idx
	CHECK(vhx_ring_kick_enable(&g.r) == 0);
	CHECK(g.avail_event() == 2);	// kick me when you go past 2
	CHECK(g.r.used_flags == 0);

	vhx_ring_kick_disable(&g.r);
	g.add_chain({ { a, 8 } });
	CHECK(vhx_ring_kick_enable(&g.r) == 1);
	CHECK(g.avail_event() == 2);	// what we had seen when we asked
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(vhx_ring_kick_enable(&g.r) == 0);
	CHECK(g.avail_event() == 3);
}

// ---------------------------------------------------------------------------
// Hostile input: one test per rule
// ---------------------------------------------------------------------------

TEST_CASE("hostile: avail idx moving by more than num", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	for (unsigned int i = 0; i < 8; i++)
		g.add_chain({ { a, 8 } });
	g.set_avail_idx(9);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_AVAIL_IDX, -EINVAL);

	SECTION("exactly num is fine") {
		Guest ok(8);
		REQUIRE(ok.start() == 0);
		for (unsigned int i = 0; i < 8; i++)
			ok.add_chain({ { a, 8 } });
		CHECK(vhx_ring_avail(&ok.r) == 8);
		for (unsigned int i = 0; i < 8; i++)
			REQUIRE(ok.pop(VHX_DIR_OUT) == 1);
		CHECK(ok.pop(VHX_DIR_OUT) == 0);
		CHECK(ok.r.err == VHX_RERR_NONE);
	}
	SECTION("a re-read after popping checks against last_avail_idx") {
		Guest re(8);
		REQUIRE(re.start() == 0);
		for (unsigned int i = 0; i < 2; i++)
			re.add_chain({ { a, 8 } });
		REQUIRE(re.pop(VHX_DIR_OUT) == 1);
		REQUIRE(re.pop(VHX_DIR_OUT) == 1);
		re.set_avail_idx(2 + 9);	// 9 ahead of last_avail_idx 2
		require_broken(re, VHX_DIR_OUT, VHX_RERR_AVAIL_IDX, -EINVAL);
	}
	SECTION("also via vhx_ring_avail, and backwards") {
		Guest b(8);
		b.r.last_avail_idx = 100;
		b.set_avail_idx(99);	// moved back: (u16)(99 - 100) > num
		REQUIRE(b.start() == 0);
		CHECK(vhx_ring_avail(&b.r) == -EINVAL);
		CHECK(b.r.err == VHX_RERR_AVAIL_IDX);
		CHECK(b.r.last_avail_idx == 100);
	}
}

TEST_CASE("hostile: head >= num", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	g.publish(8);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_HEAD, -EINVAL);
}

TEST_CASE("hostile: next >= num", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.set_desc(0, a, 8, NEXT, 1);
	g.set_desc(1, a, 8, NEXT, 8);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_NEXT, -EINVAL);
}

TEST_CASE("hostile: chain longer than num (loop)", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.set_desc(0, a, 8, NEXT, 1);
	g.set_desc(1, a, 8, NEXT, 0);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_CHAIN_LEN, -EINVAL);

	SECTION("a chain of exactly num descriptors is fine") {
		Guest ok(8);
		REQUIRE(ok.start() == 0);
		for (unsigned int i = 0; i < 8; i++)
			ok.set_desc(i, a, 0, i < 7 ? NEXT : 0, static_cast<std::uint16_t>(i + 1));
		ok.publish(0);
		REQUIRE(ok.pop(VHX_DIR_OUT) == 1);
	}
	SECTION("a self loop") {
		Guest s(8);
		REQUIRE(s.start() == 0);
		s.set_desc(3, a, 0, NEXT, 3);
		s.publish(3);
		require_broken(s, VHX_DIR_OUT, VHX_RERR_CHAIN_LEN, -EINVAL);
	}
}

TEST_CASE("hostile: indirect chain loop, limit is the table's entry count", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(48);
	g.set_table(t, { Guest::make_desc(a, 1, NEXT, 1), Guest::make_desc(a, 1, NEXT, 2),
			 Guest::make_desc(a, 1, NEXT, 1) });
	g.set_desc(0, t, 48, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_CHAIN_LEN, -EINVAL);
}

TEST_CASE("hostile: indirect next >= table entries", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(32);
	// next 2 < num (8) but >= the table's 2 entries
	g.set_table(t, { Guest::make_desc(a, 1, NEXT, 1), Guest::make_desc(a, 1, NEXT, 2) });
	g.set_desc(0, t, 32, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_NEXT, -EINVAL);
}

TEST_CASE("hostile: indirect inside indirect", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(32), t2 = g.alloc(16);
	g.set_table(t2, Guest::chain_table({ { a, 8 } }));
	g.set_table(t, { Guest::make_desc(a, 1, NEXT, 1), Guest::make_desc(t2, 16, INDIRECT, 0) });
	g.set_desc(0, t, 32, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_NESTED, -EINVAL);
}

TEST_CASE("hostile: INDIRECT without the feature is INDIRECT_NESTED", "[hostile]")
{
	Guest g(8, false, false);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(16);
	g.add_indirect({ { a, 8 } }, t);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_NESTED, -EINVAL);
}

TEST_CASE("hostile: INDIRECT together with NEXT", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(16);
	g.set_table(t, Guest::chain_table({ { a, 8 } }));
	g.set_desc(0, t, 16, INDIRECT | NEXT, 1);
	g.set_desc(1, a, 8);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_NEXT, -EINVAL);
}

TEST_CASE("hostile: indirect table length 0", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	g.set_desc(0, g.alloc(16), 0, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_LEN, -EINVAL);
}

TEST_CASE("hostile: indirect table length not a multiple of 16", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8), t = g.alloc(32);
	g.set_table(t, Guest::chain_table({ { a, 8 }, { a, 8 } }));
	g.set_desc(0, t, 24, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_LEN, -EINVAL);
}

TEST_CASE("hostile: indirect table of more than 65536 entries", "[hostile]")
{
	Guest g(8, false, true);
	g.mem.build({ { 0, RAM_SIZE, g.uaddr_of(0) },
		      { RAM_SIZE, 0x2000000, g.uaddr_of(0) } });	// big enough
	REQUIRE(g.start() == 0);
	g.set_desc(0, 0, 65537 * 16, INDIRECT);
	g.publish(0);
	require_broken(g, VHX_DIR_OUT, VHX_RERR_INDIRECT_LEN, -EINVAL);
}

TEST_CASE("hostile: descriptor address outside the memory table", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 }, { RAM_SIZE - 4, 8 } });	// runs off the end
	require_broken(g, VHX_DIR_OUT, VHX_RERR_ADDR, -EFAULT);
}

TEST_CASE("hostile: descriptor addr + len wraps", "[hostile]")
{
	Guest g(8);
	g.mem.build({ { 0, RAM_SIZE, g.uaddr_of(0) },
		      { ~0ull - 0xfff, 0x1000, g.uaddr_of(0) } });	// top page mapped
	REQUIRE(g.mem.err == 0);
	REQUIRE(g.start() == 0);
	g.add_chain({ { ~0ull - 0xf, 0x20 } });
	require_broken(g, VHX_DIR_OUT, VHX_RERR_ADDR, -EFAULT);
}

TEST_CASE("hostile: indirect table outside or partly outside the memory table", "[hostile]")
{
	Guest g(8, false, true);
	g.mem.build({ { 0, 0xa0000, g.uaddr_of(0) }, { 0xa0010, 0x1000, g.uaddr_of(0xa0010) } });
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	SECTION("entirely outside") {
		g.set_desc(0, 0x500000, 16, INDIRECT);
		g.publish(0);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ADDR, -EFAULT);
	}
	SECTION("a hole in the middle, even if the chain would not reach it") {
		// entry 0 at 0x9fff0 is mapped and ends the chain; entry 1 is in the hole
		g.set_table(0x9fff0, Guest::chain_table({ { a, 8 } }));
		g.set_desc(0, 0x9fff0, 32, INDIRECT);
		g.publish(0);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ADDR, -EFAULT);
	}
	SECTION("table address wraps") {
		g.set_desc(0, ~0ull - 7, 16, INDIRECT);
		g.publish(0);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ADDR, -EFAULT);
	}
}

TEST_CASE("hostile: WRITE descriptor on a TX (out) queue", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 }, { a, 8, true } });	// a mixed out+in chain
	require_broken(g, VHX_DIR_OUT, VHX_RERR_DIR, -EINVAL);

	SECTION("even a zero-length one (vhost would let it through)") {
		Guest z(8);
		REQUIRE(z.start() == 0);
		z.add_chain({ { a, 8 }, { a, 0, true } });
		require_broken(z, VHX_DIR_OUT, VHX_RERR_DIR, -EINVAL);
	}
	SECTION("inside an indirect table") {
		Guest i(8, false, true);
		REQUIRE(i.start() == 0);
		i.add_indirect({ { a, 8, true } }, i.alloc(16));
		require_broken(i, VHX_DIR_OUT, VHX_RERR_DIR, -EINVAL);
	}
}

TEST_CASE("hostile: readable descriptor on an RX (in) queue", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 }, { a, 8, true } });	// a mixed out+in chain
	require_broken(g, VHX_DIR_IN, VHX_RERR_DIR, -EINVAL);
}

TEST_CASE("hostile: readable after writable", "[hostile]")
{
	std::uint64_t a = DATA_GPA;
	for (vhx_dir dir : { VHX_DIR_IN, VHX_DIR_OUT }) {
		Guest g(8, false, true);
		REQUIRE(g.start() == 0);
		g.add_chain({ { a, 8, true }, { a, 8 } });
		require_broken(g, dir, VHX_RERR_DIR, -EINVAL);

		Guest i(8, false, true);
		REQUIRE(i.start() == 0);
		i.add_indirect({ { a, 8, true }, { a, 8 } }, i.alloc(32));
		require_broken(i, dir, VHX_RERR_DIR, -EINVAL);
	}
}

TEST_CASE("hostile: more segments than the iov holds", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 }, { a, 8 }, { a, 8 } });
	require_broken(g, VHX_DIR_OUT, VHX_RERR_IOV_FULL, -ENOBUFS, 2);

	SECTION("one descriptor that spans two regions, room for one") {
		Guest s(8);
		s.mem.build({ { 0, 0x80000, s.uaddr_of(0) },
			      { 0x80000, RAM_SIZE - 0x80000, s.uaddr_of(0x80000) } });
		REQUIRE(s.start() == 0);
		s.add_chain({ { 0x7fff8, 16 } });
		require_broken(s, VHX_DIR_OUT, VHX_RERR_IOV_FULL, -ENOBUFS, 1);
	}
	SECTION("exactly full is fine") {
		Guest f(8);
		REQUIRE(f.start() == 0);
		f.add_chain({ { a, 8 }, { a, 8 } });
		REQUIRE(f.pop(VHX_DIR_OUT, 2) == 1);
		CHECK(f.c.out == 2);
	}
}

TEST_CASE("hostile: ring memory not accessible", "[hostile]")
{
	Guest g(8, false, true);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);

	SECTION("avail idx unreadable") {
		g.publish(0);
		vhx_user_reset();
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ACCESS, -EFAULT);
	}
	SECTION("avail ring entry unreadable") {
		g.add_chain({ { a, 8 } });
		vhx_user_reset();
		// only avail->flags and avail->idx stay readable
		vhx_user_map(g.ptr(g.avail_gpa), 4, VHX_USER_R);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ACCESS, -EFAULT);
	}
	SECTION("descriptor table unreadable") {
		g.add_chain({ { a, 8 } });
		vhx_user_reset();
		vhx_user_map(g.ptr(g.avail_gpa), RAM_SIZE - g.avail_gpa, VHX_USER_RW);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ACCESS, -EFAULT);
	}
	SECTION("indirect table translates but its user memory is not there") {
		// gpa 0x200000 maps to user memory right after the RAM buffer,
		// which is not registered: translation works, the copy fails.
		g.mem.build({ { 0, RAM_SIZE, g.uaddr_of(0) },
			      { 0x200000, 0x1000, g.uaddr_of(RAM_SIZE) } });
		g.set_desc(0, 0x200000, 16, INDIRECT);
		g.publish(0);
		require_broken(g, VHX_DIR_OUT, VHX_RERR_ACCESS, -EFAULT);
	}
}

TEST_CASE("hostile: used ring write fails", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 } });
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	vhx_user_reset();
	vhx_user_map(g.ram, g.used_gpa, VHX_USER_RW);
	vhx_user_map(g.ram + g.used_gpa, RAM_SIZE - g.used_gpa, VHX_USER_R);
	CHECK(g.push(g.c.head, 0) == -EFAULT);
	CHECK(g.r.err == VHX_RERR_USED);
	CHECK(g.r.last_used_idx == 0);
	CHECK(g.used_idx() == 0);
	CHECK(vhx_user_stats.writes == 0);
	CHECK(g.pop(VHX_DIR_OUT) == -EIO);

	SECTION("only the index write fails") {
		Guest h(8);
		REQUIRE(h.start() == 0);
		vhx_user_reset();
		vhx_user_map(h.ram, h.used_gpa, VHX_USER_RW);
		vhx_user_map(h.ram + h.used_gpa, 4, VHX_USER_R);	// flags, idx
		vhx_user_map(h.ram + h.used_gpa + 4, RAM_SIZE - h.used_gpa - 4, VHX_USER_RW);
		CHECK(h.push(0, 0) == -EFAULT);
		CHECK(h.r.err == VHX_RERR_USED);
		CHECK(h.r.last_used_idx == 0);
	}
}

TEST_CASE("hostile: the first error wins", "[hostile]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	g.publish(9);
	REQUIRE(g.pop(VHX_DIR_OUT) == -EINVAL);
	REQUIRE(g.r.err == VHX_RERR_HEAD);
	// a later, different failure does not replace it
	vhx_user_reset();
	CHECK(g.push(0, 0) == -EFAULT);
	CHECK(g.r.err == VHX_RERR_HEAD);
	vhx_ring_kick_disable(&g.r);
	CHECK(g.r.err == VHX_RERR_HEAD);
}

TEST_CASE("hostile: a descriptor is read once", "[hostile]")
{
	// Every descriptor of a chain costs exactly one guest read.
	Guest g(8);
	REQUIRE(g.start() == 0);
	std::uint64_t a = g.alloc(8);
	g.add_chain({ { a, 8 }, { a, 8 }, { a, 8 } });
	REQUIRE(vhx_ring_avail(&g.r) == 1);
	unsigned long reads = vhx_user_stats.reads;
	REQUIRE(g.pop(VHX_DIR_OUT) == 1);
	CHECK(vhx_user_stats.reads - reads == 1 + 3);	// head + 3 descriptors
}

TEST_CASE("ring: error strings", "[ring]")
{
	for (int e = VHX_RERR_NONE; e < VHX_RERR_MAX; e++)
		CHECK(std::strlen(vhx_ring_err_str(static_cast<vhx_ring_err>(e))) > 0);
	CHECK(std::string(vhx_ring_err_str(VHX_RERR_MAX)) == "unknown");
	CHECK(std::string(vhx_ring_err_str(static_cast<vhx_ring_err>(-1))) == "unknown");
}
