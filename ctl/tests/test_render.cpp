// SPDX-License-Identifier: GPL-2.0
// Tables, JSON and --watch rates, rendered from netlink replies: recorded
// from the module, or built with libnl like the module builds them.
#include <catch2/catch.hpp>

#include <sstream>

#include "nl_build.hpp"
#include "recorded.hpp"
#include "vhostx/json.hpp"
#include "vhostx/netlink.hpp"
#include "vhostx/render.hpp"

using namespace vhostx;

namespace {

// The sample devices as Client would return them: encoded, then parsed.
std::vector<DevInfo> replies()
{
	std::vector<DevInfo> devs;
	for (const auto &d : testing::sample_devices())
		devs.push_back(netlink::parse_dev(testing::encode_dev(d, NLM_F_MULTI)));
	return devs;
}

template <typename F> std::string render_to_string(F f)
{
	std::ostringstream out;
	f(out);
	return out.str();
}

const std::string kZeroCounters =
	R"({"kicks":0,"irqs":0,"irqs_suppressed":0,"packets":0,"bytes":0,"batches":0,)"
	R"("bytes_copied":0,"busypoll_spins":0,"drops":0,"err_ring":0,"err_sock":0,"rx_nobuf":0,)"
	R"("requeues":0,"log_pages":0})";

} // namespace

