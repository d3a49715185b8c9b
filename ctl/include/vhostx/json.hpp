// SPDX-License-Identifier: GPL-2.0
// A minimal streaming JSON writer: compact output, strings escaped per
// RFC 8259, invalid UTF-8 replaced by U+FFFD so the output always parses.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace vhostx::json {

// s as a JSON string literal, quotes included.
std::string quote(std::string_view s);

class Writer {
public:
	explicit Writer(std::ostream &out) : out_(out) {}

	Writer &begin_object();
	Writer &end_object();
	Writer &begin_array();
	Writer &end_array();
	// The key of the next value inside an object.
	Writer &key(std::string_view k);

	Writer &value(std::string_view s);
	Writer &value(const char *s) { return value(std::string_view(s)); }
	Writer &value(const std::string &s) { return value(std::string_view(s)); }
	Writer &value(uint64_t v);
	Writer &value(uint32_t v) { return value(static_cast<uint64_t>(v)); }
	Writer &value(bool b);
	Writer &null();
	// A number with a fixed number of decimals (rates).
	Writer &fixed(double v, int decimals);

private:
	void separate();

	std::ostream &out_;
	std::vector<bool> first_; // one per open container: nothing written yet
	bool after_key_ = false;
};

} // namespace vhostx::json
