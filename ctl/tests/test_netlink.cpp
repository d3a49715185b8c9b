// SPDX-License-Identifier: GPL-2.0
// The pure netlink parsers, fed with replies recorded from the module and
// with messages built by libnl; the Client where no module is loaded.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>

#include <netlink/errno.h>

#include "nl_build.hpp"
#include "recorded.hpp"
#include "vhostx/error.hpp"
#include "vhostx/netlink.hpp"

using namespace vhostx;
using namespace vhostx::netlink;
using testing::from_hex;

namespace {

template <typename F> SysError error_of(F f)
{
	try {
		f();
	} catch (const SysError &e) {
		return e;
	}
	FAIL("no SysError thrown");
	return SysError(0, "");
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts)
{
	std::vector<uint8_t> out;
	for (const auto &p : parts)
		out.insert(out.end(), p.begin(), p.end());
	return out;
}

} // namespace

TEST_CASE("parse_dev reads a recorded DEV_GET reply")
{
	DevInfo d = parse_dev(from_hex(recorded::kGetDev2));
	CHECK(d.id == 2);
	CHECK(d.owner_pid == 0);
	CHECK(d.features == 0);
	CHECK(d.backend_ifindex == 0);
	CHECK(d.backend_ifname.empty());
	CHECK(d.busypoll_us == 0);
	CHECK(d.weight_packets == 256);
	CHECK(d.weight_bytes == 524288);
	CHECK_FALSE(d.logging); // recorded before dirty logging: absent, off
	REQUIRE(d.queues.size() == 2);
	for (uint32_t i = 0; i < 2; i++) {
		const QueueInfo &q = d.queues[i];
		CHECK(q.index == i);
		CHECK(q.num == 0);
		CHECK_FALSE(q.enabled);
		CHECK_FALSE(q.broken);
		CHECK(q.broken_reason == VHOSTX_BROKEN_NONE);
		CHECK_FALSE(q.log_used);
		CHECK(q.counters == Counters{});
	}
}

TEST_CASE("parse_dev reads the settings of a recorded dump message")
{
	DevInfo d = parse_dev(from_hex(recorded::kDumpDev1));
	CHECK(d.id == 1);
	CHECK(d.busypoll_us == 50);
	CHECK(d.weight_packets == 64);
	CHECK(d.weight_bytes == 65536);
	REQUIRE(d.queues.size() == 2);
	CHECK(d.queues[0].busypoll_us == 50);
	CHECK(d.queues[1].busypoll_us == 50);
}

TEST_CASE("parse_dump walks a recorded dump up to NLMSG_DONE")
{
	auto buf = concat({from_hex(recorded::kGetDev2), from_hex(recorded::kDumpDev1),
			   from_hex(recorded::kDumpDone), from_hex(recorded::kGetDev2)});
	auto devs = parse_dump(buf);
	REQUIRE(devs.size() == 2);
	CHECK(devs[0].id == 2);
	CHECK(devs[1].id == 1);
}

TEST_CASE("parse_dump turns a recorded error into SysError with the extack message")
{
	auto buf = concat({from_hex(recorded::kGetDev2), from_hex(recorded::kErrNoDev99)});
	SysError e = error_of([&] { parse_dump(buf, "get device 99"); });
	CHECK(e.err() == ENODEV);
	CHECK(e.op() == "get device 99");
	CHECK(e.detail() == "no vhostx device with this id");
}

TEST_CASE("parse_dev round-trips every field of a libnl-built reply")
{
	for (const DevInfo &d : testing::sample_devices())
		CHECK(parse_dev(testing::encode_dev(d)) == d);
}