TEST_CASE("json::quote escapes what RFC 8259 requires")
{
	CHECK(json::quote("tap0") == R"("tap0")");
	CHECK(json::quote("a\"b\\c") == R"("a\"b\\c")");
	CHECK(json::quote("\n\t\r\b\f") == R"("\n\t\r\b\f")");
	CHECK(json::quote(std::string("\x01\x1f\x7f", 3)) == R"("\u0001\u001f\u007f")");
	CHECK(json::quote(std::string("nul\0x", 5)) == R"("nul\u0000x")");
	CHECK(json::quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
	      "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	// Invalid UTF-8 cannot appear in JSON: each bad byte becomes U+FFFD.
	CHECK(json::quote("a\xff" "b") == R"("a\ufffdb")");
	CHECK(json::quote("\xc3") == R"("\ufffd")");
	CHECK(json::quote("\xc0\xaf") == R"("\ufffd\ufffd")");	   // overlong
	CHECK(json::quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")"); // surrogate
}

TEST_CASE("json::Writer places commas and colons")
{
	std::ostringstream out;
	json::Writer w(out);
	w.begin_object();
	w.key("a").value(uint64_t{18446744073709551615ULL});
	w.key("b").begin_array().value(true).value(false).null().end_array();
	w.key("c").begin_object().end_object();
	w.key("d").fixed(1.005, 2).key("e").fixed(1.0 / 0.0, 2);
	w.key("f").value("x");
	w.end_object();
	CHECK(out.str() ==
	      R"({"a":18446744073709551615,"b":[true,false,null],"c":{},"d":1.00,"e":null,"f":"x"})");
}

TEST_CASE("Table aligns columns and trims trailing blanks")
{
	using A = render::Table::Align;
	render::Table t({{"NAME"}, {"N", A::right}, {"NOTE"}});
	t.add({"a", "1", ""});
	t.add({"longer", "12345", "x"});
	auto s = render_to_string([&](std::ostream &o) { t.print(o, "  "); });
	CHECK(s == "  NAME        N  NOTE\n"
		   "  a           1\n"
		   "  longer  12345  x\n");
	s = render_to_string([&](std::ostream &o) { t.print(o, "", false); });
	CHECK(s == "a           1\n"
		   "longer  12345  x\n");
}

TEST_CASE("features_text names the known bits")
{
	CHECK(render::features_text(0) == "0x0");
	CHECK(render::features_text((1ULL << 32) | (1ULL << 28)) == "0x110000000 (indirect_desc version_1)");
	CHECK(render::features_text((1ULL << 32) | 1) == "0x100000001 (version_1 other 0x1)");
}

TEST_CASE("dev list: table")
{
	auto s = render_to_string([](std::ostream &o) { render::dev_table(o, replies()); });
	CHECK(s == "ID  OWNER  BACKEND  BUSYPOLL_US  WEIGHT_PACKETS  WEIGHT_BYTES  STATE\n"
		   " 3   4242  tap0              50             256        524288  up\n"
		   " 5    777  tap1               0              64         65536  broken\n");
	CHECK(render_to_string([](std::ostream &o) { render::dev_table(o, {}); }).empty());
}

TEST_CASE("dev list: table of recorded replies, devices without backend")
{
	std::vector<DevInfo> devs{netlink::parse_dev(testing::from_hex(recorded::kDumpDev1)),
				  netlink::parse_dev(testing::from_hex(recorded::kGetDev2))};
	auto s = render_to_string([&](std::ostream &o) { render::dev_table(o, devs); });
	CHECK(s == "ID  OWNER  BACKEND  BUSYPOLL_US  WEIGHT_PACKETS  WEIGHT_BYTES  STATE\n"
		   " 1      -  -                 50              64         65536  down\n"
		   " 2      -  -                  0             256        524288  down\n");
}

TEST_CASE("dev show: detail of a broken device")
{
	auto s = render_to_string([](std::ostream &o) { render::dev_detail(o, replies()[1]); });
	CHECK(s == "dev 5: broken\n"
		   "  owner pid       777\n"
		   "  backend         tap1 (ifindex 9)\n"
		   "  features        0x100000000 (version_1)\n"
		   "  logging         off\n"
		   "  busypoll-us     0\n"
		   "  weight-packets  64\n"
		   "  weight-bytes    65536\n"
		   "\n"
		   "  QUEUE  NUM  LAST_AVAIL  USED_IDX  ENABLED  LOG_USED  BUSYPOLL_US  STATE\n"
		   "  rx     128           5         5  yes      no                  0  ok\n"
		   "  tx     128          17        16  yes      no                  0  broken: head (head index out of range)\n");
}

TEST_CASE("dev show: detail of a device with dirty logging on")
{
	auto s = render_to_string([](std::ostream &o) { render::dev_detail(o, replies()[0]); });
	CHECK(s == "dev 3: up\n"
		   "  owner pid       4242\n"
		   "  backend         tap0 (ifindex 7)\n"
		   "  features        0x124008000 (mrg_rxbuf log_all event_idx version_1)\n"
		   "  logging         on\n"
		   "  busypoll-us     50\n"
		   "  weight-packets  256\n"
		   "  weight-bytes    524288\n"
		   "\n"
		   "  QUEUE  NUM  LAST_AVAIL  USED_IDX  ENABLED  LOG_USED  BUSYPOLL_US  STATE\n"
		   "  rx     256        1000      1000  yes      yes                50  ok\n"
		   "  tx     256        2000      1999  yes      yes                50  ok\n");

	// Logging on, but the VMM logs only the TX used ring.
	auto d = replies()[0];
	d.queues[0].log_used = false;
	s = render_to_string([&](std::ostream &o) { render::dev_detail(o, d); });
	CHECK(s.find("  rx     256        1000      1000  yes      no                 50  ok\n") !=
	      std::string::npos);
}

TEST_CASE("dev show: detail of a recorded fresh device")
{
	auto d = netlink::parse_dev(testing::from_hex(recorded::kGetDev2));
	auto s = render_to_string([&](std::ostream &o) { render::dev_detail(o, d); });
	CHECK(s == "dev 2: down\n"
		   "  owner pid       -\n"
		   "  backend         none\n"
		   "  features        0x0\n"
		   "  logging         off\n"
		   "  busypoll-us     0\n"
		   "  weight-packets  256\n"
		   "  weight-bytes    524288\n"
		   "\n"
		   "  QUEUE  NUM  LAST_AVAIL  USED_IDX  ENABLED  LOG_USED  BUSYPOLL_US  STATE\n"
		   "  rx       0           0         0  no       no                  0  -\n"
		   "  tx       0           0         0  no       no                  0  -\n");
}

TEST_CASE("dev -j: the device schema")
{
	SECTION("a recorded device without backend")
	{
		auto d = netlink::parse_dev(testing::from_hex(recorded::kGetDev2));
		auto s = render_to_string([&](std::ostream &o) { render::dev_json(o, {d}); });
		auto queue = [](int i, const char *name) {
			return R"({"index":)" + std::to_string(i) + R"(,"name":")" + name +
			       R"(","num":0,"last_avail":0,"used_idx":0,"enabled":false,"log_used":false,)"
			       R"("broken":false,"broken_reason":"none","broken_text":null,"busypoll_us":0,)"
			       R"("counters":)" +
			       kZeroCounters + "}";
		};
		CHECK(s == R"([{"id":2,"owner_pid":0,"features":0,"logging":false,"state":"down",)"
			   R"("backend_ifindex":null,"backend_ifname":null,"busypoll_us":0,)"
			   R"("weight_packets":256,"weight_bytes":524288,)"
			   R"("queues":[)" +
				   queue(0, "rx") + "," + queue(1, "tx") + "]}]\n");
	}
	SECTION("a broken device with backend")
	{
		auto s = render_to_string([](std::ostream &o) { render::dev_json(o, {replies()[1]}); });
		std::string tx_counters = kZeroCounters;
		tx_counters.replace(tx_counters.find("\"err_ring\":0"), 12, "\"err_ring\":1");
		CHECK(s ==
		      R"([{"id":5,"owner_pid":777,"features":4294967296,"logging":false,"state":"broken",)"
		      R"("backend_ifindex":9,"backend_ifname":"tap1","busypoll_us":0,"weight_packets":64,)"
		      R"("weight_bytes":65536,"queues":[{"index":0,"name":"rx","num":128,"last_avail":5,)"
		      R"("used_idx":5,"enabled":true,"log_used":false,"broken":false,"broken_reason":"none",)"
		      R"("broken_text":null,"busypoll_us":0,"counters":)" +
			      kZeroCounters +
			      R"(},{"index":1,"name":"tx","num":128,"last_avail":17,"used_idx":16,"enabled":true,)"
			      R"("log_used":false,"broken":true,"broken_reason":"head",)"
			      R"("broken_text":"head index out of range","busypoll_us":0,"counters":)" +
			      tx_counters + "}]}]\n");
	}
	SECTION("a device with dirty logging on")
	{
		auto d = replies()[0];
		d.queues[0].log_used = false;
		auto s = render_to_string([&](std::ostream &o) { render::dev_json(o, {d}); });
		CHECK(s.rfind(R"([{"id":3,"owner_pid":4242,"features":4898979840,"logging":true,)"
			      R"("state":"up",)",
			      0) == 0);
		CHECK(s.find(R"({"index":0,"name":"rx","num":256,"last_avail":1000,"used_idx":1000,)"
			     R"("enabled":true,"log_used":false,"broken":false,)") != std::string::npos);
		CHECK(s.find(R"({"index":1,"name":"tx","num":256,"last_avail":2000,"used_idx":1999,)"
			     R"("enabled":true,"log_used":true,"broken":false,)") != std::string::npos);
		CHECK(s.find(R"("requeues":1000012,"log_pages":1000013}})") != std::string::npos);
	}
	SECTION("no devices")
	{
		CHECK(render_to_string([](std::ostream &o) { render::dev_json(o, {}); }) == "[]\n");
	}
}

