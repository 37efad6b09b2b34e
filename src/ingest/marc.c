/* The MARC reader: ISO 2709 or MARCXML, one record at a time (memory flat in the file's size).
 * Each record's structure is checked first (YAZ is lenient: it "assumes" numbers and goes on,
 * where an import must name the record and say why). A record in MARC-8 or another legacy
 * character set is read by YAZ (yaz_marc_read_iso2709) and written back as ISO 2709 in UTF-8
 * (yaz_iconv); MARCXML records are read by YAZ (yaz_marc_read_xml) from libxml2's streaming
 * reader and written the same way; a UTF-8 ISO 2709 record, once checked, is already what YAZ
 * would write, and is walked as it is (a third of the import's time saved). The walk maps
 * the record to an item, its details and its copies. MARC 21 and UNIMARC are told apart by
 * their title field (245 against 200). */
#include "ingest/marc.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <libxml/xmlreader.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaz/marcdisp.h>
#include <yaz/wrbuf.h>
#include <yaz/yaz-iconv.h>

#include "ingest/csv.h"
#include "ingest/fields.h"
#include "tailor/ingest.h"

#define REC_MAX 99999     /* ISO 2709's five-digit record length */
#define MAX_FIELDS 4096   /* a record has fewer: 12-byte directory entries in 99999 bytes */
#define MAX_HOLDINGS 1024 /* copies kept per record; more are counted but not listed */
#define PROGRESS_EVERY 4096

/* ---- the structure of ISO 2709 -------------------------------------------------------------- */

static int digits(const unsigned char *s, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static void printable(const unsigned char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f)
            out[o++] = (char)s[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", s[i]);
    }
    out[o] = '\0';
}

int tl__marc_check(const unsigned char *b, size_t n, char *why, size_t wlen)
{
    long len, base, flen, fstart;
    char shown[64];
    if (n < TL_MARC_LEADER + 2) {
        snprintf(why, wlen, "%zu bytes: shorter than a leader and a directory", n);
        return -1;
    }
    if (digits(b, 5, &len) < 0 || (size_t)len != n) {
        snprintf(why, wlen, "the record length (leader/00-04) is not %zu", n);
        return -1;
    }
    if (b[n - 1] != TL_MARC_RS) {
        snprintf(why, wlen, "the record does not end with a record terminator");
        return -1;
    }
    /* blanks are common in exported leaders, and mean the standard two (as YAZ assumes) */
    if ((b[10] != '2' && b[10] != ' ') || (b[11] != '2' && b[11] != ' ')) {
        printable(b + 10, 2, shown, sizeof(shown));
        snprintf(why, wlen, "indicator and subfield code counts (leader/10-11) are '%s', not '22'",
                 shown);
        return -1;
    }
    if (digits(b + 12, 5, &base) < 0) {
        printable(b + 12, 5, shown, sizeof(shown));
        snprintf(why, wlen, "the base address of data (leader/12-16) '%s' is not a number", shown);
        return -1;
    }
    if (base > (long)n - 1 || base < TL_MARC_LEADER + 1) {
        snprintf(why, wlen, "the base address of data %ld is outside the record (%zu bytes)", base,
                 n);
        return -1;
    }
    if (b[base - 1] != TL_MARC_FS) {
        snprintf(why, wlen, "the base address of data %ld does not follow the directory's end",
                 base);
        return -1;
    }
    if ((base - 1 - TL_MARC_LEADER) % 12) {
        snprintf(why, wlen, "the directory is %ld bytes long, not a multiple of 12",
                 base - 1 - TL_MARC_LEADER);
        return -1;
    }
    for (long e = 0; e < (base - 1 - TL_MARC_LEADER) / 12; e++) {
        const unsigned char *d = b + TL_MARC_LEADER + e * 12;
        if (digits(d + 3, 4, &flen) < 0 || digits(d + 7, 5, &fstart) < 0) {
            printable(d, 12, shown, sizeof(shown));
            snprintf(why, wlen, "directory entry %ld ('%s') has no numeric length and start", e + 1,
                     shown);
            return -1;
        }
        printable(d, 3, shown, sizeof(shown));
        if (flen < 1 || base + fstart + flen > (long)n - 1) {
            snprintf(why, wlen, "field %s (directory entry %ld) lies outside the record", shown,
                     e + 1);
            return -1;
        }
        if (b[base + fstart + flen - 1] != TL_MARC_FS) {
            snprintf(why, wlen,
                     "field %s (directory entry %ld) does not end with a field terminator", shown,
                     e + 1);
            return -1;
        }
    }
    return 0;
}

int tl__marc_fields(const char *b, size_t n, tl_marc_field *f, int cap)
{
    long base, flen, fstart;
    const unsigned char *u = (const unsigned char *)b;
    if (n < TL_MARC_LEADER + 1 || digits(u + 12, 5, &base) < 0 || base > (long)n ||
        base < TL_MARC_LEADER + 1)
        return -1;
    int nf = 0;
    for (long p = TL_MARC_LEADER; p + 12 <= base - 1; p += 12) {
        if (digits(u + p + 3, 4, &flen) < 0 || digits(u + p + 7, 5, &fstart) < 0 || flen < 1 ||
            base + fstart + flen > (long)n)
            return -1;
        if (nf < cap) {
            memcpy(f[nf].tag, b + p, 3);
            f[nf].tag[3] = '\0';
            f[nf].data = b + base + fstart;
            f[nf].len = (size_t)flen - (u[base + fstart + flen - 1] == TL_MARC_FS);
        }
        nf++;
    }
    return nf;
}

/* ---- the reader's state --------------------------------------------------------------------- */

typedef struct rdr {
    const tl_marc_opts *o;
    FILE *f;
    const char *base_name; /* the file's name without folders, for ids of records without one */
    long long size, offset;
    xmlTextReaderPtr xr;
    char xml_err[256];
    yaz_marc_t mt;
    WRBUF wr;
    yaz_iconv_t cd_marc8, cd_user;
    int utf8; /* the file is said to be UTF-8: read as it is and checked, never converted */
    unsigned char *raw; /* one ISO 2709 record as read */
    size_t raw_cap;
    tl_marc_field *fl;
    int nf;
    /* the strings of the record being mapped: reserved at once so that they never move */
    char *ar;
    size_t ar_len, ar_cap;
    tl_holding_rec *hold;
    int nhold;
    const char *uniform; /* the record's uniform title (240 / 130), or NULL */
    long recno;
    tl_marc_report *rep;
    tl_diag *d;
} rdr;

/* ---- strings of one record ------------------------------------------------------------------ */

