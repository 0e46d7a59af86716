/*
 * store.h - the storage engine: an environment of named key-value
 * databases, transactions, get/put/del, walks, counters, the map's room.
 * It knows no record, member or rule: the domain registers hooks that a
 * write and a commit run (audit, the NSS snapshot).  No other file of lib/
 * sees LMDB; a database is named by the small integer the domain gave it
 * (its index in the table of names handed to the open).
 *
 * Errors are RC_ERR_* with a message (rc_errmsg), except RC_ERR_NOTFOUND
 * from a get, a del or a cursor, which is silent: the caller says what
 * was not found.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_STORE_H
#define RC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rc_store rc_store;
typedef struct rc_txn rc_txn;

/* A key or a value: a view into the store, valid until the transaction
 * ends or the next write in it (copy what must outlive it). */
typedef struct rc_val {
	size_t size;
	void *data;
} rc_val;

/* ---- records ------------------------------------------------------------ */
/* Keys are 1 to 511 bytes. */
int rc_store_get(rc_txn *t, int db, const void *key, size_t klen, rc_val *out);
static inline int rc_store_gets(rc_txn *t, int db, const char *key, rc_val *out)
{
	return rc_store_get(t, db, key, strlen(key), out);
}
#define RC_PUT_APPEND 1u   /* KEY sorts after every key of DB (a log) */
#define RC_PUT_NOHOOK 2u   /* the write hook is not told (bookkeeping of a hook) */
int rc_store_put(rc_txn *t, int db, const void *key, size_t klen, const void *val,
                 size_t vlen, unsigned flags);
int rc_store_del(rc_txn *t, int db, const void *key, size_t klen);
/* Every record of DB goes; with REMOVE the database too (a store of an
 * older schema, made by the tests). */
int rc_store_drop(rc_txn *t, int db, bool remove);
/* The number of records of DB. */
int rc_store_count(rc_txn *t, int db, size_t *n);
/* The bytes of the map in use and its size. */
int rc_store_usage(rc_store *s, uint64_t *used, uint64_t *mapsize);

/* A counter: a decimal string in a setting record (the codec's), read as
 * 0..UINT64_MAX; RC_ERR_NOTFOUND (silent) when missing. */
int rc_store_get_u64(rc_txn *t, int db, const char *key, uint64_t *out);
int rc_store_put_u64(rc_txn *t, int db, const char *key, uint64_t v);

/* ---- walks -------------------------------------------------------------- */
/* Each record of DB whose key starts with PREFIX (PLEN 0: every record), in
 * key order.  FN returns RC_OK to go on, RC_WALK_STOP to stop (foreach
 * then returns RC_OK), RC_WALK_DEL to delete this record and go on, or an
 * error, which foreach returns. */
#define RC_WALK_STOP (-0x7ffffff1)   /* no RC_* code, no callback's own value */
#define RC_WALK_DEL  (-0x7ffffff2)
typedef int (*rc_walk_fn)(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx);
int rc_store_foreach(rc_txn *t, int db, const void *prefix, size_t plen, rc_walk_fn fn,
                     void *ctx);
/* The same from the first key >= FROM (a walk resumed; FROM starts with
 * PREFIX). */
int rc_store_foreach_from(rc_txn *t, int db, const void *prefix, size_t plen,
                          const void *from, size_t flen, rc_walk_fn fn, void *ctx);
#define RC_STORE_KEY_MAX 32
/* The keys of DB that start with PREFIX ("": all), of RC_STORE_KEY_MAX bytes at
 * most, into a malloc'ed array (a walk that then rewrites records). */
int rc_store_keys(rc_txn *t, int db, const char *prefix, char (**out)[RC_STORE_KEY_MAX + 1],
                  size_t *count);

/* A cursor, for walks that go back or jump (the audit log). */
typedef struct rc_cursor rc_cursor;
enum {
	RC_CUR_FIRST, RC_CUR_LAST, RC_CUR_NEXT, RC_CUR_PREV,
	RC_CUR_SET_KEY,     /* K exactly */
	RC_CUR_SET_RANGE,   /* the first key >= K */
};
int rc_cursor_open(rc_txn *t, int db, rc_cursor **c);
/* RC_OK with K and V set; RC_ERR_NOTFOUND (silent) past either end. */
int rc_cursor_get(rc_cursor *c, rc_val *k, rc_val *v, int op);
/* Delete the record under C (the write hook is told). */
int rc_cursor_del(rc_cursor *c);
void rc_cursor_close(rc_cursor *c);

/* ---- the map ------------------------------------------------------------ */
/* Grow the map now (no transaction open) so that BYTES more fit in one
 * write transaction: a batch (member import) that cannot grow it midway. */
int rc_store_reserve(rc_store *s, size_t bytes);

#endif
