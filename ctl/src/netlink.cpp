// SPDX-License-Identifier: GPL-2.0
#include "vhostx/netlink.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "vhostx/error.hpp"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace vhostx {

static_assert(!kCounterNames.back().empty(), "a counter without a name: update kCounterNames");

std::string_view broken_reason_name(uint32_t reason)
{
	static constexpr std::array<std::string_view, VHOSTX_BROKEN_LOG + 1> names = {
		"none",		   "access",	     "avail_idx",     "head",
		"next",		   "chain_len",	     "indirect_nested", "indirect_len",
		"indirect_next",   "addr",	     "dir",	      "iov_full",
		"used",		   "hdr",	     "start",	      "log",
	};
	return reason < names.size() ? names[reason] : "unknown";
}

std::string queue_name(uint32_t index)
{
	if (index == 0)
		return "rx";
	if (index == 1)
		return "tx";
	return "q" + std::to_string(index);
}

namespace netlink {

namespace detail {
void SockDeleter::operator()(nl_sock *s) const noexcept
{
	nl_socket_free(s);
}
void MsgDeleter::operator()(nl_msg *m) const noexcept
{
	nlmsg_free(m);
}
void CbDeleter::operator()(nl_cb *c) const noexcept
{
	nl_cb_put(c);
}
} // namespace detail

namespace {

[[noreturn]] void malformed(const std::string &op, const std::string &why)
{
	throw SysError(EBADMSG, op, "malformed message", why);
}

// A copy of one message, 4-byte aligned and checked: nlmsg_len within the
// buffer and covering at least the headers. libnl's parsers then never read
// past its end.
class Message {
public:
	Message(Bytes bytes, const std::string &op)
	{
		if (bytes.size() < NLMSG_HDRLEN)
			malformed(op, "shorter than a netlink header");
		buf_.resize((bytes.size() + 3) / 4);
		std::memcpy(buf_.data(), bytes.data(), bytes.size());
		if (hdr()->nlmsg_len < NLMSG_HDRLEN || hdr()->nlmsg_len > bytes.size())
			malformed(op, "bad nlmsg_len " + std::to_string(hdr()->nlmsg_len));
	}
	nlmsghdr *hdr() noexcept { return reinterpret_cast<nlmsghdr *>(buf_.data()); }

private:
	std::vector<uint32_t> buf_;
};

template <std::size_t N> using Policy = std::array<nla_policy, N>;

const Policy<VHOSTX_A_DEV_MAX + 1> &dev_policy()
{
	static const auto p = [] {
		Policy<VHOSTX_A_DEV_MAX + 1> p{};
		p[VHOSTX_A_DEV_ID].type = NLA_U32;
		p[VHOSTX_A_DEV_OWNER_PID].type = NLA_U32;
		p[VHOSTX_A_DEV_FEATURES].type = NLA_U64;
		p[VHOSTX_A_DEV_BACKEND_IFINDEX].type = NLA_U32;
		p[VHOSTX_A_DEV_BACKEND_IFNAME].type = NLA_STRING;
		p[VHOSTX_A_DEV_QUEUES].type = NLA_NESTED;
		p[VHOSTX_A_DEV_BUSYPOLL_US].type = NLA_U32;
		p[VHOSTX_A_DEV_WEIGHT_PACKETS].type = NLA_U32;
		p[VHOSTX_A_DEV_WEIGHT_BYTES].type = NLA_U32;
		p[VHOSTX_A_DEV_LOGGING].type = NLA_U8;
		p[VHOSTX_A_DEV_WORKERS].type = NLA_NESTED;
		return p;
	}();
	return p;
}

const Policy<VHOSTX_A_QUEUE_MAX + 1> &queue_policy()
{
	static const auto p = [] {
		Policy<VHOSTX_A_QUEUE_MAX + 1> p{};
		p[VHOSTX_A_QUEUE_INDEX].type = NLA_U32;
		p[VHOSTX_A_QUEUE_NUM].type = NLA_U32;
		p[VHOSTX_A_QUEUE_LAST_AVAIL].type = NLA_U32;
		p[VHOSTX_A_QUEUE_USED_IDX].type = NLA_U32;
		p[VHOSTX_A_QUEUE_ENABLED].type = NLA_U8;
		p[VHOSTX_A_QUEUE_BROKEN].type = NLA_U8;
		p[VHOSTX_A_QUEUE_BROKEN_REASON].type = NLA_U32;
		p[VHOSTX_A_QUEUE_BROKEN_TEXT].type = NLA_STRING;
		p[VHOSTX_A_QUEUE_BUSYPOLL_US].type = NLA_U32;
		p[VHOSTX_A_QUEUE_STATS].type = NLA_NESTED;
		p[VHOSTX_A_QUEUE_DEV_ID].type = NLA_U32;
		p[VHOSTX_A_QUEUE_LOG_USED].type = NLA_U8;
		p[VHOSTX_A_QUEUE_WORKER_ID].type = NLA_U32;
		return p;
	}();
	return p;
}

const Policy<VHOSTX_A_WORKER_MAX + 1> &worker_policy()
{
	static const auto p = [] {
		Policy<VHOSTX_A_WORKER_MAX + 1> p{};
		p[VHOSTX_A_WORKER_ID].type = NLA_U32;
		p[VHOSTX_A_WORKER_PID].type = NLA_U32;
		p[VHOSTX_A_WORKER_CPU].type = NLA_U32;
		p[VHOSTX_A_WORKER_CPU_NS].type = NLA_U64;
		p[VHOSTX_A_WORKER_CPUS].type = NLA_STRING;
		p[VHOSTX_A_WORKER_QUEUES].type = NLA_U32;
		p[VHOSTX_A_WORKER_MODE].type = NLA_U32;
		return p;
	}();
	return p;
}

std::string get_string(const nlattr *a)
{
	// The policy made sure the payload is NUL-terminated.
	return std::string(static_cast<const char *>(nla_data(a)));
}

QueueInfo parse_queue(nlattr *nest, const std::string &op)
{
	std::array<nlattr *, VHOSTX_A_QUEUE_MAX + 1> tb{};
	int err = nla_parse_nested(tb.data(), VHOSTX_A_QUEUE_MAX, nest, queue_policy().data());
	if (err < 0)
		malformed(op, std::string("queue: ") + nl_geterror(err));
	if (!tb[VHOSTX_A_QUEUE_INDEX])
		malformed(op, "queue without an index");

	QueueInfo q;
	q.index = nla_get_u32(tb[VHOSTX_A_QUEUE_INDEX]);
	if (tb[VHOSTX_A_QUEUE_NUM])
		q.num = nla_get_u32(tb[VHOSTX_A_QUEUE_NUM]);
	if (tb[VHOSTX_A_QUEUE_LAST_AVAIL])
		q.last_avail = nla_get_u32(tb[VHOSTX_A_QUEUE_LAST_AVAIL]);
	if (tb[VHOSTX_A_QUEUE_USED_IDX])
		q.used_idx = nla_get_u32(tb[VHOSTX_A_QUEUE_USED_IDX]);
	if (tb[VHOSTX_A_QUEUE_ENABLED])
		q.enabled = nla_get_u8(tb[VHOSTX_A_QUEUE_ENABLED]) != 0;
	if (tb[VHOSTX_A_QUEUE_BROKEN])
		q.broken = nla_get_u8(tb[VHOSTX_A_QUEUE_BROKEN]) != 0;
	if (tb[VHOSTX_A_QUEUE_BROKEN_REASON])
		q.broken_reason = nla_get_u32(tb[VHOSTX_A_QUEUE_BROKEN_REASON]);
	if (tb[VHOSTX_A_QUEUE_BROKEN_TEXT])
		q.broken_text = get_string(tb[VHOSTX_A_QUEUE_BROKEN_TEXT]);
	if (tb[VHOSTX_A_QUEUE_BUSYPOLL_US])
		q.busypoll_us = nla_get_u32(tb[VHOSTX_A_QUEUE_BUSYPOLL_US]);
	// Absent from modules without dirty logging: not logged.
	if (tb[VHOSTX_A_QUEUE_LOG_USED])
		q.log_used = nla_get_u8(tb[VHOSTX_A_QUEUE_LOG_USED]) != 0;
	if (tb[VHOSTX_A_QUEUE_WORKER_ID])
		q.worker_id = nla_get_u32(tb[VHOSTX_A_QUEUE_WORKER_ID]);
	if (nlattr *stats = tb[VHOSTX_A_QUEUE_STATS]) {
		nlattr *a;
		int rem;
		nla_for_each_nested(a, stats, rem) {
			int type = nla_type(a);
			if (type < 1 || type > static_cast<int>(kNumCounters))
				continue; // a counter newer than this build
			if (nla_len(a) < static_cast<int>(sizeof(uint64_t)))
				malformed(op, "counter " + std::to_string(type - 1) + " shorter than u64");
			q.counters[type - 1] = nla_get_u64(a);
		}
		if (rem >= NLA_HDRLEN)
			malformed(op, "a counter overruns the stats nest");
	}
	return q;
}

WorkerInfo parse_worker(nlattr *nest, const std::string &op)
{
	std::array<nlattr *, VHOSTX_A_WORKER_MAX + 1> tb{};
	int err = nla_parse_nested(tb.data(), VHOSTX_A_WORKER_MAX, nest, worker_policy().data());
	if (err < 0)
		malformed(op, std::string("worker: ") + nl_geterror(err));
	if (!tb[VHOSTX_A_WORKER_ID] || !tb[VHOSTX_A_WORKER_PID])
		malformed(op, "worker without an id or a pid");

	WorkerInfo w;
	w.id = nla_get_u32(tb[VHOSTX_A_WORKER_ID]);
	w.pid = nla_get_u32(tb[VHOSTX_A_WORKER_PID]);
	if (tb[VHOSTX_A_WORKER_CPU])
		w.cpu = nla_get_u32(tb[VHOSTX_A_WORKER_CPU]);
	if (tb[VHOSTX_A_WORKER_CPU_NS])
		w.cpu_ns = nla_get_u64(tb[VHOSTX_A_WORKER_CPU_NS]);
	if (tb[VHOSTX_A_WORKER_CPUS])
		w.cpus = get_string(tb[VHOSTX_A_WORKER_CPUS]);
	if (tb[VHOSTX_A_WORKER_QUEUES])
		w.queues = nla_get_u32(tb[VHOSTX_A_WORKER_QUEUES]);
	if (tb[VHOSTX_A_WORKER_MODE])
		w.task = nla_get_u32(tb[VHOSTX_A_WORKER_MODE]) == 1;
	return w;
}

} // namespace

DevInfo parse_dev(Bytes bytes)
{
	const std::string op = "parse dev-get reply";
	Message m(bytes, op);
	std::array<nlattr *, VHOSTX_A_DEV_MAX + 1> tb{};
	if (!genlmsg_valid_hdr(m.hdr(), 0))
		malformed(op, "shorter than a generic netlink header");
	int err = genlmsg_parse(m.hdr(), 0, tb.data(), VHOSTX_A_DEV_MAX, dev_policy().data());
	if (err < 0)
		malformed(op, nl_geterror(err));
	if (!tb[VHOSTX_A_DEV_ID])
		malformed(op, "no device id");

	DevInfo d;
	d.id = nla_get_u32(tb[VHOSTX_A_DEV_ID]);
	if (tb[VHOSTX_A_DEV_OWNER_PID])
		d.owner_pid = nla_get_u32(tb[VHOSTX_A_DEV_OWNER_PID]);
	if (tb[VHOSTX_A_DEV_FEATURES])
		d.features = nla_get_u64(tb[VHOSTX_A_DEV_FEATURES]);
	if (tb[VHOSTX_A_DEV_BACKEND_IFINDEX])
		d.backend_ifindex = nla_get_u32(tb[VHOSTX_A_DEV_BACKEND_IFINDEX]);
	if (tb[VHOSTX_A_DEV_BACKEND_IFNAME])
		d.backend_ifname = get_string(tb[VHOSTX_A_DEV_BACKEND_IFNAME]);
	if (tb[VHOSTX_A_DEV_BUSYPOLL_US])
		d.busypoll_us = nla_get_u32(tb[VHOSTX_A_DEV_BUSYPOLL_US]);
	if (tb[VHOSTX_A_DEV_WEIGHT_PACKETS])
		d.weight_packets = nla_get_u32(tb[VHOSTX_A_DEV_WEIGHT_PACKETS]);
	if (tb[VHOSTX_A_DEV_WEIGHT_BYTES])
		d.weight_bytes = nla_get_u32(tb[VHOSTX_A_DEV_WEIGHT_BYTES]);
	// Absent from modules without dirty logging: off.
	if (tb[VHOSTX_A_DEV_LOGGING])
		d.logging = nla_get_u8(tb[VHOSTX_A_DEV_LOGGING]) != 0;
	if (nlattr *queues = tb[VHOSTX_A_DEV_QUEUES]) {
		nlattr *a;
		int rem;
		nla_for_each_nested(a, queues, rem) {
			if (nla_type(a) == VHOSTX_A_QUEUE)
				d.queues.push_back(parse_queue(a, op));
		}
		if (rem >= NLA_HDRLEN)
			malformed(op, "a queue overruns the queues nest");
	}
	// Absent without an owner, and from modules without workers.
	if (nlattr *workers = tb[VHOSTX_A_DEV_WORKERS]) {
		nlattr *a;
		int rem;
		nla_for_each_nested(a, workers, rem) {
			if (nla_type(a) == VHOSTX_A_WORKER)
				d.workers.push_back(parse_worker(a, op));
		}
		if (rem >= NLA_HDRLEN)
			malformed(op, "a worker overruns the workers nest");
	}
	return d;
}

QueueBrokenEvent parse_queue_broken(Bytes bytes)
{
	const std::string op = "parse queue-broken event";
	Message m(bytes, op);
	std::array<nlattr *, VHOSTX_A_QUEUE_MAX + 1> tb{};
	if (!genlmsg_valid_hdr(m.hdr(), 0))
		malformed(op, "shorter than a generic netlink header");
	if (genlmsg_hdr(m.hdr())->cmd != VHOSTX_CMD_QUEUE_BROKEN)
		malformed(op, "command " + std::to_string(genlmsg_hdr(m.hdr())->cmd) +
				      " is not VHOSTX_CMD_QUEUE_BROKEN");
	int err = genlmsg_parse(m.hdr(), 0, tb.data(), VHOSTX_A_QUEUE_MAX, queue_policy().data());
	if (err < 0)
		malformed(op, nl_geterror(err));
	if (!tb[VHOSTX_A_QUEUE_DEV_ID] || !tb[VHOSTX_A_QUEUE_INDEX])
		malformed(op, "no device id or queue index");

	QueueBrokenEvent ev;
	ev.dev_id = nla_get_u32(tb[VHOSTX_A_QUEUE_DEV_ID]);
	ev.queue_index = nla_get_u32(tb[VHOSTX_A_QUEUE_INDEX]);
	if (tb[VHOSTX_A_QUEUE_BROKEN_REASON])
		ev.reason = nla_get_u32(tb[VHOSTX_A_QUEUE_BROKEN_REASON]);
	if (tb[VHOSTX_A_QUEUE_BROKEN_TEXT])
		ev.text = get_string(tb[VHOSTX_A_QUEUE_BROKEN_TEXT]);
	return ev;
}

Ack parse_ack(Bytes bytes)
{
	const std::string op = "parse netlink ack";
	Message m(bytes, op);
	nlmsghdr *nlh = m.hdr();
	Ack ack;
	std::size_t off;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr))
			malformed(op, "truncated nlmsgerr");
		auto *e = static_cast<nlmsgerr *>(nlmsg_data(nlh));
		ack.error = -e->error;
		// The TLVs follow the echoed request: its header only when capped.
		off = NLMSG_HDRLEN + sizeof(nlmsgerr);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
			off += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		// The end of a dump: an int, negative when the dump failed.
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
			return ack;
		int val;
		std::memcpy(&val, nlmsg_data(nlh), sizeof(val));
		ack.error = val < 0 ? -val : 0;
		off = NLMSG_HDRLEN + sizeof(int);
	} else {
		malformed(op, "neither NLMSG_ERROR nor NLMSG_DONE");
	}
	off = NLMSG_ALIGN(off);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return ack;

	std::array<nlattr *, NLMSGERR_ATTR_MAX + 1> tb{};
	auto *first = reinterpret_cast<nlattr *>(reinterpret_cast<uint8_t *>(nlh) + off);
	int len = static_cast<int>(nlh->nlmsg_len - off);
	Policy<NLMSGERR_ATTR_MAX + 1> pol{};
	pol[NLMSGERR_ATTR_MSG].type = NLA_STRING;
	pol[NLMSGERR_ATTR_OFFS].type = NLA_U32;
	pol[NLMSGERR_ATTR_POLICY].type = NLA_NESTED;
	if (nla_parse(tb.data(), NLMSGERR_ATTR_MAX, first, len, pol.data()) < 0)
		return ack; // the errno is what matters; ignore broken TLVs
	if (tb[NLMSGERR_ATTR_MSG])
		ack.message = get_string(tb[NLMSGERR_ATTR_MSG]);
	if (tb[NLMSGERR_ATTR_OFFS])
		ack.offset = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	if (nlattr *p = tb[NLMSGERR_ATTR_POLICY]) {
		nlattr *a;
		int rem;
		nla_for_each_nested(a, p, rem) {
			if (nla_len(a) < static_cast<int>(sizeof(uint64_t)))
				continue;
			if (nla_type(a) == NL_POLICY_TYPE_ATTR_MIN_VALUE_U)
				ack.min = nla_get_u64(a);
			else if (nla_type(a) == NL_POLICY_TYPE_ATTR_MAX_VALUE_U)
				ack.max = nla_get_u64(a);
		}
	}
	return ack;
}

