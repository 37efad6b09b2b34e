/* A generated MARC 21 catalogue for bench/marc_import.sh: N records in ISO 2709 (UTF-8, written
 * with YAZ), deterministic by seed, varied in titles, creators, subjects, series and holdings
 * (Koha 952 copies across eight branches, some on loan, lost or not for loan), and in kinds
 * (books, ebooks, videos, music, serials, maps).
 *   gen_marc N [SEED] > catalogue.mrc */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/marc.h"

static uint64_t state;

static uint64_t next(void) /* splitmix64 */
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int pick(int n)
{
    return (int)(next() % (uint64_t)n);
}

static int chance(int percent)
{
    return pick(100) < percent;
}

#define N_OF(a) ((int)(sizeof(a) / sizeof(a[0])))

static const char *const words[] = {
    "shadow",   "river",   "garden",  "winter",   "silent",  "empire",   "glass",    "forgotten",
    "night",    "city",    "ocean",   "mountain", "secret",  "daughter", "war",      "light",
    "stone",    "memory",  "island",  "fire",     "house",   "storm",    "crown",    "letters",
    "summer",   "north",   "wolves",  "machine",  "orchard", "harbor",   "silver",   "broken",
    "last",     "hidden",  "lost",    "golden",   "burning", "distant",  "quiet",    "wild",
    "song",     "bridge",  "kingdom", "road",     "star",    "thread",   "library",  "engine",
    "map",      "mirror",  "heart",   "winds",    "clock",   "tower",    "forest",   "sea",
    "sky",      "snow",    "names",   "salt",     "iron",    "paper",    "dreams",   "children",
    "stranger", "journey", "pilgrim", "atlas",    "theory",  "history",  "practice", "guide"};
static const char *const given[] = {
    "Anna", "Ben",   "Clara", "David", "Elena", "Farid", "Grace", "Hugo",  "Ines",  "Jonas",
    "Kofi", "Lena",  "Maya",  "Nils",  "Olga",  "Pablo", "Quinn", "Rosa",  "Sami",  "Tara",
    "Umar", "Vera",  "Wei",   "Xenia", "Yusuf", "Zoe",   "Amara", "Bruno", "Chloe", "Dmitri",
    "Esme", "Felix", "Greta", "Hiro",  "Ida",   "Jules", "Kai",   "Lucia", "Marek", "Nadia"};
static const char *const family[] = {
    "Abara",   "Bergmann", "Castillo", "Dubois",    "Eriksen",   "Fontaine",  "Garcia",  "Haddad",
    "Ivanova", "Jensen",   "Kowalski", "Laurent",   "Moreau",    "Nakamura",  "Okafor",  "Petrov",
    "Quispe",  "Rossi",    "Santos",   "Tanaka",    "Ueda",      "Varga",     "Weber",   "Xu",
    "Yilmaz",  "Zhang",    "Adeyemi",  "Brennan",   "Costa",     "Dahl",      "Ekström", "Fischer",
    "Gómez",   "Horvath",  "Ito",      "Jovanović", "Kim",       "Lindqvist", "Müller",  "Novak",
    "Olsen",   "Park",     "Rahman",   "Schmidt",   "Takahashi", "Umarov",    "Vogel",   "Walsh"};
static const char *const topics[] = {"Detective and mystery stories",
                                     "Science fiction",
                                     "Fantasy fiction",
                                     "Love stories",
                                     "Historical fiction",
                                     "Cooking",
                                     "Gardening",
                                     "Climate change",
                                     "World War, 1939-1945",
                                     "Artificial intelligence",
                                     "Mathematics",
                                     "Poetry",
                                     "Philosophy",
                                     "Psychology",
                                     "Economics",
                                     "Political science",
                                     "Biography",
                                     "Travel",
                                     "Music",
                                     "Art",
                                     "Architecture",
                                     "Photography",
                                     "Birds",
                                     "Ocean",
                                     "Space flight",
                                     "Medicine",
                                     "Nutrition",
                                     "Parenting",
                                     "Education",
                                     "Computer programming",
                                     "Religion",
                                     "Mythology",
                                     "Sports",
                                     "Humor",
                                     "Folklore",
                                     "Language and languages",
                                     "Law",
                                     "Ecology",
                                     "Astronomy",
                                     "Chemistry"};
static const char *const places[] = {"Europe", "Africa", "Japan",  "Brazil", "Canada",
                                     "India",  "France", "Norway", "Mexico", "Australia"};
static const char *const branches[] = {"CENTRAL", "NORTH",  "SOUTH", "EAST",
                                       "WEST",    "HARBOR", "HILL",  "MOBILE"};
static const char *const locations[] = {"FIC", "NF", "CHILD", "YA", "REF", "AV", "LP"};
static const char *const langs[] = {"eng", "eng", "eng", "eng", "fre", "ger", "spa", "ita"};

