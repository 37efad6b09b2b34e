/* The web page's files (web/), built into the binary by CMakeLists.txt (one generated C file
 * per file, with scripts/embed_file.cmake) and served by handlers_web.c. */
#ifndef TL_SERVER_WEB_ASSETS_H
#define TL_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct tl_web_asset {
    const char *name;          /* the file's name in web/, "index.html" */
    const char *ctype;         /* its Content-Type */
    const unsigned char *data; /* its bytes, NUL-terminated */
    const size_t *len;         /* its length without the NUL */
} tl_web_asset;

/* tl__web_assets_n files, sorted by name, then a row of zeros. */
extern const tl_web_asset tl__web_assets[];
extern const size_t tl__web_assets_n;

#endif