std::optional<int> attr_type_at(Bytes request, uint32_t offset)
{
	std::size_t pos = NLMSG_HDRLEN + GENL_HDRLEN;
	while (pos + sizeof(nlattr) <= request.size()) {
		nlattr a;
		std::memcpy(&a, request.data() + pos, sizeof(a));
		if (a.nla_len < sizeof(nlattr))
			break;
		if (pos == offset)
			return a.nla_type & NLA_TYPE_MASK;
		pos += NLA_ALIGN(a.nla_len);
	}
	return std::nullopt;
}

std::string_view dev_attr_name(int type)
{
	static constexpr std::array<std::string_view, VHOSTX_A_DEV_MAX + 1> names = {
		"",	       "id",	      "owner-pid",   "features",       "backend-ifindex",
		"backend-ifname", "queues", "busypoll-us", "weight-packets", "weight-bytes",
		"pad",	       "logging",    "workers",	    "worker-id",      "worker-cpus",
	};
	static_assert(!names.back().empty(), "a device attribute without a name");
	return type >= 0 && type < static_cast<int>(names.size()) ? names[type] : "";
}

std::string ack_detail(const Ack &ack, Bytes request)
{
	if (ack.message.empty())
		return {};
	std::string s = ack.message;
	if (ack.offset)
		if (auto type = attr_type_at(request, *ack.offset))
			if (auto name = dev_attr_name(*type); !name.empty())
				s = std::string(name) + ": " + s;
	if (ack.min && ack.max)
		s += " (" + std::to_string(*ack.min) + "-" + std::to_string(*ack.max) + ")";
	else if (ack.min)
		s += " (at least " + std::to_string(*ack.min) + ")";
	else if (ack.max)
		s += " (at most " + std::to_string(*ack.max) + ")";
	return s;
}