typedef struct sbuf {
    rdr *r;
    size_t start;
} sbuf;

static sbuf s_begin(rdr *r)
{
    return (sbuf){r, r->ar_len};
}

static void s_add(sbuf *s, const char *p, size_t n)
{
    rdr *r = s->r;
    /* reserved for the record's worst case, so this cannot happen; if it did, strings are cut
     * (one byte is always left for the terminator) */
    if (r->ar_len + 1 >= r->ar_cap)
        return;
    if (n > r->ar_cap - r->ar_len - 1)
        n = r->ar_cap - r->ar_len - 1;
    memcpy(r->ar + r->ar_len, p, n);
    r->ar_len += n;
}

static size_t s_len(const sbuf *s)
{
    return s->r->ar_len - s->start;
}

/* Ends the string: NULL when empty (nothing kept). */
static const char *s_end(sbuf *s)
{
    rdr *r = s->r;
    if (r->ar_len == s->start || r->ar_len >= r->ar_cap)
        return NULL;
    r->ar[r->ar_len++] = '\0';
    return r->ar + s->start;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c < 0x20;
}

/* Text with ISBD punctuation trimmed: leading and trailing blanks, and trailing " /:;,=" and a
 * final period (kept after a single capital: "Thomas, D."), control characters as blanks. */
static void clean(const char **p, size_t *n)
{
    const char *s = *p;
    size_t l = *n;
    while (l && is_space((unsigned char)*s)) {
        s++;
        l--;
    }
    for (;;) {
        while (l && is_space((unsigned char)s[l - 1]))
            l--;
        if (l && strchr("/:;,=", s[l - 1])) {
            l--;
            continue;
        }
        if (l > 2 && s[l - 1] == '.' && s[l - 2] != '.' &&
            !(isupper((unsigned char)s[l - 2]) && (l == 2 || !isalpha((unsigned char)s[l - 3])))) {
            l--;
            continue;
        }
        break;
    }
    *p = s;
    *n = l;
}

/* Whether p[0..] starts with a C1 control character (U+0080..U+009F in UTF-8): UNIMARC's and
 * MARC's nonsorting marks (U+0088, U+0089) and the like, which are not text. */
static int c1_at(const char *p, size_t n)
{
    return n >= 2 && (unsigned char)p[0] == 0xC2 && (unsigned char)p[1] >= 0x80 &&
           (unsigned char)p[1] <= 0x9F;
}

/* Appends text with control characters as blanks (C1 ones dropped) and '|' (the list
 * separator) as '/'. */
static void s_add_text(sbuf *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && (unsigned char)p[j] >= 0x20 && p[j] != '|' && p[j] != 0x7f &&
               !c1_at(p + j, n - j))
            j++;
        s_add(s, p + i, j - i);
        if (j < n && c1_at(p + j, n - j)) {
            j += 2;
        } else if (j < n) {
            s_add(s, p[j] == '|' ? "/" : " ", 1);
            j++;
        }
        i = j;
    }
}

/* Whether p[0..n) holds w, in any case (ASCII). */
static int contains_ci(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++)
        if (strncasecmp(p + i, w, wl) == 0)
            return 1;
    return 0;
}

/* The first w in p[0..n), or NULL. */
static const char *strstr_n(const char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++)
        if (memcmp(p + i, w, wl) == 0)
            return p + i;
    return NULL;
}

/* ---- fields and subfields ------------------------------------------------------------------- */

static int tag_is(const tl_marc_field *f, const char *tag)
{
    return f->tag[0] == tag[0] && f->tag[1] == tag[1] && f->tag[2] == tag[2];
}

static const tl_marc_field *field(const rdr *r, const char *tag)
{
    for (int i = 0; i < r->nf; i++)
        if (tag_is(&r->fl[i], tag))
            return &r->fl[i];
    return NULL;
}

static int is_control(const tl_marc_field *f)
{
    return f->tag[0] == '0' && f->tag[1] == '0';
}

static char indicator(const tl_marc_field *f, int which)
{
    return !is_control(f) && f->len > (size_t)which ? f->data[which] : ' ';
}

/* The next subfield of f after *pos (0 = the first): *code, its text at *p, *n. 0 when there is
 * none. */
static int sub_next(const tl_marc_field *f, size_t *pos, char *code, const char **p, size_t *n)
{
    if (is_control(f))
        return 0;
    const char *s = f->data + *pos, *end = f->data + f->len;
    while (s < end && *s != TL_MARC_US)
        s++;
    while (s < end) {
        const char *c = s + 1, *t = c;
        while (t < end && *t != TL_MARC_US)
            t++;
        if (c < t) {
            *code = *c;
            *p = c + 1;
            *n = (size_t)(t - c - 1);
            *pos = (size_t)(t - f->data);
            return 1;
        }
        s = t;
    }
    return 0;
}

/* The first subfield code of f (cleaned), or 0. */
static int sub(const tl_marc_field *f, char code, const char **p, size_t *n)
{
    char c;
    for (size_t at = 0; sub_next(f, &at, &c, p, n);)
        if (c == code) {
            clean(p, n);
            return *n > 0;
        }
    return 0;
}

/* Appends f's subfields whose codes are in codes, cleaned, joined by sep. */
static void s_add_subs(sbuf *s, const tl_marc_field *f, const char *codes, const char *sep)
{
    char c;
    const char *p;
    size_t n;
    for (size_t at = 0; sub_next(f, &at, &c, &p, &n);) {
        if (!strchr(codes, c))
            continue;
        clean(&p, &n);
        if (!n)
            continue;
        if (s_len(s))
            s_add(s, sep, strlen(sep));
        s_add_text(s, p, n);
    }
}

static const char *subs_of(rdr *r, const tl_marc_field *f, const char *codes, const char *sep)
{
    if (!f)
        return NULL;
    sbuf s = s_begin(r);
    s_add_subs(&s, f, codes, sep);
    return s_end(&s);
}

/* ---- lists ('|'-separated, without repeats) ------------------------------------------------- */

static int list_has(const sbuf *s, const char *p, size_t n)
{
    const char *l = s->r->ar + s->start, *end = s->r->ar + s->r->ar_len;
    while (l < end) {
        const char *e = memchr(l, '|', (size_t)(end - l));
        if (!e)
            e = end;
        if ((size_t)(e - l) == n && memcmp(l, p, n) == 0)
            return 1;
        l = e + 1;
    }
    return 0;
}

/* Appends the element that s2 (just added at the end of the arena, after mark) holds, unless
 * it is empty or already listed: then it is taken back. */