TEST_CASE("parse_dev reads dirty logging: the device's and each used ring's")
{
	DevInfo d = testing::sample_devices()[0];
	REQUIRE(d.logging);
	d.queues[0].log_used = false; // the VMM logs only the TX used ring
	d.queues[1].counters[VHOSTX_CNT_LOG_PAGES] = 12345;
	DevInfo got = parse_dev(testing::encode_dev(d));
	CHECK(got.logging);
	REQUIRE(got.queues.size() == 2);
	CHECK_FALSE(got.queues[0].log_used);
	CHECK(got.queues[1].log_used);
	CHECK(got.queues[0].counters[VHOSTX_CNT_LOG_PAGES] == 100u + VHOSTX_CNT_LOG_PAGES);
	CHECK(got.queues[1].counters[VHOSTX_CNT_LOG_PAGES] == 12345);
	CHECK(got == d);

	d.logging = false;
	CHECK_FALSE(parse_dev(testing::encode_dev(d)).logging);
}

TEST_CASE("parse_dev without dirty logging attributes (an older module): off")
{
	DevInfo d = testing::sample_devices()[0];
	DevInfo got = parse_dev(testing::encode_dev(d, 0, testing::Module::before_logging));
	CHECK_FALSE(got.logging);
	REQUIRE(got.queues.size() == 2);
	for (const QueueInfo &q : got.queues) {
		CHECK_FALSE(q.log_used);
		CHECK(q.counters[VHOSTX_CNT_LOG_PAGES] == 0);
		CHECK(q.counters[VHOSTX_CNT_REQUEUES] != 0);
	}
	// Everything else as the current module sends it.
	for (auto &q : d.queues) {
		q.log_used = false;
		q.counters[VHOSTX_CNT_LOG_PAGES] = 0;
	}
	d.logging = false;
	CHECK(got == d);
}

TEST_CASE("parse_dev ignores attributes and counters it does not know")
{
	DevInfo d = testing::sample_devices()[0];
	auto msg = testing::new_msg(VHOSTX_CMD_DEV_GET);
	nla_put_u32(msg.get(), VHOSTX_A_DEV_ID, d.id);
	nla_put_u32(msg.get(), VHOSTX_A_DEV_MAX + 5, 99); // a newer top-level attribute
	nlattr *queues = nla_nest_start(msg.get(), VHOSTX_A_DEV_QUEUES);
	nla_put_u32(msg.get(), 77, 1); // not a VHOSTX_A_QUEUE
	nlattr *q = nla_nest_start(msg.get(), VHOSTX_A_QUEUE);
	nla_put_u32(msg.get(), VHOSTX_A_QUEUE_INDEX, 1);
	nla_put_u32(msg.get(), VHOSTX_A_QUEUE_MAX + 3, 5); // a newer queue attribute
	nlattr *stats = nla_nest_start(msg.get(), VHOSTX_A_QUEUE_STATS);
	nla_put_u64(msg.get(), VHOSTX_CNT_PACKETS + 1, 42);
	nla_put_u64(msg.get(), __VHOSTX_CNT_MAX + 1, 7); // a newer counter
	nla_nest_end(msg.get(), stats);
	nla_nest_end(msg.get(), q);
	nla_nest_end(msg.get(), queues);

	DevInfo got = parse_dev(testing::bytes_of(msg.get()));
	CHECK(got.id == d.id);
	CHECK(got.weight_packets == 0); // absent: zero
	REQUIRE(got.queues.size() == 1);
	CHECK(got.queues[0].index == 1);
	CHECK(got.queues[0].counters[VHOSTX_CNT_PACKETS] == 42);
}

