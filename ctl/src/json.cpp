// SPDX-License-Identifier: GPL-2.0
#include "vhostx/json.hpp"

#include <cmath>
#include <cstdio>

namespace vhostx::json {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
std::size_t utf8_len(std::string_view s, std::size_t i)
{
	auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
	auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
	unsigned char c = b(i);
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return cont(i + 1) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (!cont(i + 1) || !cont(i + 2))
			return 0;
		if (c == 0xE0 && b(i + 1) < 0xA0)
			return 0; // overlong
		if (c == 0xED && b(i + 1) >= 0xA0)
			return 0; // surrogate
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3))
			return 0;
		if (c == 0xF0 && b(i + 1) < 0x90)
			return 0; // overlong
		if (c == 0xF4 && b(i + 1) >= 0x90)
			return 0; // above U+10FFFF
		return 4;
	}
	return 0;
}

} // namespace

std::string quote(std::string_view s)
{
	std::string r;
	r.reserve(s.size() + 2);
	r += '"';
	for (std::size_t i = 0; i < s.size();) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		switch (c) {
		case '"':
			r += "\\\"";
			break;
		case '\\':
			r += "\\\\";
			break;
		case '\b':
			r += "\\b";
			break;
		case '\f':
			r += "\\f";
			break;
		case '\n':
			r += "\\n";
			break;
		case '\r':
			r += "\\r";
			break;
		case '\t':
			r += "\\t";
			break;
		default:
			if (c < 0x20 || c == 0x7F) {
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				r += buf;
			} else if (std::size_t n = utf8_len(s, i); n > 0) {
				r.append(s.substr(i, n));
				i += n;
				continue;
			} else {
				r += "\\ufffd";
			}
		}
		++i;
	}
	r += '"';
	return r;
}

void Writer::separate()
{
	if (after_key_) {
		after_key_ = false;
		return;
	}
	if (!first_.empty()) {
		if (!first_.back())
			out_ << ',';
		first_.back() = false;
	}
}

Writer &Writer::begin_object()
{
	separate();
	out_ << '{';
	first_.push_back(true);
	return *this;
}

Writer &Writer::end_object()
{
	first_.pop_back();
	out_ << '}';
	return *this;
}

Writer &Writer::begin_array()
{
	separate();
	out_ << '[';
	first_.push_back(true);
	return *this;
}

Writer &Writer::end_array()
{
	first_.pop_back();
	out_ << ']';
	return *this;
}

Writer &Writer::key(std::string_view k)
{
	separate();
	out_ << quote(k) << ':';
	after_key_ = true;
	return *this;
}

Writer &Writer::value(std::string_view s)
{
	separate();
	out_ << quote(s);
	return *this;
}

Writer &Writer::value(uint64_t v)
{
	separate();
	out_ << v;
	return *this;
}

Writer &Writer::value(bool b)
{
	separate();
	out_ << (b ? "true" : "false");
	return *this;
}

Writer &Writer::null()
{
	separate();
	out_ << "null";
	return *this;
}

Writer &Writer::fixed(double v, int decimals)
{
	separate();
	if (!std::isfinite(v)) {
		out_ << "null";
		return *this;
	}
	char buf[64];
	std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	out_ << buf;
	return *this;
}

} // namespace vhostx::json