static void list_take(sbuf *list, size_t mark)
{
    rdr *r = list->r;
    const char *p = r->ar + mark;
    size_t n = r->ar_len - mark;
    r->ar_len = mark;
    clean(&p, &n);
    if (!n || list_has(list, p, n))
        return;
    char tmp[1024];
    if (n > sizeof(tmp))
        n = sizeof(tmp);
    memcpy(tmp, p, n); /* p may overlap where it goes */
    if (s_len(list))
        s_add(list, "|", 1);
    s_add(list, tmp, n);
}

/* Adds to list the subfields codes of every field with one of tags (joined by sep). */
static void list_fields(rdr *r, sbuf *list, const char *const *tags, const char *codes,
                        const char *sep)
{
    for (int i = 0; i < r->nf; i++)
        for (int t = 0; tags[t]; t++)
            if (tag_is(&r->fl[i], tags[t])) {
                size_t mark = r->ar_len;
                sbuf one = s_begin(r);
                s_add_subs(&one, &r->fl[i], codes, sep);
                list_take(list, mark);
                break;
            }
}

/* UNIMARC names: $a surname, $b forenames (often ", Isaac"). */
static void list_unimarc_names(rdr *r, sbuf *list, const char *const *tags)
{
    for (int i = 0; i < r->nf; i++)
        for (int t = 0; tags[t]; t++)
            if (tag_is(&r->fl[i], tags[t])) {
                const char *a, *b;
                size_t an, bn;
                size_t mark = r->ar_len;
                if (!sub(&r->fl[i], 'a', &a, &an))
                    break;
                sbuf one = s_begin(r);
                s_add_text(&one, a, an);
                if (sub(&r->fl[i], 'b', &b, &bn)) {
                    while (bn && (*b == ',' || *b == ' ')) {
                        b++;
                        bn--;
                    }
                    if (bn) {
                        s_add(&one, ", ", 2);
                        s_add_text(&one, b, bn);
                    }
                }
                list_take(list, mark);
                break;
            }
}

/* ---- values --------------------------------------------------------------------------------- */

/* The first run of four digits in p[0..n) as a year. */
static int64_t year_in(const char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if (i && isdigit((unsigned char)p[i - 1]))
            continue;
        if (isdigit((unsigned char)p[i]) && isdigit((unsigned char)p[i + 1]) &&
            isdigit((unsigned char)p[i + 2]) && isdigit((unsigned char)p[i + 3]) &&
            (i + 4 == n || !isdigit((unsigned char)p[i + 4])))
            return (p[i] - '0') * 1000 + (p[i + 1] - '0') * 100 + (p[i + 2] - '0') * 10 +
                   (p[i + 3] - '0');
    }
    return TL_ABSENT;
}

/* The first number in p[0..n) ("v. 3", "no. 12.5", "4"), or NaN. */
static double number_in(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)p[i])) {
            char buf[32];
            size_t k = 0;
            while (i < n && k + 1 < sizeof(buf) && (isdigit((unsigned char)p[i]) || p[i] == '.'))
                buf[k++] = p[i++];
            buf[k] = '\0';
            return strtod(buf, NULL);
        }
    return NAN;
}

/* An ISBN without hyphens and qualifiers ("0914378287 (pbk.)" -> "0914378287"). */
static const char *isbn_of(rdr *r, const char *p, size_t n)
{
    sbuf s = s_begin(r);
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (isdigit((unsigned char)c) || c == 'X' || c == 'x')
            s_add(&s, c == 'x' ? "X" : &p[i], 1);
        else if (c != '-')
            break;
    }
    return s_len(&s) >= 10 ? s_end(&s) : (r->ar_len = s.start, NULL);
}

/* A work key: the title proper (the nonfiling characters skipped) and the first creator's
 * surname, lowercased, letters and digits only: the editions and formats of one work meet. */
static const char *work_of(rdr *r, const char *title, size_t tlen, const char *authors)
{
    if (!title || !tlen)
        return NULL;
    sbuf s = s_begin(r);
    s_add(&s, "w:", 2);
    int space = 0;
    for (int part = 0; part < 2; part++) {
        const char *p = part ? authors : title;
        size_t n = part ? (authors ? strcspn(authors, ",|") : 0) : tlen;
        if (part)
            s_add(&s, "/", 1), space = 0;
        for (size_t i = 0; p && i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (isalnum(c) || c >= 0x80) {
                if (space && s_len(&s) > 2)
                    s_add(&s, " ", 1);
                char lc = (char)tolower(c);
                s_add(&s, c >= 0x80 ? (const char *)&p[i] : &lc, 1);
                space = 0;
            } else {
                space = 1;
            }
        }
    }
    return s_end(&s);
}

/* ---- the kind of record ---------------------------------------------------------------------- */

typedef struct kind {
    const char *type, *format;
} kind;

static kind kind_of(const rdr *r, const char *leader, int unimarc)
{
    char t = leader[6], lvl = leader[7];
    if (lvl == 's' || (!unimarc && lvl == 'i'))
        return (kind){"journal", "serial"};
    if (lvl == 'a' || (!unimarc && lvl == 'b'))
        return (kind){"article", "article"};
    switch (t) {
    case 'a':
    case 't': {
        /* books: online (008/23 'o', 's' or 'q'), an online carrier, or "[electronic resource]" */
        const tl_marc_field *f008 = field(r, "008"), *f338 = field(r, "338"),
                            *f245 = field(r, "245");
        const char *p;
        size_t n;
        if (!unimarc && f008 && f008->len > 23 && strchr("osq", f008->data[23]) && f008->data[23])
            return (kind){"ebook", "ebook"};
        if (f338 && sub(f338, 'a', &p, &n) && n >= 6 && strncasecmp(p, "online", 6) == 0)
            return (kind){"ebook", "ebook"};
        if (f245 && sub(f245, 'h', &p, &n) && contains_ci(p, n, "electronic"))
            return (kind){"ebook", "ebook"};
        return (kind){"book", t == 't' || (unimarc && t == 'b') ? "manuscript" : "book"};
    }
    case 'g':
        return (kind){"video", "video"};
    case 'i':
    case 'j':
        return (kind){"audio", t == 'j' ? "music recording" : "audio"};
    case 'e':
    case 'f':
        return (kind){"other", "map"};
    case 'c':
    case 'd':
        return (kind){"other", "score"};
    case 'k':
        return (kind){"other", "image"};
    case 'l':
    case 'm':
        return (kind){"other", "computer file"};
    case 'o':
        return (kind){"other", "kit"};
    case 'p':
        return (kind){"other", "mixed materials"};
    case 'r':
        return (kind){"other", "object"};
    default:
        return (kind){"other", NULL};
    }
}