TEST_CASE("stats: table, a column per queue")
{
	auto s = render_to_string([](std::ostream &o) { render::stats_table(o, {replies()[0]}); });
	CHECK(s == "dev 3 (tap0)\n"
		   "COUNTER           RX       TX\n"
		   "kicks            100  1000000\n"
		   "irqs             101  1000001\n"
		   "irqs_suppressed  102  1000002\n"
		   "packets          103  1000003\n"
		   "bytes            104  1000004\n"
		   "batches          105  1000005\n"
		   "bytes_copied     106  1000006\n"
		   "busypoll_spins   107  1000007\n"
		   "drops            108  1000008\n"
		   "err_ring         109  1000009\n"
		   "err_sock         110  1000010\n"
		   "rx_nobuf         111  1000011\n"
		   "requeues         112  1000012\n"
		   "log_pages        113  1000013\n");
}

TEST_CASE("stats: blocks of several devices are separated by a blank line")
{
	auto s = render_to_string([](std::ostream &o) { render::stats_table(o, replies()); });
	CHECK(s.find("log_pages        113  1000013\n\ndev 5 (tap1)\nCOUNTER          RX  TX\n") !=
	      std::string::npos);
	auto fresh = netlink::parse_dev(testing::from_hex(recorded::kGetDev2));
	s = render_to_string([&](std::ostream &o) { render::stats_table(o, {fresh}); });
	CHECK(s.rfind("dev 2 (no backend)\nCOUNTER          RX  TX\nkicks             0   0\n", 0) == 0);
}

