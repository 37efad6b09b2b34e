/* Dates of the proleptic Gregorian calendar as days since 1970-01-01, in UTC: the one place
 * Tailor turns a calendar date into a number (importers, the synthetic library, the command
 * line). Pure arithmetic for any int32 year, no time zones and no libc: timegm is not ISO C,
 * needs a struct tm and fails outside time_t. Thread-safe. */
#ifndef TL_UTIL_CIVIL_H
#define TL_UTIL_CIVIL_H

#include <stdint.h>

/* 1 for a leap year (divisible by 4, except centuries not divisible by 400), else 0. Year 0 is
 * 1 BC and a leap year; -1 is 2 BC. */
int tl_civil_leap(int64_t y);

/* 1 when m is 1..12 and d is a day of that month in year y (February 29 only in leap years). */
int tl_civil_valid(int64_t y, unsigned m, unsigned d);

/* Days from 1970-01-01 to y-m-d (negative before 1970), for a date tl_civil_valid accepts and
 * |y| < 2^31: Howard Hinnant's days_from_civil, exact. Unix seconds of midnight UTC are this
 * times 86400. */
int64_t tl_civil_days(int64_t y, unsigned m, unsigned d);
/* The year of the day days after 1970-01-01 (the inverse of tl_civil_days, for the year). */
int64_t tl_civil_year(int64_t days);
/* The week of the year of Unix time t (UTC) as strftime's %W: weeks begin on Monday, and the
 * days before the year's first Monday are week 0 (0..53). */
int tl_civil_week(int64_t t);

#endif
