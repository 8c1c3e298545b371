/* Timestamps of price files: ISO 8601 dates and date-times (with or
 * without a zone) and epoch seconds or milliseconds, to milliseconds since
 * 1970-01-01T00:00:00Z. Strict: a field is one timestamp and nothing else.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tg_data.h"

/* days from 1970-01-01 to y-m-d (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const int64_t yoe = y - era * 400;
	const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n decimal digits at s into *v */
static bool digits(const char *s, size_t len, size_t at, size_t n, int64_t *v)
{
	if (at + n > len)
		return false;
	int64_t r = 0;
	for (size_t i = 0; i < n; i++) {
		const char ch = s[at + i];
		if (ch < '0' || ch > '9')
			return false;
		r = r * 10 + (ch - '0');
	}
	*v = r;
	return true;
}

/* The fraction after the separator at s[*i] in ms (digits past the
 * third dropped); *i moves past it. -1 without a digit. */
static int fraction_ms(const char *s, size_t len, size_t *i, int64_t *ms)
{
	size_t j = *i + 1, nf = 0;
	int64_t scale = 100, v = 0;
	while (j < len && s[j] >= '0' && s[j] <= '9') {
		if (scale > 0)
			v += (s[j] - '0') * scale;
		scale /= 10;
		j++;
		nf++;
	}
	if (nf == 0)
		return -1;
	*i = j;
	*ms = v;
	return 0;
}

static int parse_epoch(const char *s, size_t len, int64_t *ms)
{
	size_t i = 0;
	int64_t whole = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (i >= 15)
			return -1;
		whole = whole * 10 + (s[i] - '0');
		i++;
	}
	const size_t int_digits = i;
	if (int_digits == 0)
		return -1;
	int64_t frac_ms = 0;
	if (i < len && s[i] == '.' && fraction_ms(s, len, &i, &frac_ms) < 0)
		return -1;
	if (i != len)
		return -1;
	/* up to 11 digits: seconds (to the year 5138); 12 to 14: milliseconds */
	if (int_digits <= 11)
		*ms = whole * 1000 + frac_ms;
	else if (int_digits <= 14 && frac_ms == 0)
		*ms = whole;
	else
		return -1;
	return 0;
}

int tg_time_parse(const char *s, size_t len, int64_t *ms)
{
	if (len == 0 || len > 40)
		return -1;
	/* an ISO date has a '-' at position 4 */
	if (len < 10 || s[4] != '-')
		return parse_epoch(s, len, ms);
	int64_t y, mo, d;
	if (!digits(s, len, 0, 4, &y) || !digits(s, len, 5, 2, &mo) || s[7] != '-' ||
	    !digits(s, len, 8, 2, &d))
		return -1;
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0))
		return -1;
	int64_t t = days_from_civil(y, (int)mo, (int)d) * 86400000;
	size_t i = 10;
	if (i == len) {
		*ms = t;
		return 0;
	}
	if (s[i] != 'T' && s[i] != ' ')
		return -1;
	i++;
	int64_t hh, mm, ss = 0;
	if (!digits(s, len, i, 2, &hh) || i + 2 >= len || s[i + 2] != ':' ||
	    !digits(s, len, i + 3, 2, &mm))
		return -1;
	i += 5;
	if (i < len && s[i] == ':') {
		if (!digits(s, len, i + 1, 2, &ss))
			return -1;
		i += 3;
		int64_t frac = 0;
		if (i < len && (s[i] == '.' || s[i] == ',') && fraction_ms(s, len, &i, &frac) < 0)
			return -1;
		t += frac;
	}
	if (hh > 23 || mm > 59 || ss > 60) /* 60: a leap second, as 00 of the next minute */
		return -1;
	t += ((hh * 60 + mm) * 60 + ss) * 1000;
	if (i < len && s[i] == 'Z') {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		const int sign = s[i] == '+' ? 1 : -1;
		int64_t zh, zm = 0;
		if (!digits(s, len, i + 1, 2, &zh))
			return -1;
		i += 3;
		if (i < len && s[i] == ':') {
			if (!digits(s, len, i + 1, 2, &zm))
				return -1;
			i += 3;
		} else if (i + 2 <= len && digits(s, len, i, 2, &zm)) {
			i += 2;
		}
		if (zh > 18 || zm > 59)
			return -1;
		t -= sign * (zh * 60 + zm) * 60000; /* local = UTC + offset */
	}
	if (i != len)
		return -1;
	*ms = t;
	return 0;
}

int tg_time_format(int64_t ms, char *buf, size_t cap)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - days * 86400000;
	/* civil from days */
	const int64_t z = days + 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const int64_t doe = z - era * 146097;
	const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const int64_t mp = (5 * doy + 2) / 153;
	const int64_t d = doy - (153 * mp + 2) / 5 + 1;
	const int64_t m = mp < 10 ? mp + 3 : mp - 9;
	const int64_t y = yoe + era * 400 + (m <= 2);
	const int64_t sec = rem / 1000;
	return snprintf(buf, cap, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y,
			(long long)m, (long long)d, (long long)(sec / 3600),
			(long long)(sec / 60 % 60), (long long)(sec % 60));
}

int tg_time_span(int64_t ms, char *buf, size_t cap)
{
	const int64_t s = ms / 1000;
	if (ms % 1000 || s == 0)
		return snprintf(buf, cap, "%lld ms", (long long)ms);
	if (s % 86400 == 0)
		return snprintf(buf, cap, "%lld d", (long long)(s / 86400));
	if (s >= 86400)
		return snprintf(buf, cap, "%lld d %lld h", (long long)(s / 86400),
				(long long)(s % 86400 / 3600));
	if (s % 3600 == 0)
		return snprintf(buf, cap, "%lld h", (long long)(s / 3600));
	if (s % 60 == 0)
		return snprintf(buf, cap, "%lld min", (long long)(s / 60));
	return snprintf(buf, cap, "%lld s", (long long)s);
}

int tg_timeframe_parse(const char *s, int64_t *ms)
{
	int64_t n = 0;
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9' && i < 9)
		n = n * 10 + (s[i++] - '0');
	if (i == 0 || n == 0 || !s[i] || s[i + 1])
		return -1;
	static const struct {
		char unit;
		int64_t ms;
	} units[] = {{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}, {'w', 604800000}};
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
		if (s[i] == units[k].unit) {
			*ms = n * units[k].ms;
			return 0;
		}
	return -1;
}