/* ---- holdings ------------------------------------------------------------------------------- */

static int flag_set(const tl_marc_field *f, char code)
{
    const char *p;
    size_t n;
    return sub(f, code, &p, &n) && !(n == 1 && p[0] == '0');
}

/* One copy from a Koha 952 (MARC 21), Koha 995 (UNIMARC) or MARC 852. */
static void holding(rdr *r, const tl_marc_field *f, const char *id, int n_of_tag)
{
    tl_holding_rec h = {.available = 1};
    const char *p;
    size_t n;
    int koha = tag_is(f, "952"), koha_u = tag_is(f, "995");
    const char *copy_codes = koha ? "9p" : koha_u ? "9f" : "p";
    for (const char *c = copy_codes; *c && !h.copy; c++)
        if (sub(f, *c, &p, &n))
            h.copy = subs_of(r, f, (char[]){*c, 0}, "");
    if (!h.copy) {
        char buf[32];
        sbuf s = s_begin(r);
        s_add_text(&s, id, strlen(id));
        int k = snprintf(buf, sizeof(buf), "#%s-%d", f->tag, n_of_tag);
        s_add(&s, buf, (size_t)k);
        h.copy = s_end(&s);
    }
    if (koha) {
        h.branch = subs_of(r, f, sub(f, 'b', &p, &n) ? "b" : "a", "");
        h.location = subs_of(r, f, "c", "");
        h.status = sub(f, 'q', &p, &n) ? "on loan"
                   : flag_set(f, '0')  ? "withdrawn"
                   : flag_set(f, '1')  ? "lost"
                   : flag_set(f, '7')  ? "not for loan"
                   : flag_set(f, '4')  ? "damaged"
                                       : "available";
    } else if (koha_u) {
        h.branch = subs_of(r, f, sub(f, 'c', &p, &n) ? "c" : "b", "");
        h.location = subs_of(r, f, "e", "");
        h.status = sub(f, 'n', &p, &n) ? "on loan"
                   : flag_set(f, 'o')  ? "not for loan"
                                       : "available";
    } else {
        h.branch = subs_of(r, f, sub(f, 'b', &p, &n) ? "b" : "a", "");
        h.location = subs_of(r, f, "c", "");
    }
    if (h.status)
        h.available = strcmp(h.status, "available") == 0 || strcmp(h.status, "damaged") == 0;
    if (r->nhold < MAX_HOLDINGS)
        r->hold[r->nhold++] = h;
}

/* ---- mapping -------------------------------------------------------------------------------- */

/* The id: 001, else the first 035$a, else the file's name and the record's number. */
static const char *id_of(rdr *r)
{
    const tl_marc_field *f = field(r, "001");
    const char *p;
    size_t n;
    if (f) {
        p = f->data;
        n = f->len;
        clean(&p, &n);
        if (n) {
            sbuf s = s_begin(r);
            s_add(&s, p, n); /* checked for control characters by the caller */
            return s_end(&s);
        }
    }
    if ((f = field(r, "035")) && sub(f, 'a', &p, &n))
        return subs_of(r, f, "a", "");
    char buf[48];
    sbuf s = s_begin(r);
    s_add_text(&s, r->base_name, strlen(r->base_name));
    s_add(&s, buf, (size_t)snprintf(buf, sizeof(buf), "#%ld", r->recno));
    return s_end(&s);
}

static const char *extra_of(rdr *r, const char *const keys[], const char *const vals[], int n)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (int i = 0; i < n; i++)
        if (vals[i])
            json_object_set_new(o, keys[i], json_string(vals[i]));
    const char *out = NULL;
    if (json_object_size(o)) {
        char *txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
        if (txt) {
            sbuf s = s_begin(r);
            s_add(&s, txt, strlen(txt));
            out = s_end(&s);
            free(txt);
        }
    }
    json_decref(o);
    return out;
}

