/* SPDX-License-Identifier: MIT */
/* policy/retry.c - see retry.h. */
#include <string.h>
#include <time.h>

#include "core/internal.h"
#include "policy/retry.h"

int hxc__retry_connect_error(int err, const char *detail)
{
    (void)detail;
    /* A TLS handshake cut by the network is HXC_ECONNECT (transport/tcp.c);
     * HXC_ETLS_HANDSHAKE and HXC_ETLS_VERIFY are TLS's own answers. */
    return err == HXC_ECONNECT || err == HXC_EDNS || err == HXC_ETIMEOUT_CONNECT;
}

int hxc__retry_idempotent(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS") ||
           !strcmp(m, "TRACE") || !strcmp(m, "PUT") || !strcmp(m, "DELETE");
}

double hxc__retry_backoff(unsigned attempt, unsigned long long *rng)
{
    if (attempt <= 2)
        return 0;
    double d = 0.5;
    for (unsigned k = 3; k < attempt && d < 30; k++)
        d *= 2;
    *rng ^= *rng << 13; /* xorshift64 */
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    d *= 1 + 0.1 * ((double)(*rng >> 11) / 9007199254740992.0);
    return d < 30 ? d : 30;
}

/* delay-seconds: 1*DIGIT (capped: a huge value is "too long", not an overflow). */
static double seconds(const char *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        if (s < 1e9)
            s = s * 10 + (v[i] - '0');
    }
    return s;
}

static int month_of(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (!strncmp(m, names + 3 * i, 3))
            return i;
    return -1;
}

/* Reads `n` digits at *p into *out; advances *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* "HH:MM:SS" */
static int clock_of(const char **p, struct tm *tm)
{
    if (digits(p, 2, &tm->tm_hour) || *(*p)++ != ':' || digits(p, 2, &tm->tm_min) ||
        *(*p)++ != ':' || digits(p, 2, &tm->tm_sec))
        return -1;
    return tm->tm_hour < 24 && tm->tm_min < 60 && tm->tm_sec < 61 ? 0 : -1;
}

/* An HTTP-date (RFC 9110 5.6.7) as seconds since the epoch, or -1. Parsed by
 * hand: strptime's day and month names follow the caller's locale. The
 * three forms: "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate), "Sunday,
 * 06-Nov-94 08:49:37 GMT" (RFC 850) and "Sun Nov  6 08:49:37 1994" (asctime). */
static double http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strchr(s, ',');
    int mon;
    if (p != NULL && p[1] == ' ') {
        p += 2;
        if (digits(&p, 2, &tm.tm_mday))
            return -1;
        int rfc850 = *p == '-';
        if (*p != ' ' && !rfc850)
            return -1;
        p++;
        if ((mon = month_of(p)) < 0)
            return -1;
        p += 3;
        if (*p++ != (rfc850 ? '-' : ' '))
            return -1;
        if (rfc850) {
            if (digits(&p, 2, &tm.tm_year))
                return -1;
            if (tm.tm_year < 70) /* two digits: the nearest century (RFC 9110's 50 years) */
                tm.tm_year += 100;
        } else {
            if (digits(&p, 4, &tm.tm_year))
                return -1;
            tm.tm_year -= 1900;
        }
        if (*p++ != ' ' || clock_of(&p, &tm) || strcmp(p, " GMT") != 0)
            return -1;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (strlen(s) != 24 || s[3] != ' ' || (mon = month_of(s + 4)) < 0 || s[7] != ' ')
            return -1;
        p = s + 8;
        if (*p == ' ')
            p++, tm.tm_mday = 0;
        const char *d = p;
        if (digits(&p, (int)(s + 10 - d), &tm.tm_mday) || *p++ != ' ' || clock_of(&p, &tm) ||
            *p++ != ' ' || digits(&p, 4, &tm.tm_year) || *p != '\0')
            return -1;
        tm.tm_year -= 1900;
    }
    tm.tm_mon = mon;
    if (tm.tm_mday < 1 || tm.tm_mday > 31)
        return -1;
    return (double)timegm(&tm);
}

double hxc__retry_after(const char *value, size_t len, double now_unix)
{
    while (len > 0 && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0 || len > 64)
        return -1;
    if (value[0] >= '0' && value[0] <= '9')
        return seconds(value, len);
    char buf[65];
    memcpy(buf, value, len);
    buf[len] = '\0';
    double when = http_date(buf);
    if (when < 0)
        return -1;
    return when > now_unix ? when - now_unix : 0;
}