static void cap_words(char *buf, size_t len, int n)
{
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < len; i++) {
        const char *w = words[pick(N_OF(words))];
        o += (size_t)snprintf(buf + o, len - o, "%s%c%s", i ? " " : "",
                              i == 0 ? (char)(w[0] - 'a' + 'A') : w[0], w + 1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_marc N [SEED] > FILE.mrc\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    state = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    tl_marc_out *o = tl_marc_out_new(stdout);
    if (!o)
        return 1;
    long long itemnumber = 0;
    char id[32], title[160], sub[160], a1[96], a2[96], year[16], f008[96], isbn[24], summary[400];
    char series[160], vol[16], s1[128], s2[128], s3[128];
    for (long long r = 1; r <= n; r++) {
        int k = pick(100);
        const char *tl = k < 84   ? "am"
                         : k < 89 ? "am"
                         : k < 93 ? "gm"
                         : k < 96 ? "jm"
                         : k < 98 ? "as"
                                  : "em";
        int ebook = k >= 84 && k < 89;
        snprintf(id, sizeof(id), "b%07lld", r);
        tl_marc_out_begin(o, tl, id);
        int y = 1900 + pick(126);
        snprintf(year, sizeof(year), "%d", y);
        const char *lang = langs[pick(N_OF(langs))];
        snprintf(f008, sizeof(f008), "200101s%d    xxu     %c     000 1 %s d", y, ebook ? 'o' : ' ',
                 lang);
        tl_marc_out_control(o, "008", f008);
        snprintf(isbn, sizeof(isbn), "978%010" PRIu64, (uint64_t)(next() % 10000000000ULL));
        tl_marc_out_field(o, "020", "  ", "a", isbn, NULL);
        snprintf(a1, sizeof(a1), "%s, %s", family[pick(N_OF(family))], given[pick(N_OF(given))]);
        tl_marc_out_field(o, "100", "1 ", "a", a1, "e", "author.", NULL);
        cap_words(title, sizeof(title), 1 + pick(4));
        int has_sub = chance(40);
        if (has_sub)
            cap_words(sub, sizeof(sub), 2 + pick(3));
        tl_marc_out_field(o, "245", "10", "a", title, "b", has_sub ? sub : NULL, "c", a1, NULL);
        if (chance(10))
            tl_marc_out_field(o, "250", "  ", "a", "2nd ed.", NULL);
        tl_marc_out_field(o, "264", " 1", "a", "New York :", "b", "Example Press,", "c", year,
                          NULL);
        tl_marc_out_field(o, "300", "  ", "a", "320 p. ;", "c", "24 cm", NULL);
        tl_marc_out_field(o, "336", "  ", "a", "text", NULL);
        tl_marc_out_field(o, "338", "  ", "a", ebook ? "online resource" : "volume", NULL);
        if (chance(15)) {
            cap_words(s1, sizeof(s1), 2);
            snprintf(series, sizeof(series), "%s saga", s1);
            snprintf(vol, sizeof(vol), "v. %d", 1 + pick(12));
            tl_marc_out_field(o, "490", "1 ", "a", series, "v", vol, NULL);
            tl_marc_out_field(o, "830", " 0", "a", series, "v", vol, NULL);
        }
        if (chance(40)) {
            cap_words(s1, sizeof(s1), 6 + pick(8));
            cap_words(s2, sizeof(s2), 6 + pick(8));
            snprintf(summary, sizeof(summary), "%s. %s.", s1, s2);
            tl_marc_out_field(o, "520", "  ", "a", summary, NULL);
        }
        for (int s = 0, ns = 1 + pick(3); s < ns; s++) {
            const char *t = topics[pick(N_OF(topics))];
            if (chance(30)) {
                snprintf(s3, sizeof(s3), "%s", places[pick(N_OF(places))]);
                tl_marc_out_field(o, "650", " 0", "a", t, "z", s3, NULL);
            } else {
                tl_marc_out_field(o, "650", " 0", "a", t, NULL);
            }
        }
        if (chance(30)) {
            snprintf(a2, sizeof(a2), "%s, %s", family[pick(N_OF(family))],
                     given[pick(N_OF(given))]);
            tl_marc_out_field(o, "700", "1 ", "a", a2, "e", "translator.", NULL);
        }
        if (ebook)
            tl_marc_out_field(o, "856", "40", "u", "https://ebooks.example/read", NULL);
        for (int c = 0, nc = ebook ? 0 : 1 + pick(4); c < nc; c++) {
            char num[24], bar[24], acc[16];
            snprintf(num, sizeof(num), "%lld", ++itemnumber);
            snprintf(bar, sizeof(bar), "39%010lld", itemnumber);
            snprintf(acc, sizeof(acc), "%d-%02d-%02d", y < 1990 ? 1990 + pick(30) : y, 1 + pick(12),
                     1 + pick(28));
            const char *home = branches[pick(N_OF(branches))];
            int st = pick(100);
            tl_marc_out_field(o, "952", "  ", "9", num, "a", home, "b",
                              chance(90) ? home : branches[pick(N_OF(branches))], "c",
                              locations[pick(N_OF(locations))], "d", acc, "p", bar, "q",
                              st < 20 ? "2026-12-24" : NULL, "7", st >= 20 && st < 22 ? "1" : NULL,
                              "1", st == 22 ? "1" : NULL, NULL);
        }
        if (tl_marc_out_end(o) != 0) {
            fprintf(stderr, "gen_marc: cannot write record %lld\n", r);
            return 1;
        }
    }
    tl_marc_out_free(o);
    return fflush(stdout) == 0 ? 0 : 1;
}