TEST_CASE("parse_dev rejects malformed messages with EBADMSG")
{
	auto good = from_hex(recorded::kGetDev2);

	SECTION("shorter than a netlink header")
	{
		SysError e = error_of([&] { parse_dev(Bytes(good).first(10)); });
		CHECK(e.err() == EBADMSG);
		CHECK(e.op() == "parse dev-get reply");
	}
	SECTION("nlmsg_len beyond the buffer")
	{
		SysError e = error_of([&] { parse_dev(Bytes(good).first(200)); });
		CHECK(e.err() == EBADMSG);
		CHECK(e.detail().find("nlmsg_len") != std::string::npos);
	}
	SECTION("no genetlink header")
	{
		std::vector<uint8_t> m(good.begin(), good.begin() + 16);
		m[0] = 16;
		m[1] = m[2] = m[3] = 0;
		CHECK(error_of([&] { parse_dev(m); }).err() == EBADMSG);
	}
	SECTION("an attribute that overruns its nest")
	{
		// The first queue nest claims more bytes than the message has.
		auto m = good;
		std::size_t off = 16 + 4 + 8 * 2 + 12 + 8 * 3 + 4; // first queue nest
		REQUIRE(m[off + 2] == 0x01); // VHOSTX_A_QUEUE
		m[off] = 0xff;
		m[off + 1] = 0x0f;
		CHECK(error_of([&] { parse_dev(m); }).err() == EBADMSG);
	}
	SECTION("a u32 attribute that is too short")
	{
		auto msg = testing::new_msg(VHOSTX_CMD_DEV_GET);
		nla_put_u16(msg.get(), VHOSTX_A_DEV_ID, 1);
		CHECK(error_of([&] { parse_dev(testing::bytes_of(msg.get())); }).err() == EBADMSG);
	}
	SECTION("no device id")
	{
		auto msg = testing::new_msg(VHOSTX_CMD_DEV_GET);
		nla_put_u32(msg.get(), VHOSTX_A_DEV_OWNER_PID, 1);
		SysError e = error_of([&] { parse_dev(testing::bytes_of(msg.get())); });
		CHECK(e.detail() == "no device id");
	}
	SECTION("a u8 attribute without payload")
	{
		auto msg = testing::new_msg(VHOSTX_CMD_DEV_GET);
		nla_put_u32(msg.get(), VHOSTX_A_DEV_ID, 1);
		nla_put(msg.get(), VHOSTX_A_DEV_LOGGING, 0, nullptr);
		CHECK(error_of([&] { parse_dev(testing::bytes_of(msg.get())); }).err() == EBADMSG);
	}
	SECTION("a string without its NUL")
	{
		auto msg = testing::new_msg(VHOSTX_CMD_DEV_GET);
		nla_put_u32(msg.get(), VHOSTX_A_DEV_ID, 1);
		nla_put(msg.get(), VHOSTX_A_DEV_BACKEND_IFNAME, 4, "tap0");
		CHECK(error_of([&] { parse_dev(testing::bytes_of(msg.get())); }).err() == EBADMSG);
	}
}

TEST_CASE("parse_queue_broken reads the event and rejects other commands")
{
	QueueBrokenEvent ev{4, 1, VHOSTX_BROKEN_CHAIN_LEN, "descriptor chain loops"};
	CHECK(parse_queue_broken(testing::encode_queue_broken(ev)) == ev);

	SysError e = error_of([] { parse_queue_broken(from_hex(recorded::kGetDev2)); });
	CHECK(e.err() == EBADMSG);
	CHECK(e.detail().find("not VHOSTX_CMD_QUEUE_BROKEN") != std::string::npos);

	auto msg = testing::new_msg(VHOSTX_CMD_QUEUE_BROKEN);
	nla_put_u32(msg.get(), VHOSTX_A_QUEUE_INDEX, 1);
	CHECK(error_of([&] { parse_queue_broken(testing::bytes_of(msg.get())); }).err() == EBADMSG);
}