TEST_CASE("stats -j: counters by name")
{
	auto s = render_to_string([](std::ostream &o) { render::stats_json(o, {replies()[0]}); });
	CHECK(s ==
	      R"([{"id":3,"backend_ifname":"tap0","queues":[{"index":0,"name":"rx","counters":{"kicks":100,)"
	      R"("irqs":101,"irqs_suppressed":102,"packets":103,"bytes":104,"batches":105,"bytes_copied":106,)"
	      R"("busypoll_spins":107,"drops":108,"err_ring":109,"err_sock":110,"rx_nobuf":111,"requeues":112,)"
	      R"("log_pages":113}},)"
	      R"({"index":1,"name":"tx","counters":{"kicks":1000000,"irqs":1000001,"irqs_suppressed":1000002,)"
	      R"("packets":1000003,"bytes":1000004,"batches":1000005,"bytes_copied":1000006,)"
	      R"("busypoll_spins":1000007,"drops":1000008,"err_ring":1000009,"err_sock":1000010,)"
	      R"("rx_nobuf":1000011,"requeues":1000012,"log_pages":1000013}}]}])"
	      "\n");
}

TEST_CASE("compute_rates: deltas per second between two samples")
{
	auto prev = replies();
	auto cur = prev;
	cur[0].queues[0].counters[VHOSTX_CNT_PACKETS] += 1000;
	cur[0].queues[1].counters[VHOSTX_CNT_BYTES] += 3;
	cur[1].queues[1].counters[VHOSTX_CNT_ERR_RING] = 0; // went backwards: counts from 0

	auto r = render::compute_rates(prev, cur, 2.0);
	REQUIRE(r.size() == 2);
	CHECK(r[0].id == 3);
	CHECK(r[0].backend_ifname == "tap0");
	REQUIRE(r[0].queues.size() == 2);
	CHECK(r[0].queues[0].per_sec[VHOSTX_CNT_PACKETS] == Approx(500.0));
	CHECK(r[0].queues[0].per_sec[VHOSTX_CNT_KICKS] == 0.0);
	CHECK(r[0].queues[1].per_sec[VHOSTX_CNT_BYTES] == Approx(1.5));
	CHECK(r[1].queues[1].per_sec[VHOSTX_CNT_ERR_RING] == 0.0);

	cur[1].queues[1].counters[VHOSTX_CNT_ERR_RING] = 0;
	prev[1].queues[1].counters[VHOSTX_CNT_ERR_RING] = 10;
	cur[1].queues[1].counters[VHOSTX_CNT_DROPS] = 4; // prev 0
	r = render::compute_rates(prev, cur, 0.5);
	CHECK(r[1].queues[1].per_sec[VHOSTX_CNT_DROPS] == Approx(8.0));
}

TEST_CASE("compute_rates: devices and queues must be in both samples")
{
	auto prev = replies();
	auto cur = prev;
	cur.erase(cur.begin());		// device 3 went away
	DevInfo fresh;			// device 9 appeared
	fresh.id = 9;
	fresh.queues.push_back({});
	cur.push_back(fresh);
	cur[0].queues.pop_back();	// device 5 lost its TX queue

	auto r = render::compute_rates(prev, cur, 1.0);
	REQUIRE(r.size() == 1);
	CHECK(r[0].id == 5);
	REQUIRE(r[0].queues.size() == 1);
	CHECK(r[0].queues[0].index == 0);
}

TEST_CASE("compute_rates: a u64 counter near its top")
{
	DevInfo a;
	a.queues.push_back({});
	a.queues[0].counters[0] = UINT64_MAX - 10;
	DevInfo b = a;
	b.queues[0].counters[0] = UINT64_MAX;
	auto r = render::compute_rates({a}, {b}, 1.0);
	CHECK(r[0].queues[0].per_sec[0] == Approx(10.0));
}