std::vector<DevInfo> parse_dump(Bytes buf, const std::string &op)
{
	std::vector<DevInfo> devs;
	while (buf.size() >= NLMSG_HDRLEN) {
		nlmsghdr h;
		std::memcpy(&h, buf.data(), sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > buf.size())
			malformed(op, "bad nlmsg_len " + std::to_string(h.nlmsg_len));
		Bytes msg = buf.first(h.nlmsg_len);
		if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) {
			Ack ack = parse_ack(msg);
			if (ack.error)
				throw SysError(ack.error, op, std::generic_category().message(ack.error),
					       ack.message);
			if (h.nlmsg_type == NLMSG_DONE)
				break;
		} else if (h.nlmsg_type >= NLMSG_MIN_TYPE) {
			devs.push_back(parse_dev(msg));
		}
		buf = buf.subspan(std::min<std::size_t>(NLMSG_ALIGN(h.nlmsg_len), buf.size()));
	}
	return devs;
}

int nlerr_to_errno(int nlerr) noexcept
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_MSGSIZE:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return ENOENT;
	case NLE_NOATTR:
		return ENOENT;
	case NLE_MISSING_ATTR:
		return EINVAL;
	case NLE_AF_MISMATCH:
		return EAFNOSUPPORT;
	case NLE_SEQ_MISMATCH:
		return EILSEQ;
	case NLE_MSG_OVERFLOW:
	case NLE_DUMP_INTR:
		return EAGAIN;
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_PARSE_ERR:
		return EBADMSG;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_PERM:
		return EPERM;
	case NLE_PKTLOC_FILE:
		return ENOENT;
	case NLE_OBJ_MISMATCH:
		return EINVAL;
	case NLE_NOCACHE:
		return ENOENT;
	case NLE_BUSY:
		return EBUSY;
	case NLE_IMMUTABLE:
		return EROFS;
	case NLE_NODEV:
		return ENODEV;
	default:
		return EIO;
	}
}

