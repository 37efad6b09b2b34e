/* Calendar arithmetic: leap years, valid dates and days since the Unix epoch. */
#include "util/civil.h"

int tl_civil_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tl_civil_valid(int64_t y, unsigned m, unsigned d)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return 0;
    return d <= mdays[m - 1] + (m == 2 && tl_civil_leap(y));
}

int64_t tl_civil_days(int64_t y, unsigned m, unsigned d)
{
    /* Years start on March 1, so the leap day ends a year; a 400-year era has 146097 days. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                       /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468; /* 719468: days from 0000-03-01 to 1970 */
}

int64_t tl_civil_year(int64_t days)
{
    /* Hinnant's civil_from_days, the year only */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    return (int64_t)yoe + era * 400 + (mp >= 10);
}

int tl_civil_week(int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t monday_based = ((days % 7) + 10) % 7; /* 1970-01-01 was a Thursday: 3 after Monday */
    int64_t yday = days - tl_civil_days(tl_civil_year(days), 1, 1);
    return (int)((yday + 7 - monday_based) / 7);
}