TEST_CASE("stats --watch: rates table and JSON line")
{
	auto prev = replies();
	auto cur = prev;
	cur[0].queues[0].counters[VHOSTX_CNT_PACKETS] += 1001;
	cur[0].queues[1].counters[VHOSTX_CNT_BYTES] += 3;
	cur.pop_back();
	auto r = render::compute_rates(prev, cur, 2.0);

	auto s = render_to_string([&](std::ostream &o) { render::rates_table(o, r); });
	CHECK(s == "dev 3 (tap0)\n"
		   "COUNTER          RX/s  TX/s\n"
		   "kicks               0     0\n"
		   "irqs                0     0\n"
		   "irqs_suppressed     0     0\n"
		   "packets           501     0\n"
		   "bytes               0     2\n"
		   "batches             0     0\n"
		   "bytes_copied        0     0\n"
		   "busypoll_spins      0     0\n"
		   "drops               0     0\n"
		   "err_ring            0     0\n"
		   "err_sock            0     0\n"
		   "rx_nobuf            0     0\n"
		   "requeues            0     0\n"
		   "log_pages           0     0\n");

	s = render_to_string([&](std::ostream &o) { render::rates_json(o, r, 2.0); });
	auto rates = [](const char *packets, const char *bytes) {
		return std::string(R"({"kicks":0.00,"irqs":0.00,"irqs_suppressed":0.00,"packets":)") + packets +
		       R"(,"bytes":)" + bytes +
		       R"(,"batches":0.00,"bytes_copied":0.00,"busypoll_spins":0.00,"drops":0.00,)"
		       R"("err_ring":0.00,"err_sock":0.00,"rx_nobuf":0.00,"requeues":0.00,)"
		       R"("log_pages":0.00})";
	};
	CHECK(s == R"({"interval_s":2.000,"devices":[{"id":3,"backend_ifname":"tap0","queues":[)"
		   R"({"index":0,"name":"rx","rates":)" +
			   rates("500.50", "0.00") + R"(},{"index":1,"name":"tx","rates":)" +
			   rates("0.00", "1.50") + "}]}]}\n");
}

TEST_CASE("dev list and dev show of a recorded broken device")
{
	auto d = netlink::parse_dev(testing::from_hex(recorded::kGetBrokenDev1));
	auto s = render_to_string([&](std::ostream &o) { render::dev_table(o, {d}); });
	CHECK(s.find("  vxt0  ") != std::string::npos);
	CHECK(s.find("broken\n") != std::string::npos);
	s = render_to_string([&](std::ostream &o) { render::dev_detail(o, d); });
	CHECK(s.find("  backend         vxt0 (ifindex 2)\n") != std::string::npos);
	CHECK(s.find("  features        0x100008000 (mrg_rxbuf version_1)\n") != std::string::npos);
	CHECK(s.find("  tx     256          20        20  yes      no                  0  broken: head "
		     "(avail ring entry out of range)\n") != std::string::npos);
	s = render_to_string([&](std::ostream &o) { render::dev_json(o, {d}); });
	CHECK(s.find(R"("broken":true,"broken_reason":"head","broken_text":"avail ring entry out of range")") !=
	      std::string::npos);
}

TEST_CASE("dev show and -j: workers, and the worker of each queue")
{
	auto d = replies()[0];
	d.queues[0].worker_id = 1;
	d.queues[1].worker_id = 0;
	d.workers = {{0, 4300, 1, 2500000, "0-1", 1, false}, {1, 4301, 0, 7000000, "0", 1, true}};
	auto s = render_to_string([&](std::ostream &o) { render::dev_detail(o, d); });
	CHECK(s.find("  QUEUE  NUM  LAST_AVAIL  USED_IDX  ENABLED  LOG_USED  BUSYPOLL_US  WORKER  STATE\n"
		     "  rx     256        1000      1000  yes      yes                50       1  ok\n") !=
	      std::string::npos);
	CHECK(s.find("  WORKER   PID  QUEUES  CPU  CPU_MS  CPUS  MODE\n"
		     "       0  4300       1    1       2  0-1   kthread\n"
		     "       1  4301       1    0       7  0     task\n") != std::string::npos);
	auto j = render_to_string([&](std::ostream &o) { render::dev_json(o, {d}); });
	CHECK(j.find(R"("busypoll_us":50,"worker":1,"counters")") != std::string::npos);
	CHECK(j.find(R"("workers":[{"id":0,"pid":4300,"queues":1,"cpu":1,"cpu_ns":2500000,"cpus":"0-1",)"
		     R"("mode":"kthread"},{"id":1,"pid":4301,"queues":1,"cpu":0,"cpu_ns":7000000,"cpus":"0",)"
		     R"("mode":"task"}]})") !=
	      std::string::npos);
}