static void map_marc21(rdr *r, tl_marc_rec *m, const char *leader)
{
    const tl_marc_field *f;
    const char *p;
    size_t n;
    static const char *const creators[] = {"100", "110", "111", "700", "710", "711", NULL};
    static const char *const subjects[] = {"600", "610", "611", "630", "650", "651", "655", NULL};
    kind k = kind_of(r, leader, 0);
    m->item.type = k.type;
    m->item.format = k.format;
    /* title: 245 $a $n $p, then $b as the subtitle */
    const char *title_proper = NULL;
    size_t tp_len = 0;
    if ((f = field(r, "245"))) {
        sbuf s = s_begin(r);
        s_add_subs(&s, f, "anp", " ");
        title_proper = r->ar + s.start;
        tp_len = s_len(&s);
        if (sub(f, 'b', &p, &n)) {
            if (tp_len)
                s_add(&s, ": ", 2);
            s_add_text(&s, p, n);
        }
        m->item.title = s_end(&s);
        /* nonfiling characters (245 ind2): "The " of "The pragmatic programmer" */
        char skip = indicator(f, 1);
        if (title_proper && skip >= '1' && skip <= '9' && (size_t)(skip - '0') < tp_len) {
            title_proper += skip - '0';
            tp_len -= (size_t)(skip - '0');
        }
    }
    sbuf a = s_begin(r);
    list_fields(r, &a, creators, "abq", " ");
    m->item.authors = s_end(&a);
    sbuf su = s_begin(r);
    list_fields(r, &su, subjects, "ab", " ");
    m->item.subjects = s_end(&su);
    /* publication: 264 with ind2 1, else 260; the year from 008/07-10 when $c has none */
    const tl_marc_field *pub = NULL;
    for (int i = 0; i < r->nf; i++)
        if (tag_is(&r->fl[i], "264") && indicator(&r->fl[i], 1) == '1') {
            pub = &r->fl[i];
            break;
        }
    if (!pub)
        pub = field(r, "260");
    if (!pub)
        pub = field(r, "264");
    if (pub) {
        m->details.publisher = subs_of(r, pub, "b", "; ");
        if (sub(pub, 'c', &p, &n))
            m->item.year = year_in(p, n);
    }
    const tl_marc_field *f008 = field(r, "008");
    if (m->item.year == TL_ABSENT && f008 && f008->len >= 11)
        m->item.year = year_in(f008->data + 7, 4);
    /* language: 008/35-37, else 041$a */
    if (f008 && f008->len >= 38 && isalpha((unsigned char)f008->data[35]) &&
        isalpha((unsigned char)f008->data[36]) && isalpha((unsigned char)f008->data[37])) {
        sbuf s = s_begin(r);
        for (int i = 35; i < 38; i++)
            s_add(&s, (char[]){(char)tolower((unsigned char)f008->data[i])}, 1);
        m->item.language = s_end(&s);
    } else if ((f = field(r, "041")) && sub(f, 'a', &p, &n) && n >= 3) {
        sbuf s = s_begin(r);
        s_add_text(&s, p, 3);
        m->item.language = s_end(&s);
    }
    if ((f = field(r, "020")) && sub(f, 'a', &p, &n))
        m->details.isbn = isbn_of(r, p, n);
    if ((f = field(r, "022")) && sub(f, 'a', &p, &n))
        m->details.issn = subs_of(r, f, "a", "");
    m->details.edition = subs_of(r, field(r, "250"), "ab", " ");
    m->details.extent = subs_of(r, field(r, "300"), "abce", " ");
    /* series: the authorized form (830, 800/810/811 $t) before the transcribed one (490) */
    static const struct {
        const char *tag, *codes;
    } series[] = {{"830", "anp"}, {"800", "t"}, {"810", "t"}, {"811", "t"}, {"490", "a"}};
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]) && !m->details.series; i++)
        if ((f = field(r, series[i].tag)) &&
            (m->details.series = subs_of(r, f, series[i].codes, " ")))
            m->details.series_volume = sub(f, 'v', &p, &n) ? number_in(p, n) : NAN;
    /* contents and summary: every 505 and 520 */
    sbuf c = s_begin(r), sm;
    for (int i = 0; i < r->nf; i++)
        if (tag_is(&r->fl[i], "505"))
            s_add_subs(&c, &r->fl[i], "agrt", " ");
    m->details.contents = s_end(&c);
    sm = s_begin(r);
    for (int i = 0; i < r->nf; i++)
        if (tag_is(&r->fl[i], "520"))
            s_add_subs(&sm, &r->fl[i], "ab", " ");
    m->details.summary = s_end(&sm);
    /* the work: its uniform title (240, 130) when it has one, which translations share */
    const tl_marc_field *uf = field(r, "240");
    int nonfiling = 1;
    if (!uf)
        uf = field(r, "130"), nonfiling = 0;
    if (uf && (r->uniform = subs_of(r, uf, "anp", " "))) {
        char skip = indicator(uf, nonfiling);
        size_t ul = strlen(r->uniform), nf = skip >= '1' && skip <= '9' ? (size_t)(skip - '0') : 0;
        if (nf >= ul)
            nf = 0;
        m->details.work = work_of(r, r->uniform + nf, ul - nf, m->item.authors);
    } else {
        m->details.work = work_of(r, title_proper, tp_len, m->item.authors);
    }
}

static void map_unimarc(rdr *r, tl_marc_rec *m, const char *leader)
{
    const tl_marc_field *f;
    const char *p;
    size_t n;
    static const char *const persons[] = {"700", "701", "702", NULL};
    static const char *const bodies[] = {"710", "711", "712", NULL};
    static const char *const subjects[] = {"600", "601", "602", "604", "605",
                                           "606", "607", "608", "610", NULL};
    kind k = kind_of(r, leader, 1);
    m->item.type = k.type;
    m->item.format = k.format;
    const char *title_proper = NULL;
    size_t tp_len = 0;
    if ((f = field(r, "200"))) {
        const char *raw, *nse;
        size_t rn;
        /* the work's title: without a leading nonsorting part (U+0088 ... U+0089) */
        if (sub(f, 'a', &raw, &rn) && rn > 2 && (unsigned char)raw[0] == 0xC2 &&
            (unsigned char)raw[1] == 0x88 && (nse = strstr_n(raw, rn, "\xC2\x89"))) {
            sbuf w = s_begin(r);
            s_add_text(&w, nse + 2, rn - (size_t)(nse + 2 - raw));
            title_proper = r->ar + w.start;
            tp_len = s_len(&w);
            s_end(&w);
        }
        sbuf s = s_begin(r);
        s_add_subs(&s, f, "a", " ");
        if (!title_proper) {
            title_proper = r->ar + s.start;
            tp_len = s_len(&s);
        }
        if (sub(f, 'e', &p, &n)) {
            if (tp_len)
                s_add(&s, ": ", 2);
            s_add_text(&s, p, n);
        }
        m->item.title = s_end(&s);
    }
    sbuf a = s_begin(r);
    list_unimarc_names(r, &a, persons);
    list_fields(r, &a, bodies, "ab", " ");
    m->item.authors = s_end(&a);
    sbuf su = s_begin(r);
    list_fields(r, &su, subjects, "a", " ");
    m->item.subjects = s_end(&su);
    const tl_marc_field *pub = field(r, "210");
    if (!pub)
        pub = field(r, "214");
    if (pub) {
        m->details.publisher = subs_of(r, pub, "c", "; ");
        if (sub(pub, 'd', &p, &n))
            m->item.year = year_in(p, n);
    }
    /* 100$a/09-12: the first date */
    if (m->item.year == TL_ABSENT && (f = field(r, "100")) && sub(f, 'a', &p, &n) && n >= 13)
        m->item.year = year_in(p + 9, 4);
    if ((f = field(r, "101")) && sub(f, 'a', &p, &n) && n >= 3) {
        sbuf s = s_begin(r);
        s_add_text(&s, p, 3);
        m->item.language = s_end(&s);
    }
    if ((f = field(r, "010")) && sub(f, 'a', &p, &n))
        m->details.isbn = isbn_of(r, p, n);
    if ((f = field(r, "011")) && sub(f, 'a', &p, &n))
        m->details.issn = subs_of(r, f, "a", "");
    m->details.edition = subs_of(r, field(r, "205"), "a", " ");
    m->details.extent = subs_of(r, field(r, "215"), "acd", " ");
    /* series: 225 (as printed), else the linked 410 */
    if ((f = field(r, "225")) || (f = field(r, "410"))) {
        m->details.series = subs_of(r, f, "a", " ");
        m->details.series_volume = sub(f, 'v', &p, &n) ? number_in(p, n) : NAN;
    }
    m->details.contents = subs_of(r, field(r, "327"), "a", " ");
    m->details.summary = subs_of(r, field(r, "330"), "a", " ");
    m->details.work = work_of(r, title_proper, tp_len, m->item.authors);
}

