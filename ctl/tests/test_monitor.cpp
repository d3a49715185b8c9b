// SPDX-License-Identifier: GPL-2.0
// vhostxctl monitor: VHOSTX_CMD_QUEUE_BROKEN notifications, built with libnl
// like kmod/netlink.c builds them, parsed, rendered as lines and JSON, and
// the command run against a fake netlink::Api that serves them.
#include <catch2/catch.hpp>

#include <cerrno>
#include <deque>
#include <sstream>

#include "nl_build.hpp"
#include "vhostx/cli.hpp"
#include "vhostx/netlink.hpp"
#include "vhostx/render.hpp"

using namespace vhostx;

namespace {

// As the module sends it: encoded, then parsed the way Client does.
QueueBrokenEvent received(const QueueBrokenEvent &ev)
{
	return netlink::parse_queue_broken(testing::encode_queue_broken(ev));
}

std::string line_of(const QueueBrokenEvent &ev)
{
	std::ostringstream out;
	render::event_line(out, ev);
	return out.str();
}

std::string json_of(const QueueBrokenEvent &ev)
{
	std::ostringstream out;
	render::event_json(out, ev);
	return out.str();
}

struct FakeEvents {
	std::deque<QueueBrokenEvent> events; // then nullopt: the stream ends
	std::optional<SysError> subscribe_fail;
	std::vector<std::string> calls;
};

class FakeApi : public netlink::Api {
public:
	explicit FakeApi(FakeEvents &f) : f_(f) {}
	std::vector<DevInfo> dump_devices() override { return {}; }
	DevInfo get_device(uint32_t id) override
	{
		throw SysError(ENODEV, "get device " + std::to_string(id));
	}
	void set_device(uint32_t, const DevSettings &) override {}
	void subscribe_events() override
	{
		f_.calls.push_back("subscribe");
		if (f_.subscribe_fail)
			throw *f_.subscribe_fail;
	}
	std::optional<QueueBrokenEvent> next_event(int timeout_ms) override
	{
		f_.calls.push_back("next " + std::to_string(timeout_ms));
		if (f_.events.empty())
			return std::nullopt;
		QueueBrokenEvent ev = f_.events.front();
		f_.events.pop_front();
		return ev;
	}

private:
	FakeEvents &f_;
};

// An Api that knows nothing of events: the base class's defaults.
class NoEventsApi : public netlink::Api {
public:
	std::vector<DevInfo> dump_devices() override { return {}; }
	DevInfo get_device(uint32_t) override { return {}; }
	void set_device(uint32_t, const DevSettings &) override {}
};

struct Result {
	int rc;
	std::string out, err;
};

Result run(std::vector<std::string> args, cli::Env env)
{
	std::ostringstream out, err;
	args.insert(args.begin(), "vhostxctl");
	int rc = cli::run(args, out, err, env);
	return {rc, out.str(), err.str()};
}

Result run(std::vector<std::string> args, FakeEvents &f)
{
	cli::Env env;
	env.connect = [&f]() -> std::unique_ptr<netlink::Api> { return std::make_unique<FakeApi>(f); };
	env.sleep = [](double) {};
	env.now = [] { return 0.0; };
	return run(std::move(args), env);
}

FakeEvents two_events()
{
	FakeEvents f;
	f.events.push_back(received({3, 1, VHOSTX_BROKEN_HEAD, "avail ring entry out of range"}));
	f.events.push_back(received({12, 0, VHOSTX_BROKEN_ADDR, "address outside the memory table"}));
	return f;
}

} // namespace

TEST_CASE("a queue-broken event renders as one line")
{
	CHECK(line_of(received({3, 1, VHOSTX_BROKEN_HEAD, "avail ring entry out of range"})) ==
	      "dev 3 tx: broken: head (avail ring entry out of range)\n");
	CHECK(line_of(received({7, 0, VHOSTX_BROKEN_CHAIN_LEN, "descriptor chain loops"})) ==
	      "dev 7 rx: broken: chain_len (descriptor chain loops)\n");
	// No text: only the reason's name. A reason newer than vhostxctl: unknown.
	CHECK(line_of({1, 1, VHOSTX_BROKEN_START, ""}) == "dev 1 tx: broken: start\n");
	CHECK(line_of(received({6, 0, VHOSTX_BROKEN_LOG, "dirty log write failed"})) ==
	      "dev 6 rx: broken: log (dirty log write failed)\n");
	CHECK(line_of(received({2, 5, 999, "from the future"})) ==
	      "dev 2 q5: broken: unknown (from the future)\n");
}