namespace {

[[noreturn]] void throw_nl(int nlerr, const std::string &op)
{
	throw SysError(nlerr_to_errno(nlerr), op, nl_geterror(nlerr));
}

SockPtr connect_genl(const std::string &op)
{
	SockPtr sock(nl_socket_alloc());
	if (!sock)
		throw SysError(ENOMEM, op);
	if (int err = genl_connect(sock.get()); err < 0)
		throw_nl(err, op);
	// Ask for the kernel's extended ACK (its error message) and do not
	// echo our requests back in errors. libnl 3.7 has no wrapper for
	// these; kernels without them simply do not send TLVs.
	int one = 1;
	int fd = nl_socket_get_fd(sock.get());
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return sock;
}

// The state of one request while its replies come in.
struct Transaction {
	std::vector<std::vector<uint8_t>> replies;
	bool done = false;
	Ack ack;
	bool failed = false;
	std::string parse_error;
};

int on_valid(nl_msg *msg, void *arg)
{
	auto *t = static_cast<Transaction *>(arg);
	const nlmsghdr *h = nlmsg_hdr(msg);
	const auto *p = reinterpret_cast<const uint8_t *>(h);
	try {
		t->replies.emplace_back(p, p + h->nlmsg_len);
	} catch (...) {
		t->failed = true;
		t->ack.error = ENOMEM;
		t->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

// NLMSG_DONE ends a dump (and carries its error, if any); an ACK ends a do.
int on_done(nl_msg *msg, void *arg)
{
	auto *t = static_cast<Transaction *>(arg);
	const nlmsghdr *h = nlmsg_hdr(msg);
	t->done = true;
	if (h->nlmsg_type == NLMSG_DONE) {
		try {
			t->ack = parse_ack(Bytes(reinterpret_cast<const uint8_t *>(h), h->nlmsg_len));
			t->failed = t->ack.error != 0;
		} catch (...) {
		}
	}
	return NL_STOP;
}

// libnl hands us the nlmsgerr; its message header sits right before it.
int on_error(sockaddr_nl *, nlmsgerr *e, void *arg)
{
	auto *t = static_cast<Transaction *>(arg);
	const auto *nlh =
		reinterpret_cast<const nlmsghdr *>(reinterpret_cast<const uint8_t *>(e) - NLMSG_HDRLEN);
	t->failed = true;
	t->done = true;
	try {
		t->ack = parse_ack(Bytes(reinterpret_cast<const uint8_t *>(nlh), nlh->nlmsg_len));
	} catch (...) {
		t->ack = Ack{};
		t->ack.error = -e->error;
	}
	return NL_STOP;
}

int any_seq(nl_msg *, void *)
{
	return NL_OK;
}

} // namespace

void Api::subscribe_events()
{
	throw SysError(EOPNOTSUPP, "subscribe to " VHOSTX_GENL_NAME " events");
}

std::optional<QueueBrokenEvent> Api::next_event(int)
{
	throw SysError(EOPNOTSUPP, "receive " VHOSTX_GENL_NAME " events");
}

void Api::set_worker(uint32_t id, const WorkerPin &pin)
{
	throw SysError(EOPNOTSUPP, "pin worker " + std::to_string(pin.worker) + " of device " +
					   std::to_string(id));
}

Client::Client()
{
	sock_ = connect_genl("connect generic netlink");
	family_ = genl_ctrl_resolve(sock_.get(), VHOSTX_GENL_NAME);
	if (family_ == -NLE_OBJ_NOTFOUND)
		throw SysError(ENOENT, "generic netlink family " VHOSTX_GENL_NAME,
			       "vhostx module not loaded");
	if (family_ < 0)
		throw_nl(family_, "resolve generic netlink family " VHOSTX_GENL_NAME);
}

Client::~Client() = default;
Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;

std::vector<std::vector<uint8_t>> Client::transact(nl_msg *msg, const std::string &op, bool dump)
{
	if (int err = nl_send_auto(sock_.get(), msg); err < 0)
		throw_nl(err, op);

	Transaction t;
	CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
	if (!cb)
		throw SysError(ENOMEM, op);
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
	nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_done, &t);
	if (!dump)
		nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_done, &t);
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &t);

	while (!t.done) {
		int err = nl_recvmsgs(sock_.get(), cb.get());
		if (t.failed)
			break;
		if (err < 0)
			throw_nl(err, op);
	}
	if (t.failed && t.ack.error) {
		const nlmsghdr *req = nlmsg_hdr(msg);
		Bytes request(reinterpret_cast<const uint8_t *>(req), req->nlmsg_len);
		throw SysError(t.ack.error, op, std::generic_category().message(t.ack.error),
			       ack_detail(t.ack, request));
	}
	return std::move(t.replies);
}