/* Maps the UTF-8 record whose leader is leader (fields in r->fl) to m. */
static void map_record(rdr *r, tl_marc_rec *m, const char *leader, int unimarc)
{
    memset(m, 0, sizeof(*m));
    r->uniform = NULL;
    m->recno = r->recno;
    m->unimarc = unimarc;
    m->item.year = m->item.added = m->item.copies = m->item.available = TL_ABSENT;
    m->details.series_volume = NAN;
    m->details.starts = m->details.ends = TL_ABSENT;
    m->item.id = id_of(r);
    m->item.id_len = strlen(m->item.id);
    if (unimarc)
        map_unimarc(r, m, leader);
    else
        map_marc21(r, m, leader);
    /* links (856 $u): a cover image, and the first other link */
    const char *link = NULL, *p;
    size_t n;
    for (int i = 0; i < r->nf; i++) {
        const tl_marc_field *f = &r->fl[i];
        if (!tag_is(f, "856") || !sub(f, 'u', &p, &n))
            continue;
        const char *note = subs_of(r, f, "3yz", " ");
        int cover = (note && contains_ci(note, strlen(note), "cover")) ||
                    (n > 4 && (strncasecmp(p + n - 4, ".jpg", 4) == 0 ||
                               strncasecmp(p + n - 4, ".png", 4) == 0 ||
                               strncasecmp(p + n - 4, ".gif", 4) == 0 ||
                               (n > 5 && strncasecmp(p + n - 5, ".jpeg", 5) == 0)));
        if (cover && !m->details.cover)
            m->details.cover = subs_of(r, f, "u", "");
        else if (!cover && !link)
            link = subs_of(r, f, "u", "");
    }
    /* content, media and carrier types (336-338), kept in extra */
    static const char *const keys[] = {"carrier", "content",       "link",
                                       "media",   "record_format", "uniform_title"};
    const char *vals[6] = {subs_of(r, field(r, "338"), "a", "; "),
                           subs_of(r, field(r, "336"), "a", "; "),
                           link,
                           subs_of(r, field(r, "337"), "a", "; "),
                           unimarc ? "unimarc" : NULL,
                           r->uniform};
    m->item.extra = extra_of(r, keys, vals, 6);
    /* copies: Koha 952 / 995, MARC 852; the earliest date accessioned (952$d) as added */
    r->nhold = 0;
    int n952 = 0, n995 = 0, n852 = 0;
    for (int i = 0; i < r->nf; i++) {
        const tl_marc_field *f = &r->fl[i];
        if (tag_is(f, "952")) {
            holding(r, f, m->item.id, ++n952);
            int64_t t;
            if (sub(f, 'd', &p, &n) && tl_parse_time(p, n, &t) == 0 &&
                (m->item.added == TL_ABSENT || t < m->item.added))
                m->item.added = t;
        } else if (unimarc && tag_is(f, "995")) {
            holding(r, f, m->item.id, ++n995);
        } else if (tag_is(f, "852")) {
            holding(r, f, m->item.id, ++n852);
        }
    }
    m->holdings = r->hold;
    m->nholdings = r->nhold;
    if (r->nhold) {
        m->item.copies = r->nhold;
        m->item.available = 0;
        for (int i = 0; i < r->nhold; i++)
            m->item.available += r->hold[i].available;
    }
}

/* ---- one record ------------------------------------------------------------------------------ */

static tl_err bad(rdr *r, const char *fmt, ...) TL_PRINTF(2, 3);

/* A bad record: stops the reading, or is counted (skip_bad). */
static tl_err bad(rdr *r, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tl_diag one;
    tl_diag_set(&one, r->o->path, 0, NULL, "record %ld: %s", r->recno, msg);
    if (r->rep->nbad < TL_MARC_FIRST_BAD)
        r->rep->bad[r->rep->nbad++] = one;
    if (!r->o->skip_bad) {
        *r->d = one;
        return TL_EPARSE;
    }
    r->rep->skipped++;
    return TL_OK;
}

static int has_tag(const tl_marc_field *f, int nf, const char *tag)
{
    for (int i = 0; i < nf && i < MAX_FIELDS; i++)
        if (tag_is(&f[i], tag))
            return 1;
    return 0;
}

/* The walk of the UTF-8 record b[0..len) (well formed), the checks of what it holds, the
 * mapping and fn. */
static tl_err deliver(rdr *r, const char *b, size_t len, int unimarc, tl_marc_fn fn, void *ctx)
{
    r->nf = tl__marc_fields(b, len, r->fl, MAX_FIELDS);
    if (r->nf < 0)
        return bad(r, "YAZ could not write the record back (over %d bytes?)", REC_MAX);
    if (r->nf > MAX_FIELDS)
        r->nf = MAX_FIELDS;
    for (int i = 0; i < r->nf; i++) {
        long at = tl_utf8_check(r->fl[i].data, r->fl[i].len);
        if (at >= 0)
            return bad(r, "field %s is not valid UTF-8 (byte %ld)%s", r->fl[i].tag, at + 1,
                       r->o->encoding ? "" : ": name the file's character set with --encoding");
    }
    const tl_marc_field *f001 = field(r, "001");
    if (f001 && tl__id_bad_char(f001->data, f001->len) >= 0)
        return bad(r, "the control number (001) holds a control character");
    if (unimarc && r->o->refuse_unimarc)
        return bad(r, "this is a UNIMARC record (200 title, no 245), and UNIMARC is refused");
    /* every string of the record fits in a few times its size */
    size_t need = 4 * len + 65536;
    if (need > r->ar_cap) {
        char *a = realloc(r->ar, need);
        if (!a)
            return TL_ENOMEM;
        r->ar = a;
        r->ar_cap = need;
    }
    r->ar_len = 0;
    tl_marc_rec m;
    map_record(r, &m, b, unimarc);
    tl_diag d;
    tl_diag_clear(&d);
    tl_err rc = fn(ctx, &m, &d);
    if (rc == TL_EPARSE || rc == TL_EINVAL)
        return bad(r, "%s", d.msg[0] ? d.msg : "rejected by the store");
    if (rc != TL_OK) {
        *r->d = d;
        return rc;
    }
    r->rep->accepted++;
    r->rep->unimarc += unimarc;
    return TL_OK;
}

/* UNIMARC's character set (100$a/26-27) from the raw record: "50" is UTF-8. */
static int unimarc_utf8(const unsigned char *b, size_t n)
{
    tl_marc_field f[64];
    int nf = tl__marc_fields((const char *)b, n, f, 64);
    for (int i = 0; i < nf && i < 64; i++) {
        const char *p;
        size_t l;
        char c;
        size_t at = 0;
        if (tag_is(&f[i], "100") && sub_next(&f[i], &at, &c, &p, &l) && c == 'a' && l >= 28)
            return p[26] == '5' && p[27] == '0';
    }
    return 1; /* no coded data: taken as UTF-8, which the check after conversion confirms */
}

