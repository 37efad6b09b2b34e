/* Private to src/store: how an impression row's items and editions are packed into blobs, for
 * every engine (sqlite_impressions.c, pg_impressions.c). items: the store ids of the row's
 * items, 8 bytes each little-endian (0: unknown to the store); editions: per card with an
 * edition choice, int32 position, int32 dim, float p, float x[dim]. */
#ifndef TL_STORE_IMP_BLOB_H
#define TL_STORE_IMP_BLOB_H

#include "store/store_int.h"

/* *id = the store's id of the impression's patron (created when unknown; 0: anonymous). */
tl_err tl__imp_user(tl_store *st, const char *user, int64_t *id);
int64_t tl__imp_item_at(const unsigned char *items, int k);
/* Row's blobs of imp (malloc'd; free them also on error), its items' ids found through st. */
tl_err tl__imp_row_blobs(tl_store *st, const tl_store_impression *imp, int row,
                         unsigned char **items, int *n_items, unsigned char **eds, int *eds_len);
/* The place of item among items[0..n): position when it is there (>= 0), else its first place;
 * -1 when it is not shown. */
int tl__imp_place(const unsigned char *items, int n, int64_t item, int position);
/* The card's edition choice at position in a row's editions blob, into hit. */
void tl__imp_edition_of(const unsigned char *eds, int len, int position, tl_store_imp_hit *hit);

/* One impression's decisions, rewards and items while a listing hands it out: arrays reused
 * from one impression to the next, names (rewards' types, items' ids) copied. */
typedef struct tl_imp_buf {
    tl_store_imp_row *rows;
    tl_store_imp_reward *rw;
    tl_store_imp_item *items;
    char **names;
    int cap_rows, cap_rw, cap_items, cap_names, n_names;
    int with_items;
} tl_imp_buf;
/* Appends one; TL_ENOMEM when it cannot. */
tl_err tl__imp_add_row(tl_imp_buf *b, int n, tl_store_imp_row row);
tl_err tl__imp_add_reward(tl_imp_buf *b, int n, int row, int position, const char *type,
                          int64_t ts);
tl_err tl__imp_add_item(tl_imp_buf *b, int *n, int row, int position, const char *item);
void tl__imp_buf_next(tl_imp_buf *b); /* the names of the last impression go */
void tl__imp_buf_free(tl_imp_buf *b);

#endif