namespace {

MsgPtr new_request(int family, uint8_t cmd, int flags, const std::string &op)
{
	MsgPtr msg(nlmsg_alloc());
	if (!msg)
		throw SysError(ENOMEM, op);
	if (!genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
			 VHOSTX_GENL_VERSION))
		throw SysError(EMSGSIZE, op);
	return msg;
}

void put_u32(nl_msg *msg, int type, uint32_t v, const std::string &op)
{
	if (int err = nla_put_u32(msg, type, v); err < 0)
		throw_nl(err, op);
}

} // namespace

std::vector<DevInfo> Client::dump_devices()
{
	const std::string op = "dump devices";
	MsgPtr msg = new_request(family_, VHOSTX_CMD_DEV_GET, NLM_F_DUMP, op);
	std::vector<DevInfo> devs;
	for (const auto &r : transact(msg.get(), op, true))
		devs.push_back(parse_dev(r));
	return devs;
}

DevInfo Client::get_device(uint32_t id)
{
	const std::string op = "get device " + std::to_string(id);
	MsgPtr msg = new_request(family_, VHOSTX_CMD_DEV_GET, 0, op);
	put_u32(msg.get(), VHOSTX_A_DEV_ID, id, op);
	auto replies = transact(msg.get(), op, false);
	if (replies.empty())
		throw SysError(EBADMSG, op, "no reply");
	return parse_dev(replies.front());
}