static tl_err one_iso2709(rdr *r, size_t n, tl_marc_fn fn, void *ctx)
{
    char why[200];
    if (tl__marc_check(r->raw, n, why, sizeof(why)) < 0)
        return bad(r, "%s", why);
    tl_marc_field f[MAX_FIELDS];
    int nf = tl__marc_fields((const char *)r->raw, n, f, MAX_FIELDS);
    int unimarc = has_tag(f, nf, "200") && !has_tag(f, nf, "245");
    yaz_iconv_t cd = NULL;
    if (r->cd_user || r->utf8)
        cd = r->cd_user;
    else if (unimarc ? !unimarc_utf8(r->raw, n) : r->raw[9] != 'a')
        cd = unimarc ? NULL : r->cd_marc8; /* UNIMARC in another set: refused after the check */
    if (!cd) /* UTF-8 already, and its structure checked: nothing for YAZ to convert */
        return deliver(r, (const char *)r->raw, n, unimarc, fn, ctx);
    yaz_marc_iconv(r->mt, cd);
    if (yaz_marc_read_iso2709(r->mt, (const char *)r->raw, (int)n) <= 0)
        return bad(r, "YAZ cannot read it as ISO 2709");
    wrbuf_rewind(r->wr);
    if (yaz_marc_write_iso2709(r->mt, r->wr) != 0)
        return bad(r, "YAZ cannot convert it to UTF-8");
    yaz_iconv(cd, NULL, NULL, NULL, NULL); /* a fresh state for the next record */
    return deliver(r, wrbuf_buf(r->wr), wrbuf_len(r->wr), unimarc, fn, ctx);
}

static int progress(rdr *r)
{
    if (r->o->progress && r->recno % PROGRESS_EVERY == 0)
        r->o->progress(r->o->progress_ctx, r->offset, r->size, r->recno);
    return 0;
}

static tl_err read_iso2709(rdr *r, tl_marc_fn fn, void *ctx)
{
    for (;;) {
        int c;
        while ((c = getc(r->f)) != EOF && (c == '\n' || c == '\r' || c == ' ' || c == 0x1A))
            r->offset++; /* line ends or padding between records */
        if (c == EOF)
            break;
        r->recno++;
        long long at = r->offset;
        r->raw[0] = (unsigned char)c;
        size_t got = 1 + fread(r->raw + 1, 1, 4, r->f);
        long len;
        if (got < 5 || digits(r->raw, 5, &len) < 0 || len < 5) {
            /* no length to go by: the record ends at the next record terminator */
            size_t k = got;
            int stop = got > 0 && r->raw[got - 1] == TL_MARC_RS;
            while (!stop && (c = getc(r->f)) != EOF) {
                if (k < r->raw_cap)
                    r->raw[k++] = (unsigned char)c;
                stop = c == TL_MARC_RS;
            }
            r->offset += (long long)k;
            r->rep->damaged = !stop;
            tl_err rc = bad(r, "offset %lld: the record length (leader/00-04) is not a number", at);
            if (rc != TL_OK || !stop)
                return rc;
            continue;
        }
        got += fread(r->raw + 5, 1, (size_t)len - 5, r->f);
        r->offset += (long long)got;
        if (got < (size_t)len) {
            r->rep->damaged = 1;
            return bad(r, "offset %lld: the leader gives %ld bytes, but the file ends after %zu",
                       at, len, got);
        }
        tl_err rc = one_iso2709(r, (size_t)len, fn, ctx);
        if (rc != TL_OK)
            return rc;
        progress(r);
    }
    return ferror(r->f) ? TL_EIO : TL_OK;
}

/* ---- MARCXML -------------------------------------------------------------------------------- */

static int local_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The attribute's length, or -1 when it is missing. */
static long attr_len(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return -1;
    long l = (long)strlen((const char *)v);
    xmlFree(v);
    return l;
}

/* What YAZ would read past or "assume": a tag that is not three characters, a subfield
 * without a one-character code, indicators longer than one. */
static int check_xml(const xmlNode *rec, char *why, size_t wlen)
{
    int k = 0;
    for (const xmlNode *n = rec->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        k++;
        if (local_is(n, "controlfield") || local_is(n, "datafield")) {
            xmlChar *tag = xmlGetProp(n, (const xmlChar *)"tag");
            int ok = tag && strlen((const char *)tag) == 3;
            char shown[16];
            snprintf(shown, sizeof(shown), "%s", tag ? (const char *)tag : "");
            xmlFree(tag);
            if (!ok) {
                snprintf(why, wlen, "element %d (%s) has the tag '%s', not three characters", k,
                         (const char *)n->name, shown);
                return -1;
            }
            if (local_is(n, "controlfield"))
                continue;
            if (attr_len(n, "ind1") > 1 || attr_len(n, "ind2") > 1) {
                snprintf(why, wlen, "field %s has an indicator longer than one character", shown);
                return -1;
            }
            int s = 0;
            for (const xmlNode *c = n->children; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE) {
                    s++;
                    if (!local_is(c, "subfield") || attr_len(c, "code") != 1) {
                        snprintf(why, wlen, "field %s, subfield %d has no one-character code",
                                 shown, s);
                        return -1;
                    }
                }
        }
    }
    return 0;
}

static void xml_error(void *arg, const char *msg, xmlParserSeverities sev,
                      xmlTextReaderLocatorPtr loc)
{
    rdr *r = arg;
    if (sev != XML_PARSER_SEVERITY_ERROR && sev != XML_PARSER_SEVERITY_VALIDITY_ERROR &&
        r->xml_err[0])
        return;
    if (!r->xml_err[0] || sev == XML_PARSER_SEVERITY_ERROR) {
        snprintf(r->xml_err, sizeof(r->xml_err), "line %d: %s", xmlTextReaderLocatorLineNumber(loc),
                 msg);
        size_t l = strlen(r->xml_err);
        while (l && r->xml_err[l - 1] == '\n')
            r->xml_err[--l] = '\0';
    }
}

static tl_err xml_record(rdr *r, xmlNode *node, tl_marc_fn fn, void *ctx)
{
    char why[200];
    if (check_xml(node, why, sizeof(why)) < 0)
        return bad(r, "%s", why);
    if (yaz_marc_read_xml(r->mt, node) != 0)
        return bad(r, "YAZ cannot read it as a MARCXML record");
    wrbuf_rewind(r->wr);
    if (yaz_marc_write_iso2709(r->mt, r->wr) != 0)
        return bad(r, "YAZ cannot write it as ISO 2709 (over %d bytes?)", REC_MAX);
    tl_marc_field f[MAX_FIELDS];
    int nf = tl__marc_fields(wrbuf_buf(r->wr), wrbuf_len(r->wr), f, MAX_FIELDS);
    return deliver(r, wrbuf_buf(r->wr), wrbuf_len(r->wr),
                   has_tag(f, nf, "200") && !has_tag(f, nf, "245"), fn, ctx);
}