TEST_CASE("parse_ack reads recorded ACKs and errors")
{
	SECTION("a plain ACK")
	{
		Ack a = parse_ack(from_hex(recorded::kAckGet2));
		CHECK(a.error == 0);
		CHECK(a.message.empty());
		CHECK_FALSE(a.offset);
	}
	SECTION("ENODEV with message and offset")
	{
		Ack a = parse_ack(from_hex(recorded::kErrNoDev99));
		CHECK(a.error == ENODEV);
		CHECK(a.message == "no vhostx device with this id");
		CHECK(a.offset == 20u); // the VHOSTX_A_DEV_ID attribute
		CHECK_FALSE(a.min);
	}
	SECTION("ERANGE with the attribute's policy")
	{
		Ack a = parse_ack(from_hex(recorded::kErrRange));
		CHECK(a.error == ERANGE);
		CHECK(a.message == "integer out of range");
		CHECK(a.offset == 28u);
		CHECK(a.min == 0u);
		CHECK(a.max == 1000000u);
	}
	SECTION("NLMSG_DONE of a good dump")
	{
		CHECK(parse_ack(from_hex(recorded::kDumpDone)).error == 0);
	}
	SECTION("NLMSG_DONE of a failed dump")
	{
		auto m = from_hex(recorded::kDumpDone);
		int32_t err = -EMSGSIZE;
		std::memcpy(m.data() + 16, &err, sizeof(err));
		CHECK(parse_ack(m).error == EMSGSIZE);
	}
	SECTION("an uncapped error that echoes the request")
	{
		auto req = testing::new_msg(VHOSTX_CMD_DEV_GET);
		nla_put_u32(req.get(), VHOSTX_A_DEV_ID, 99);
		auto reqb = testing::bytes_of(req.get());
		// nlmsghdr, error, echoed request, then NLMSGERR_ATTR_MSG "gone".
		std::vector<uint8_t> m(16 + 4);
		int32_t err = -ENODEV;
		std::memcpy(m.data() + 16, &err, 4);
		m.insert(m.end(), reqb.begin(), reqb.end());
		const uint8_t tlv[] = {9, 0, NLMSGERR_ATTR_MSG, 0, 'g', 'o', 'n', 'e', 0, 0, 0, 0};
		m.insert(m.end(), std::begin(tlv), std::end(tlv));
		nlmsghdr h{static_cast<uint32_t>(m.size()), NLMSG_ERROR, NLM_F_ACK_TLVS, 1, 0};
		std::memcpy(m.data(), &h, sizeof(h));
		Ack a = parse_ack(m);
		CHECK(a.error == ENODEV);
		CHECK(a.message == "gone");
	}
}

TEST_CASE("ack_detail names the attribute the kernel points at")
{
	// The request the recorded ERANGE answered: set 1 busypoll-us 5000000.
	auto req = testing::new_msg(VHOSTX_CMD_DEV_SET);
	nla_put_u32(req.get(), VHOSTX_A_DEV_ID, 1);
	nla_put_u32(req.get(), VHOSTX_A_DEV_BUSYPOLL_US, 5000000);
	auto reqb = testing::bytes_of(req.get());

	CHECK(attr_type_at(reqb, 20) == VHOSTX_A_DEV_ID);
	CHECK(attr_type_at(reqb, 28) == VHOSTX_A_DEV_BUSYPOLL_US);
	CHECK_FALSE(attr_type_at(reqb, 24));
	CHECK_FALSE(attr_type_at(reqb, 400));

	Ack a = parse_ack(from_hex(recorded::kErrRange));
	CHECK(ack_detail(a, reqb) == "busypoll-us: integer out of range (0-1000000)");
	a.max.reset();
	CHECK(ack_detail(a, reqb) == "busypoll-us: integer out of range (at least 0)");
	a.offset.reset();
	a.min.reset();
	CHECK(ack_detail(a, reqb) == "integer out of range");
	CHECK(ack_detail(Ack{}, reqb).empty());
	CHECK(dev_attr_name(VHOSTX_A_DEV_WEIGHT_BYTES) == "weight-bytes");
	CHECK(dev_attr_name(VHOSTX_A_DEV_LOGGING) == "logging");
	CHECK(dev_attr_name(999).empty());
}

TEST_CASE("libnl error codes map to errnos")
{
	CHECK(nlerr_to_errno(-NLE_OBJ_NOTFOUND) == ENOENT);
	CHECK(nlerr_to_errno(NLE_PERM) == EPERM);
	CHECK(nlerr_to_errno(-NLE_NODEV) == ENODEV);
	CHECK(nlerr_to_errno(-NLE_NOMEM) == ENOMEM);
	CHECK(nlerr_to_errno(-NLE_MSG_TRUNC) == EBADMSG);
	CHECK(nlerr_to_errno(-9999) == EIO);
}