void Client::set_device(uint32_t id, const DevSettings &s)
{
	const std::string op = "set device " + std::to_string(id);
	MsgPtr msg = new_request(family_, VHOSTX_CMD_DEV_SET, 0, op);
	put_u32(msg.get(), VHOSTX_A_DEV_ID, id, op);
	if (s.busypoll_us)
		put_u32(msg.get(), VHOSTX_A_DEV_BUSYPOLL_US, *s.busypoll_us, op);
	if (s.weight_packets)
		put_u32(msg.get(), VHOSTX_A_DEV_WEIGHT_PACKETS, *s.weight_packets, op);
	if (s.weight_bytes)
		put_u32(msg.get(), VHOSTX_A_DEV_WEIGHT_BYTES, *s.weight_bytes, op);
	transact(msg.get(), op, false);
}

void Client::set_worker(uint32_t id, const WorkerPin &pin)
{
	const std::string op = "pin worker " + std::to_string(pin.worker) + " of device " +
			       std::to_string(id) + " to CPUs " + pin.cpus;
	MsgPtr msg = new_request(family_, VHOSTX_CMD_WORKER_SET, 0, op);
	put_u32(msg.get(), VHOSTX_A_DEV_ID, id, op);
	put_u32(msg.get(), VHOSTX_A_DEV_WORKER_ID, pin.worker, op);
	if (int err = nla_put_string(msg.get(), VHOSTX_A_DEV_WORKER_CPUS, pin.cpus.c_str()); err < 0)
		throw_nl(err, op);
	transact(msg.get(), op, false);
}

