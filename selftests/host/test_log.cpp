// SPDX-License-Identifier: GPL-2.0
// Host unit tests for the dirty log as the ring code uses it: which used-ring
// writes are marked where, the guest addresses a pop records for RX logging,
// the shared bitmap arithmetic, and a log that fails.
#include <catch2/catch.hpp>

#include "guest.hpp"

extern "C" {
#include "log.h"
}

using namespace vhx_test;

namespace {

// A bitmap for 1 GiB of guest memory, attached to a ring's used-ring log.
struct Log {
	std::vector<std::uint8_t> bits = std::vector<std::uint8_t>(32768);
	vhx_log log{};

	Log() { log = { bits.data(), bits.size(), 0, 0 }; }
	void attach(Guest &g, std::uint64_t log_addr)
	{
		g.r.log = &log;
		g.r.log_addr = log_addr;
	}
	bool marked(std::uint64_t pfn) const { return bits[pfn / 8] & (1u << (pfn % 8)); }
	unsigned int count() const
	{
		unsigned int n = 0;
		for (auto b : bits)
			n += __builtin_popcount(b);
		return n;
	}
	void clear()
	{
		std::fill(bits.begin(), bits.end(), 0);
		log.marks = 0;
	}
};

} // namespace

TEST_CASE("log: bitmap bytes for a range, overflow-checked", "[log]")
{
	u64 first, n;

	REQUIRE(vhx_log_bytes(0x1000, 0, 1, &first, &n));
	CHECK(first == 0x1000);
	CHECK(n == 1);
	// 8 pages per byte: pages 7 and 8 are in bytes 0 and 1.
	REQUIRE(vhx_log_bytes(0x1000, 7 * 4096, 4097, &first, &n));
	CHECK(first == 0x1000);
	CHECK(n == 2);
	// The last page of the 64-bit space.
	REQUIRE(vhx_log_bytes(0, ~0ull - 4095, 4096, &first, &n));
	CHECK(first == (~0ull >> 12) / 8);
	CHECK(n == 1);
	CHECK_FALSE(vhx_log_bytes(0, 1, 0, &first, &n));		// empty
	CHECK_FALSE(vhx_log_bytes(0, ~0ull, 2, &first, &n));		// gpa + len wraps
	// The bitmap byte's address wraps (the CVE-2019-14835 class).
	CHECK_FALSE(vhx_log_bytes(~0ull - 10, 1ull << 40, 1, &first, &n));
	CHECK_FALSE(vhx_log_bytes(~0ull, 8 * 4096, 1, &first, &n));
}

TEST_CASE("log: used ring writes are marked at log_addr", "[log]")
{
	Guest g(8);
	Log l;
	// The VMM's log address, not where the ring is: a used ring whose
	// flags and idx end one page and whose elements start the next.
	const std::uint64_t la = 0x40000 - 4;
	l.attach(g, la);
	REQUIRE(g.start() == 0);	// writes used->flags
	CHECK(l.marked(0x3f));
	CHECK(l.count() == 1);
	l.clear();

	REQUIRE(g.push(1, 10) == 0);	// ring[0] at la + 4, then idx at la + 2
	CHECK(l.marked(0x3f));
	CHECK(l.marked(0x40));
	CHECK(l.count() == 2);
	CHECK(l.log.marks == 2);	// element page, index page

	SECTION("a ring not logged marks nothing") {
		l.clear();
		g.r.log = nullptr;
		REQUIRE(g.push(2, 10) == 0);
		CHECK(l.count() == 0);
		CHECK(l.log.marks == 0);
	}
}

TEST_CASE("log: a batch that wraps the used ring marks both pieces", "[log]")
{
	Guest g(8);
	Log l;
	const std::uint64_t la = 0x10000;
	l.attach(g, la);
	g.set_used_idx(6);
	REQUIRE(g.start() == 0);
	l.clear();
	vring_used_elem e[4] = {};
	REQUIRE(vhx_ring_push_used(&g.r, e, 4) == 0);	// slots 6, 7, then 0, 1
	CHECK(l.marked(0x10));
	CHECK(l.count() == 1);
	CHECK(l.log.marks == 3);	// two pieces and the index
}

TEST_CASE("log: avail_event is marked with EVENT_IDX", "[log]")
{
	Guest g(256, true);
	Log l;
	// avail_event sits 4 + 8 * 256 = 0x804 bytes in: on the next page.
	const std::uint64_t la = 0x3fffe800ull;
	l.attach(g, la);
	REQUIRE(g.start() == 0);
	l.clear();
	REQUIRE(vhx_ring_kick_enable(&g.r) == 0);
	CHECK(g.avail_event() == 0);
	CHECK(l.marked(0x3ffff));
	CHECK(l.count() == 1);

	SECTION("without EVENT_IDX, used->flags is marked") {
		Guest h(256);
		Log m;
		m.attach(h, 0x5000);
		REQUIRE(h.start() == 0);
		m.clear();
		vhx_ring_kick_disable(&h.r);
		CHECK(h.used_flags() == VRING_USED_F_NO_NOTIFY);
		CHECK(m.marked(5));
		CHECK(m.count() == 1);
	}
}

TEST_CASE("log: a log that cannot be written breaks the ring", "[log][hostile]")
{
	Guest g(8);
	Log l;
	l.attach(g, 0x3000);
	REQUIRE(g.start() == 0);

	SECTION("the element write's mark fails: index not published") {
		l.log.fail_at = l.log.marks;
		CHECK(g.push(3, 1) == -EFAULT);
		CHECK(g.r.err == VHX_RERR_LOG);
		CHECK(g.used_idx() == 0);
		CHECK(g.r.last_used_idx == 0);
		CHECK(g.pop(VHX_DIR_OUT) == -EIO);
	}
	SECTION("the index's mark fails") {
		l.log.fail_at = l.log.marks + 1;
		CHECK(g.push(3, 1) == -EFAULT);
		CHECK(g.r.err == VHX_RERR_LOG);
		CHECK(g.used_idx() == 1);	// written before it was logged
	}
	SECTION("a log address past the bitmap's end") {
		Guest h(8);
		Log m;
		m.attach(h, 1ull << 40);	// bit far beyond 32 KiB of bitmap
		CHECK(h.start() == -EFAULT);
		CHECK(h.r.err == VHX_RERR_LOG);
	}
}

TEST_CASE("log: pop records each segment's guest address", "[log]")
{
	Guest g(8);
	REQUIRE(g.start() == 0);
	// Two regions adjacent in the guest, apart in the host: a buffer that
	// crosses them is two iov entries, and gpa[] says where each starts.
	g.mem.build({ { 0, 0x80000, g.uaddr_of(0) },
		      { 0x80000, 0x80000, g.uaddr_of(0x80000 + 0x1000) } });
	REQUIRE(g.mem.err == 0);
	g.add_chain({ { 0x7fff0, 0x20, true }, { 0x90000, 0x10, true } });
	REQUIRE(g.pop(VHX_DIR_IN) == 1);
	REQUIRE(g.c.in == 3);
	CHECK(g.gpa[0] == 0x7fff0);
	CHECK(g.iov[0].iov_len == 0x10);
	CHECK(g.gpa[1] == 0x80000);
	CHECK(g.iov[1].iov_base == g.ptr(0x81000));
	CHECK(g.gpa[2] == 0x90000);
	CHECK(g.iov[2].iov_base == g.ptr(0x91000));
}