static int xml_input(void *ctx, char *buf, int len)
{
    rdr *r = ctx;
    size_t n = fread(buf, 1, (size_t)len, r->f);
    r->offset += (long long)n;
    return n == 0 && ferror(r->f) ? -1 : (int)n;
}

static tl_err read_xml(rdr *r, tl_marc_fn fn, void *ctx)
{
    r->xr =
        xmlReaderForIO(xml_input, NULL, r, r->o->path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (!r->xr) {
        tl_diag_set(r->d, r->o->path, 0, NULL, "cannot read the file as XML");
        return TL_EIO;
    }
    xmlTextReaderSetErrorHandler(r->xr, xml_error, r);
    yaz_marc_iconv(r->mt, NULL);
    int rc = xmlTextReaderRead(r->xr), in_record = 0;
    while (rc == 1) {
        if (xmlTextReaderNodeType(r->xr) != XML_READER_TYPE_ELEMENT ||
            strcmp((const char *)xmlTextReaderConstLocalName(r->xr), "record") != 0) {
            rc = xmlTextReaderRead(r->xr);
            continue;
        }
        r->recno++;
        xmlNode *node = xmlTextReaderExpand(r->xr);
        if (!node) {
            rc = -1; /* not well formed inside the record */
            in_record = 1;
            break;
        }
        tl_err e = xml_record(r, node, fn, ctx);
        if (e != TL_OK)
            return e;
        progress(r);
        rc = xmlTextReaderNext(r->xr); /* past the record's subtree */
    }
    if (rc < 0 || r->xml_err[0]) {
        /* the XML itself is broken: the record at fault is bad, and nothing after it can be
         * read (skip_bad keeps the records before it) */
        if (!in_record)
            r->recno++;
        r->rep->damaged = 1;
        return bad(r, "not well-formed XML (%s); the file cannot be read past it",
                   r->xml_err[0] ? r->xml_err : "parse error");
    }
    return TL_OK;
}

/* ---- the entry point ------------------------------------------------------------------------ */

void tl_marc_opts_init(tl_marc_opts *o)
{
    memset(o, 0, sizeof(*o));
}

tl_err tl_marc_read(const tl_marc_opts *o, tl_marc_fn fn, void *ctx, tl_marc_report *rep,
                    tl_diag *d)
{
    tl_marc_report rdummy;
    tl_diag ddummy;
    if (!rep)
        rep = &rdummy;
    if (!d)
        d = &ddummy;
    memset(rep, 0, sizeof(*rep));
    tl_diag_clear(d);
    rdr r = {.o = o, .rep = rep, .d = d};
    tl_err rc = TL_OK;
    if (!o->path) {
        tl_diag_set(d, NULL, 0, NULL, "no file to read");
        return TL_EINVAL;
    }
    const char *slash = strrchr(o->path, '/');
    r.base_name = strcmp(o->path, "-") == 0 ? "stdin" : slash ? slash + 1 : o->path;
    r.utf8 = o->encoding &&
             (strcasecmp(o->encoding, "utf-8") == 0 || strcasecmp(o->encoding, "utf8") == 0);
    if (o->encoding && !r.utf8 && !(r.cd_user = yaz_iconv_open("utf-8", o->encoding))) {
        tl_diag_set(d, NULL, 0, "encoding", "YAZ knows no character set '%s'", o->encoding);
        return TL_EINVAL;
    }
    r.f = strcmp(o->path, "-") == 0 ? stdin : fopen(o->path, "rb");
    if (!r.f) {
        tl_diag_set(d, o->path, 0, NULL, "cannot open: %s", strerror(errno));
        rc = TL_EIO;
        goto out;
    }
    struct stat sb;
    if (fstat(fileno(r.f), &sb) == 0 && S_ISREG(sb.st_mode))
        r.size = (long long)sb.st_size;
    r.mt = yaz_marc_create();
    r.wr = wrbuf_alloc();
    r.cd_marc8 = yaz_iconv_open("utf-8", "marc8s"); /* precomposed: "à", not "a" + U+0300 */
    r.raw_cap = REC_MAX + 1;
    r.raw = malloc(r.raw_cap);
    r.fl = malloc(MAX_FIELDS * sizeof(*r.fl));
    r.hold = malloc(MAX_HOLDINGS * sizeof(*r.hold));
    if (!r.mt || !r.wr || !r.cd_marc8 || !r.raw || !r.fl || !r.hold) {
        rc = TL_ENOMEM;
        goto out;
    }
    yaz_marc_xml(r.mt, YAZ_MARC_ISO2709);
    tl_marc_format fmt = o->format;
    if (fmt == TL_MARC_AUTO) {
        int c;
        while ((c = getc(r.f)) != EOF && isspace(c))
            ;
        if (c == 0xEF) /* a UTF-8 byte order mark before an XML declaration */
            fmt = TL_MARC_XML;
        else
            fmt = c == '<' ? TL_MARC_XML : TL_MARC_ISO2709;
        /* the skipped blanks matter to neither reader */
        if (c != EOF && ungetc(c, r.f) == EOF) {
            rc = TL_EIO;
            goto out;
        }
    }
    rep->format = fmt;
    rc = fmt == TL_MARC_XML ? read_xml(&r, fn, ctx) : read_iso2709(&r, fn, ctx);
    if (rc == TL_EIO && !d->msg[0])
        tl_diag_set(d, o->path, 0, NULL, "read error: %s", strerror(errno));
    if (o->progress)
        o->progress(o->progress_ctx, r.size ? r.size : r.offset, r.size, r.recno);
out:
    rep->records = r.recno;
    if (r.xr)
        xmlFreeTextReader(r.xr);
    if (r.f && r.f != stdin)
        fclose(r.f);
    if (r.mt)
        yaz_marc_destroy(r.mt);
    if (r.wr)
        wrbuf_destroy(r.wr);
    if (r.cd_marc8)
        yaz_iconv_close(r.cd_marc8);
    if (r.cd_user)
        yaz_iconv_close(r.cd_user);
    free(r.raw);
    free(r.fl);
    free(r.hold);
    free(r.ar);
    return rc;
}