void Client::subscribe_events()
{
	if (events_)
		return;
	const std::string op = "subscribe to " VHOSTX_GENL_NAME " events";
	int grp = genl_ctrl_resolve_grp(sock_.get(), VHOSTX_GENL_NAME, VHOSTX_MCGRP_EVENTS);
	if (grp < 0)
		throw_nl(grp, op);
	SockPtr ev = connect_genl(op);
	nl_socket_disable_seq_check(ev.get());
	nl_socket_disable_auto_ack(ev.get());
	if (int err = nl_socket_add_membership(ev.get(), grp); err < 0)
		throw_nl(err, op);
	if (int err = nl_socket_set_nonblocking(ev.get()); err < 0)
		throw_nl(err, op);
	events_ = std::move(ev);
}

int Client::event_fd() const noexcept
{
	return events_ ? nl_socket_get_fd(events_.get()) : -1;
}

std::optional<QueueBrokenEvent> Client::next_event(int timeout_ms)
{
	const std::string op = "receive " VHOSTX_GENL_NAME " events";
	if (!events_)
		throw SysError(EINVAL, op, "not subscribed");

	while (pending_.empty()) {
		pollfd pfd{event_fd(), POLLIN, 0};
		int n = ::poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw_errno(op);
		if (n == 0)
			return std::nullopt;

		Transaction t;
		CbPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
		if (!cb)
			throw SysError(ENOMEM, op);
		nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &t);
		// Notifications carry sequence number 0: accept them all.
		nl_cb_set(cb.get(), NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, nullptr);
		int err = nl_recvmsgs(events_.get(), cb.get());
		if (err < 0 && err != -NLE_AGAIN)
			throw_nl(err, op);
		for (const auto &r : t.replies) {
			Bytes b(r);
			if (r.size() >= NLMSG_HDRLEN + GENL_HDRLEN &&
			    r[NLMSG_HDRLEN] == VHOSTX_CMD_QUEUE_BROKEN)
				pending_.push_back(parse_queue_broken(b));
		}
	}
	QueueBrokenEvent ev = std::move(pending_.front());
	pending_.pop_front();
	return ev;
}

} // namespace netlink
} // namespace vhostx
