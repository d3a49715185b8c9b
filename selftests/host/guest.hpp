// SPDX-License-Identifier: GPL-2.0
//
// A test "guest": one buffer of guest RAM registered as user memory, a split
// ring laid out inside it, a memory table that maps it, and the driver-side
// operations (write descriptors, publish heads, read the used ring).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <vector>

extern "C" {
#include "ring.h"
}

namespace vhx_test {

constexpr std::uint64_t RAM_SIZE = 1u << 20;
constexpr std::uint64_t DESC_GPA = 0x10000;	// room for 32768 * 16 bytes after it
constexpr std::uint64_t DATA_GPA = 0x90000;	// buffers are bump-allocated from here

struct Seg {
	std::uint64_t addr;
	std::uint32_t len;
	bool write = false;
};

struct MemRegion {
	std::uint64_t gpa, size, uaddr;
};

// The memory table, owned; built from vhost regions.
struct Mem {
	vhx_mem *mem = nullptr;
	int err = 0;

	Mem() = default;
	explicit Mem(const std::vector<MemRegion> &regs) { build(regs); }
	Mem(const Mem &) = delete;
	Mem &operator=(const Mem &) = delete;
	~Mem() { vhx_mem_free(mem); }

	int build(const std::vector<MemRegion> &regs)
	{
		std::vector<vhost_memory_region> v;
		for (const auto &r : regs)
			v.push_back({ r.gpa, r.size, r.uaddr, 0 });
		vhx_mem_free(mem);
		mem = vhx_mem_new(v.data(), static_cast<std::uint32_t>(v.size()), &err);
		return err;
	}
};

struct Guest {
	std::uint8_t *ram;
	unsigned int num;
	std::uint64_t avail_gpa, used_gpa;
	std::uint16_t next_desc = 0;	// next free descriptor slot (bump, wraps)
	std::uint16_t guest_avail = 0;	// the driver's avail idx
	std::uint64_t next_buf = DATA_GPA;
	vhx_ring r{};
	Mem mem;
	std::vector<iovec> iov;
	std::vector<u64> gpa;	// pop(): where each iov entry is in the guest
	vhx_chain c{};

	explicit Guest(unsigned int n = 8, bool event_idx = false, bool indirect = false)
		: num(n), iov(256), gpa(256)
	{
		ram = static_cast<std::uint8_t *>(std::aligned_alloc(4096, RAM_SIZE));
		if (!ram)
			throw std::bad_alloc();
		std::memset(ram, 0, RAM_SIZE);
		vhx_user_reset();
		vhx_user_map(ram, RAM_SIZE, VHX_USER_RW);
		// desc: 16 * num; avail: 4 + 2 * num + 2; used: 4 + 8 * num + 2
		avail_gpa = DESC_GPA + 16ull * num;
		used_gpa = (avail_gpa + 6 + 2ull * num + 3) & ~3ull;
		if (used_gpa + 6 + 8ull * num > DATA_GPA)
			throw std::runtime_error("ring too large for the test layout");
		r.num = num;
		r.desc = reinterpret_cast<vring_desc_t *>(ram + DESC_GPA);
		r.avail = reinterpret_cast<vring_avail_t *>(ram + avail_gpa);
		r.used = reinterpret_cast<vring_used_t *>(ram + used_gpa);
		r.event_idx = event_idx;
		r.indirect = indirect;
		mem.build({ { 0, RAM_SIZE, uaddr_of(0) } });
	}
	Guest(const Guest &) = delete;
	Guest &operator=(const Guest &) = delete;
	~Guest()
	{
		vhx_user_reset();
		std::free(ram);
	}

	std::uint64_t uaddr_of(std::uint64_t gpa) const
	{
		return reinterpret_cast<std::uintptr_t>(ram) + gpa;
	}
	void *ptr(std::uint64_t gpa) const { return ram + gpa; }

	int start() { return vhx_ring_start(&r); }

	// --- driver side ---------------------------------------------------
	std::uint64_t alloc(std::uint64_t len)
	{
		std::uint64_t a = next_buf;
		next_buf += (len + 15) & ~15ull;
		if (next_buf > RAM_SIZE)
			throw std::runtime_error("test guest out of RAM");
		return a;
	}