TEST_CASE("a queue-broken event renders as one JSON object per line")
{
	CHECK(json_of(received({3, 1, VHOSTX_BROKEN_HEAD, "avail ring entry out of range"})) ==
	      R"({"event":"queue_broken","id":3,"index":1,"name":"tx","broken_reason":"head",)"
	      R"("broken_text":"avail ring entry out of range"})"
	      "\n");
	CHECK(json_of(received({4294967295u, 0, VHOSTX_BROKEN_USED, "used ring not writable"})) ==
	      R"({"event":"queue_broken","id":4294967295,"index":0,"name":"rx",)"
	      R"("broken_reason":"used","broken_text":"used ring not writable"})"
	      "\n");
	// The module's text is escaped; no text is null, as in dev show.
	CHECK(json_of({5, 1, 999, "a \"quoted\"\ttext"}) ==
	      R"({"event":"queue_broken","id":5,"index":1,"name":"tx","broken_reason":"unknown",)"
	      R"("broken_text":"a \"quoted\"\ttext"})"
	      "\n");
	CHECK(json_of({5, 1, VHOSTX_BROKEN_NEXT, ""}) ==
	      R"({"event":"queue_broken","id":5,"index":1,"name":"tx","broken_reason":"next",)"
	      R"("broken_text":null})"
	      "\n");
}

TEST_CASE("every broken reason has the name dev show uses")
{
	for (uint32_t r = VHOSTX_BROKEN_ACCESS; r <= VHOSTX_BROKEN_LOG; r++) {
		std::string name(broken_reason_name(r));
		CHECK(name != "unknown");
		CHECK(line_of({1, 1, r, ""}) == "dev 1 tx: broken: " + name + "\n");
	}
}

TEST_CASE("monitor subscribes, then prints each event as it comes")
{
	FakeEvents f = two_events();
	auto r = run({"monitor"}, f);
	CHECK(r.rc == 0);
	CHECK(r.err.empty());
	CHECK(r.out == "dev 3 tx: broken: head (avail ring entry out of range)\n"
		       "dev 12 rx: broken: addr (address outside the memory table)\n");
	// Waits without a timeout; the fake's stream ends after two.
	CHECK(f.calls == std::vector<std::string>{"subscribe", "next -1", "next -1", "next -1"});
}

TEST_CASE("monitor -j prints one JSON object per event, -j before or after")
{
	for (auto args : {std::vector<std::string>{"-j", "monitor"},
			  std::vector<std::string>{"monitor", "-j"}}) {
		FakeEvents f = two_events();
		auto r = run(args, f);
		CHECK(r.rc == 0);
		CHECK(r.out ==
		      R"({"event":"queue_broken","id":3,"index":1,"name":"tx","broken_reason":"head",)"
		      R"("broken_text":"avail ring entry out of range"})"
		      "\n"
		      R"({"event":"queue_broken","id":12,"index":0,"name":"rx","broken_reason":"addr",)"
		      R"("broken_text":"address outside the memory table"})"
		      "\n");
	}
}

TEST_CASE("monitor --count N stops after N events")
{
	FakeEvents f = two_events();
	auto r = run({"monitor", "--count", "1"}, f);
	CHECK(r.rc == 0);
	CHECK(r.out == "dev 3 tx: broken: head (avail ring entry out of range)\n");
	CHECK(f.calls == std::vector<std::string>{"subscribe", "next -1"});
	CHECK(f.events.size() == 1);
}

TEST_CASE("monitor: argument errors are usage errors, before the kernel is asked")
{
	struct {
		std::vector<std::string> args;
		std::string message;
	} cases[] = {
		{{"monitor", "--count", "0"}, "vhostxctl: --count: must be at least 1\n"},
		{{"monitor", "--count", "x"}, "vhostxctl: --count: 'x' is not a number\n"},
	};
	for (const auto &c : cases) {
		FakeEvents f = two_events();
		auto r = run(c.args, f);
		INFO(Catch::Detail::stringify(c.args));
		CHECK(r.rc == 2);
		CHECK(r.err == c.message);
		CHECK(r.out.empty());
		CHECK(f.calls.empty());
	}
	FakeEvents f = two_events();
	auto r = run({"monitor", "3"}, f);
	CHECK(r.rc == 2);
	CHECK(f.calls.empty());
}

TEST_CASE("monitor: failures to listen exit 1 with the reason")
{
	FakeEvents f = two_events();
	f.subscribe_fail = SysError(EPERM, "subscribe to vhostx events", "Operation not permitted");
	auto r = run({"monitor"}, f);
	CHECK(r.rc == 1);
	CHECK(r.err == "vhostxctl: subscribe to vhostx events: permission denied (needs CAP_NET_ADMIN)\n");

	cli::Env env;
	env.connect = []() -> std::unique_ptr<netlink::Api> { return std::make_unique<NoEventsApi>(); };
	r = run({"monitor"}, env);
	CHECK(r.rc == 1);
	CHECK(r.err == "vhostxctl: subscribe to vhostx events: operation not supported\n");

	env.connect = []() -> std::unique_ptr<netlink::Api> {
		throw SysError(ENOENT, "generic netlink family vhostx", "No such file or directory",
			       "vhostx module not loaded");
	};
	r = run({"monitor"}, env);
	CHECK(r.rc == 1);
	CHECK(r.err == "vhostxctl: generic netlink family vhostx: vhostx module not loaded\n");
}

TEST_CASE("monitor --help documents --count")
{
	FakeEvents f;
	auto r = run({"monitor", "--help"}, f);
	CHECK(r.rc == 0);
	CHECK(r.out.find("--count N") != std::string::npos);
	r = run({"--help"}, f);
	CHECK(r.out.find("monitor") != std::string::npos);
}