TEST_CASE("counter and reason names are the stable JSON names")
{
	CHECK(kCounterNames[VHOSTX_CNT_KICKS] == "kicks");
	CHECK(kCounterNames[VHOSTX_CNT_IRQS_SUPPRESSED] == "irqs_suppressed");
	CHECK(kCounterNames[VHOSTX_CNT_BYTES_COPIED] == "bytes_copied");
	CHECK(kCounterNames[VHOSTX_CNT_RX_NOBUF] == "rx_nobuf");
	CHECK(kCounterNames[VHOSTX_CNT_REQUEUES] == "requeues");
	CHECK(kCounterNames[VHOSTX_CNT_LOG_PAGES] == "log_pages");
	CHECK(broken_reason_name(VHOSTX_BROKEN_NONE) == "none");
	CHECK(broken_reason_name(VHOSTX_BROKEN_AVAIL_IDX) == "avail_idx");
	CHECK(broken_reason_name(VHOSTX_BROKEN_INDIRECT_NESTED) == "indirect_nested");
	CHECK(broken_reason_name(VHOSTX_BROKEN_START) == "start");
	CHECK(broken_reason_name(VHOSTX_BROKEN_LOG) == "log");
	CHECK(broken_reason_name(VHOSTX_BROKEN_LOG + 1) == "unknown");
	CHECK(queue_name(0) == "rx");
	CHECK(queue_name(1) == "tx");
	CHECK(queue_name(2) == "q2");
}

TEST_CASE("Client without the module says so")
{
	try {
		Client c;
		WARN("a vhostx family is registered on this host; skipped");
	} catch (const SysError &e) {
		CHECK(e.err() == ENOENT);
		CHECK(std::string(e.what()) == "generic netlink family vhostx: vhostx module not loaded");
	}
}

TEST_CASE("parse_dev reads a recorded device with backend, traffic and a broken queue")
{
	DevInfo d = parse_dev(from_hex(recorded::kGetBrokenDev1));
	CHECK(d.id == 1);
	CHECK(d.owner_pid != 0);
	CHECK(d.features == ((1ULL << 32) | (1ULL << 15)));
	CHECK(d.backend_ifindex == 2);
	CHECK(d.backend_ifname == "vxt0");
	REQUIRE(d.queues.size() == 2);
	const QueueInfo &rx = d.queues[0], &tx = d.queues[1];
	CHECK(rx.num == 256);
	CHECK(rx.enabled);
	CHECK_FALSE(rx.broken);
	CHECK(rx.counters[VHOSTX_CNT_PACKETS] > 0);
	CHECK(tx.enabled);
	CHECK(tx.broken);
	CHECK(tx.broken_reason == VHOSTX_BROKEN_HEAD);
	CHECK(tx.broken_text == "avail ring entry out of range");
	CHECK(tx.last_avail == 20);
	CHECK(tx.used_idx == 20);
	CHECK(tx.counters[VHOSTX_CNT_PACKETS] == 20);
	CHECK(tx.counters[VHOSTX_CNT_BYTES] == 2000);
	CHECK(tx.counters[VHOSTX_CNT_KICKS] == 21); // and the kick that broke it
	CHECK(tx.counters[VHOSTX_CNT_ERR_RING] == 1);
	// Recorded before dirty logging: no logging attributes, no log_pages.
	CHECK_FALSE(d.logging);
	CHECK_FALSE(rx.log_used);
	CHECK_FALSE(tx.log_used);
	CHECK(tx.counters[VHOSTX_CNT_LOG_PAGES] == 0);
}

TEST_CASE("parse_dev reads the workers and each queue's worker")
{
	DevInfo d = testing::sample_devices()[0];
	d.queues[0].worker_id = 1;
	d.queues[1].worker_id = 0;
	d.workers = {{0, 4242, 1, 12345678, "0-1", 1}, {1, 4243, 0, 99, "1", 1}};
	DevInfo got = parse_dev(testing::encode_dev(d));
	CHECK(got == d);
	CHECK(got.workers.size() == 2);
	CHECK(got.workers[1].cpus == "1");
	CHECK(got.queues[0].worker_id == 1u);
}

TEST_CASE("parse_dev without workers (no owner, or an older module): none")
{
	DevInfo d = testing::sample_devices()[0];
	DevInfo got = parse_dev(testing::encode_dev(d));
	CHECK(got.workers.empty());
	for (const auto &q : got.queues)
		CHECK_FALSE(q.worker_id);
}