	static vring_desc make_desc(std::uint64_t addr, std::uint32_t len,
				    std::uint16_t flags, std::uint16_t next)
	{
		vring_desc d;
		d.addr = htole64(addr);
		d.len = htole32(len);
		d.flags = htole16(flags);
		d.next = htole16(next);
		return d;
	}
	void set_desc(unsigned int i, std::uint64_t addr, std::uint32_t len,
		      std::uint16_t flags = 0, std::uint16_t next = 0)
	{
		vring_desc d = make_desc(addr, len, flags, next);
		std::memcpy(ram + DESC_GPA + 16ull * i, &d, sizeof(d));
	}
	// Write an indirect table at gpa; entries chain in order.
	void set_table(std::uint64_t gpa, const std::vector<vring_desc> &t)
	{
		std::memcpy(ram + gpa, t.data(), t.size() * sizeof(vring_desc));
	}
	static std::vector<vring_desc> chain_table(std::initializer_list<Seg> segs)
	{
		std::vector<vring_desc> t;
		std::uint16_t i = 0;
		for (const auto &s : segs) {
			std::uint16_t f = s.write ? VRING_DESC_F_WRITE : 0;
			if (i + 1u < segs.size())
				f |= VRING_DESC_F_NEXT;
			t.push_back(make_desc(s.addr, s.len, f, static_cast<std::uint16_t>(i + 1)));
			i++;
		}
		return t;
	}

	void set_avail_idx(std::uint16_t idx)
	{
		guest_avail = idx;
		std::uint16_t v = htole16(idx);
		std::memcpy(ram + avail_gpa + 2, &v, 2);
	}
	void set_avail_flags(std::uint16_t f)
	{
		std::uint16_t v = htole16(f);
		std::memcpy(ram + avail_gpa, &v, 2);
	}
	void set_used_event(std::uint16_t e)
	{
		std::uint16_t v = htole16(e);
		std::memcpy(ram + avail_gpa + 4 + 2ull * num, &v, 2);
	}
	void set_avail_slot(std::uint16_t idx, std::uint16_t head)
	{
		std::uint16_t v = htole16(head);
		std::memcpy(ram + avail_gpa + 4 + 2ull * (idx & (num - 1)), &v, 2);
	}
	void publish(std::uint16_t head)
	{
		set_avail_slot(guest_avail, head);
		set_avail_idx(static_cast<std::uint16_t>(guest_avail + 1));
	}

	// Write the segments as a chain of direct descriptors and publish it.
	std::uint16_t add_chain(std::initializer_list<Seg> segs, bool pub = true)
	{
		std::uint16_t head = next_desc;
		std::size_t k = 0;
		for (const auto &s : segs) {
			std::uint16_t i = next_desc;
			next_desc = static_cast<std::uint16_t>((next_desc + 1) & (num - 1));
			std::uint16_t f = s.write ? VRING_DESC_F_WRITE : 0;
			if (++k < segs.size())
				f |= VRING_DESC_F_NEXT;
			set_desc(i, s.addr, s.len, f, next_desc);
		}
		if (pub)
			publish(head);
		return head;
	}
	// One indirect descriptor pointing at a table of the segments.
	std::uint16_t add_indirect(std::initializer_list<Seg> segs, std::uint64_t table_gpa,
				   bool pub = true)
	{
		auto t = chain_table(segs);
		set_table(table_gpa, t);
		std::uint16_t head = next_desc;
		next_desc = static_cast<std::uint16_t>((next_desc + 1) & (num - 1));
		set_desc(head, table_gpa, static_cast<std::uint32_t>(t.size() * 16),
			 VRING_DESC_F_INDIRECT);
		if (pub)
			publish(head);
		return head;
	}

	std::uint16_t used_idx() const
	{
		std::uint16_t v;
		std::memcpy(&v, ram + used_gpa + 2, 2);
		return le16toh(v);
	}
	std::uint16_t used_flags() const
	{
		std::uint16_t v;
		std::memcpy(&v, ram + used_gpa, 2);
		return le16toh(v);
	}
	void set_used_idx(std::uint16_t idx)
	{
		std::uint16_t v = htole16(idx);
		std::memcpy(ram + used_gpa + 2, &v, 2);
	}
	vring_used_elem used_elem(unsigned int slot) const
	{
		vring_used_elem e;
		std::memcpy(&e, ram + used_gpa + 4 + 8ull * slot, 8);
		e.id = le32toh(e.id);
		e.len = le32toh(e.len);
		return e;
	}
	std::uint16_t avail_event() const
	{
		std::uint16_t v;
		std::memcpy(&v, ram + used_gpa + 4 + 8ull * num, 2);
		return le16toh(v);
	}

	// --- device side ---------------------------------------------------
	int pop(vhx_dir dir, unsigned int iov_max = 256)
	{
		return vhx_ring_pop(&r, mem.mem, dir, iov.data(), gpa.data(), iov_max, &c);
	}
	int push(std::uint32_t id, std::uint32_t len)
	{
		vring_used_elem e{ htole32(id), htole32(len) };
		return vhx_ring_push_used(&r, &e, 1);
	}
};

} // namespace vhx_test
