// SPDX-License-Identifier: GPL-2.0
// Host unit tests for kmod/mem.c: table validation, ordering, translation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "guest.hpp"

using namespace vhx_test;

namespace {

constexpr std::uint64_t U = 0x100000000000ull;	// a fake user address base (< 1 << 47)
constexpr std::uint64_t U64MAX = ~0ull;

std::vector<iovec> translate(const Mem &m, std::uint64_t gpa, std::uint64_t len,
			     int &ret, unsigned int iov_max = 16)
{
	std::vector<iovec> iov(iov_max ? iov_max : 1);
	ret = vhx_mem_translate(m.mem, gpa, len, iov.data(), iov_max);
	iov.resize(ret > 0 ? ret : 0);
	return iov;
}

std::uint64_t base(const iovec &v)
{
	return reinterpret_cast<std::uintptr_t>(v.iov_base);
}

} // namespace

TEST_CASE("mem: empty table translates nothing but len 0", "[mem]")
{
	Mem m(std::vector<MemRegion>{});
	REQUIRE(m.err == 0);
	REQUIRE(m.mem->nregions == 0);
	int ret;
	translate(m, 0, 1, ret);
	CHECK(ret == -EFAULT);
	translate(m, 0x1234, 0, ret);
	CHECK(ret == 0);
}

TEST_CASE("mem: regions are sorted by gpa", "[mem]")
{
	Mem m({ { 0x30000, 0x1000, U + 0x3000 },
		{ 0x10000, 0x1000, U + 0x1000 },
		{ 0x20000, 0x1000, U + 0x2000 } });
	REQUIRE(m.err == 0);
	REQUIRE(m.mem->nregions == 3);
	CHECK(m.mem->regions[0].gpa == 0x10000);
	CHECK(m.mem->regions[0].last == 0x10fff);
	CHECK(m.mem->regions[0].uaddr == U + 0x1000);
	CHECK(m.mem->regions[1].gpa == 0x20000);
	CHECK(m.mem->regions[2].gpa == 0x30000);
	CHECK(m.mem->regions[2].uaddr == U + 0x3000);
	int ret;
	auto v = translate(m, 0x20010, 0x20, ret);
	REQUIRE(ret == 1);
	CHECK(base(v[0]) == U + 0x2010);
	CHECK(v[0].iov_len == 0x20);
}

TEST_CASE("mem: size 0 is -EFAULT, also at gpa 0 (vhost would map everything)", "[mem]")
{
	Mem a({ { 0x1000, 0, U } });
	CHECK(a.err == -EFAULT);
	CHECK(a.mem == nullptr);
	Mem b({ { 0, 0, U } });
	CHECK(b.err == -EFAULT);
	CHECK(b.mem == nullptr);
	// the one case where no overflow check would catch it: last = 2^64 - 1
	// and the user range [0, 2^64) at uaddr 0
	Mem z({ { 0, 0, 0 } });
	CHECK(z.err == -EFAULT);
	CHECK(z.mem == nullptr);
	// one bad region fails the whole table
	Mem c({ { 0, 0x1000, U }, { 0x2000, 0, U } });
	CHECK(c.err == -EFAULT);
}

TEST_CASE("mem: gpa + size wrapping is -EFAULT, ending exactly at 2^64 is fine", "[mem]")
{
	Mem a({ { U64MAX - 0xfff, 0x1001, U } });
	CHECK(a.err == -EFAULT);
	Mem b({ { U64MAX - 0xfff, 0x1000, U } });
	REQUIRE(b.err == 0);
	CHECK(b.mem->regions[0].last == U64MAX);
	int ret;
	auto v = translate(b, U64MAX, 1, ret);
	REQUIRE(ret == 1);
	CHECK(base(v[0]) == U + 0xfff);
	translate(b, U64MAX, 2, ret);	// gpa + len wraps
	CHECK(ret == -EFAULT);
}

TEST_CASE("mem: userspace range wrapping or above the user space is -EFAULT", "[mem]")
{
	Mem a({ { 0, 0x2000, U64MAX - 0xfff } });	// uaddr + size wraps
	CHECK(a.err == -EFAULT);
	Mem b({ { 0, 0x1000, 1ull << 47 } });	// starts at the top
	CHECK(b.err == -EFAULT);
	Mem c({ { 0, 0x2000, (1ull << 47) - 0x1000 } });	// crosses the top
	CHECK(c.err == -EFAULT);
	Mem d({ { 0, 0x1000, (1ull << 47) - 0x1000 } });	// ends exactly at the top
	CHECK(d.err == 0);
	Mem e({ { 0, 1ull << 47, 0 } });	// all of user space
	CHECK(e.err == 0);
}

