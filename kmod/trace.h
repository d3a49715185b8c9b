/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhostx tracepoints: kicks, interrupts (sent or suppressed), TX and RX runs,
 * pages marked in the dirty log per run, and queue errors. Usable from perf
 * and bpftrace, e.g.
 *   bpftrace -e 'tracepoint:vhostx:vhostx_signal { @[args->sent] = count(); }'
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vhostx

#if !defined(_VHX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VHX_TRACE_H

#include <linux/tracepoint.h>

#include "compat.h"

TRACE_EVENT(vhostx_kick,
	TP_PROTO(u32 dev, u32 vq),
	TP_ARGS(dev, vq),
	TP_STRUCT__entry(
		__field(u32, dev)
		__field(u32, vq)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->vq = vq;
	),
	TP_printk("dev=%u vq=%u", __entry->dev, __entry->vq)
);

TRACE_EVENT(vhostx_signal,
	TP_PROTO(u32 dev, u32 vq, u16 used_idx, bool sent),
	TP_ARGS(dev, vq, used_idx, sent),
	TP_STRUCT__entry(
		__field(u32, dev)
		__field(u32, vq)
		__field(u16, used_idx)
		__field(bool, sent)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->vq = vq;
		__entry->used_idx = used_idx;
		__entry->sent = sent;
	),
	TP_printk("dev=%u vq=%u used_idx=%u %s", __entry->dev, __entry->vq,
		  __entry->used_idx, __entry->sent ? "sent" : "suppressed")
);

DECLARE_EVENT_CLASS(vhostx_batch,
	TP_PROTO(u32 dev, u32 vq, u32 packets, u64 bytes),
	TP_ARGS(dev, vq, packets, bytes),
	TP_STRUCT__entry(
		__field(u32, dev)
		__field(u32, vq)
		__field(u32, packets)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->vq = vq;
		__entry->packets = packets;
		__entry->bytes = bytes;
	),
	TP_printk("dev=%u vq=%u packets=%u bytes=%llu", __entry->dev,
		  __entry->vq, __entry->packets, __entry->bytes)
);

DEFINE_EVENT(vhostx_batch, vhostx_tx_batch,
	TP_PROTO(u32 dev, u32 vq, u32 packets, u64 bytes),
	TP_ARGS(dev, vq, packets, bytes));

DEFINE_EVENT(vhostx_batch, vhostx_rx_batch,
	TP_PROTO(u32 dev, u32 vq, u32 packets, u64 bytes),
	TP_ARGS(dev, vq, packets, bytes));

TRACE_EVENT(vhostx_log,
	TP_PROTO(u32 dev, u32 vq, u64 pages),
	TP_ARGS(dev, vq, pages),
	TP_STRUCT__entry(
		__field(u32, dev)
		__field(u32, vq)
		__field(u64, pages)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->vq = vq;
		__entry->pages = pages;
	),
	TP_printk("dev=%u vq=%u pages=%llu", __entry->dev, __entry->vq,
		  __entry->pages)
);

TRACE_EVENT(vhostx_queue_error,
	TP_PROTO(u32 dev, u32 vq, u32 reason, const char *text),
	TP_ARGS(dev, vq, reason, text),
	TP_STRUCT__entry(
		__field(u32, dev)
		__field(u32, vq)
		__field(u32, reason)
		__string(text, text)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->vq = vq;
		__entry->reason = reason;
		vhx_assign_str(text, text);
	),
	TP_printk("dev=%u vq=%u reason=%u (%s)", __entry->dev, __entry->vq,
		  __entry->reason, __get_str(text))
);

#endif /* _VHX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