TEST_CASE("mem: overlapping regions, the lowest gpa wins", "[mem]")
{
	// A [0x1000, 0x4fff] -> U+0xa000; B [0x2000, 0x2fff] inside A (dropped);
	// C [0x4000, 0x6fff] overlaps A's tail (clipped to start at 0x5000).
	Mem m({ { 0x4000, 0x3000, U + 0x40000 },
		{ 0x2000, 0x1000, U + 0x20000 },
		{ 0x1000, 0x4000, U + 0xa000 } });
	REQUIRE(m.err == 0);
	REQUIRE(m.mem->nregions == 2);
	CHECK(m.mem->regions[0].gpa == 0x1000);
	CHECK(m.mem->regions[0].last == 0x4fff);
	CHECK(m.mem->regions[1].gpa == 0x5000);
	CHECK(m.mem->regions[1].last == 0x6fff);
	CHECK(m.mem->regions[1].uaddr == U + 0x41000);

	int ret;
	auto v = translate(m, 0x2800, 0x10, ret);	// inside B: A wins
	REQUIRE(ret == 1);
	CHECK(base(v[0]) == U + 0xa000 + 0x1800);
	v = translate(m, 0x4800, 0x10, ret);	// A and C overlap: A wins
	REQUIRE(ret == 1);
	CHECK(base(v[0]) == U + 0xa000 + 0x3800);
	v = translate(m, 0x4ff0, 0x20, ret);	// crosses from A into C's own part
	REQUIRE(ret == 2);
	CHECK(base(v[0]) == U + 0xa000 + 0x3ff0);
	CHECK(v[0].iov_len == 0x10);
	CHECK(base(v[1]) == U + 0x41000);
	CHECK(v[1].iov_len == 0x10);
}

TEST_CASE("mem: equal gpa, the longer region wins", "[mem]")
{
	Mem m({ { 0x1000, 0x1000, U + 0x10000 }, { 0x1000, 0x3000, U + 0x20000 } });
	REQUIRE(m.err == 0);
	REQUIRE(m.mem->nregions == 1);
	int ret;
	auto v = translate(m, 0x1000, 0x2000, ret);
	REQUIRE(ret == 1);
	CHECK(base(v[0]) == U + 0x20000);
}

TEST_CASE("mem: a range spanning adjacent regions gives one iov entry per region", "[mem]")
{
	Mem m({ { 0x0, 0x1000, U + 0x50000 },
		{ 0x1000, 0x10, U + 0x10000 },
		{ 0x1010, 0x1000, U + 0x30000 } });
	REQUIRE(m.err == 0);
	int ret;
	auto v = translate(m, 0xff8, 0x20, ret);
	REQUIRE(ret == 3);
	CHECK(base(v[0]) == U + 0x50ff8);
	CHECK(v[0].iov_len == 8);
	CHECK(base(v[1]) == U + 0x10000);
	CHECK(v[1].iov_len == 0x10);
	CHECK(base(v[2]) == U + 0x30000);
	CHECK(v[2].iov_len == 8);

	SECTION("too few iov entries is -ENOBUFS") {
		translate(m, 0xff8, 0x20, ret, 2);
		CHECK(ret == -ENOBUFS);
		translate(m, 0xff8, 0x20, ret, 0);
		CHECK(ret == -ENOBUFS);
		translate(m, 0xff8, 0x8, ret, 1);	// fits in one
		CHECK(ret == 1);
	}
}

TEST_CASE("mem: a hole or the end of the table is -EFAULT", "[mem]")
{
	Mem m({ { 0x0, 0x1000, U }, { 0x2000, 0x1000, U + 0x2000 } });
	REQUIRE(m.err == 0);
	int ret;
	translate(m, 0xff0, 0x20, ret);	// runs into the hole
	CHECK(ret == -EFAULT);
	translate(m, 0x1800, 0x1, ret);	// inside the hole
	CHECK(ret == -EFAULT);
	translate(m, 0x2ff0, 0x11, ret);	// one byte past the end
	CHECK(ret == -EFAULT);
	translate(m, 0x2ff0, 0x10, ret);	// exactly to the end
	CHECK(ret == 1);
	translate(m, U64MAX - 4, 0x10, ret);	// wraps
	CHECK(ret == -EFAULT);
	translate(m, 0xffff, U64MAX, ret);	// huge len wraps
	CHECK(ret == -EFAULT);
}

TEST_CASE("mem: 64 random regions agree with a linear reference", "[mem]")
{
	std::mt19937_64 rng(42);
	for (int round = 0; round < 50; round++) {
		std::vector<MemRegion> regs;
		for (int i = 0; i < VHX_MEM_MAX_REGIONS; i++) {
			std::uint64_t gpa = (rng() % 0x100) * 0x100;
			std::uint64_t size = 1 + rng() % 0x400;
			regs.push_back({ gpa, size, U + (rng() % 0x1000) * 0x1000 });
		}
		Mem m(regs);
		REQUIRE(m.err == 0);
		for (int q = 0; q < 200; q++) {
			std::uint64_t gpa = rng() % 0x10400, len = 1 + rng() % 0x300;
			std::vector<iovec> want;
			bool fault = false;
			for (std::uint64_t p = gpa, end = gpa + len; p < end;) {
				const MemRegion *best = nullptr;
				for (const auto &r : regs) {
					if (p < r.gpa || p > r.gpa + r.size - 1)
						continue;
					if (!best || r.gpa < best->gpa ||
					    (r.gpa == best->gpa && (r.size > best->size ||
								    (r.size == best->size && r.uaddr < best->uaddr))))
						best = &r;
				}
				if (!best) {
					fault = true;
					break;
				}
				std::uint64_t seg_end = std::min(end, best->gpa + best->size);
				want.push_back({ reinterpret_cast<void *>(best->uaddr + p - best->gpa),
						 seg_end - p });
				p = seg_end;
			}
			int ret;
			auto got = translate(m, gpa, len, ret, 80);
			if (fault) {
				REQUIRE(ret == -EFAULT);
				continue;
			}
			REQUIRE(ret == static_cast<int>(want.size()));
			for (std::size_t i = 0; i < want.size(); i++) {
				REQUIRE(got[i].iov_base == want[i].iov_base);
				REQUIRE(got[i].iov_len == want[i].iov_len);
			}
		}
	}
}
