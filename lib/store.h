/*
 * store.h - the storage engine (store.c): an environment of named
 * key-value databases, transactions, get/put/del, walks and cursors, the
 * map's room.  It knows no record, member or rule: the domain registers
 * hooks that a write and a commit run (lib/open.c: the audit record, the
 * NSS snapshot).  No other file of lib/ sees LMDB; a database is named by
 * the small integer the domain gave it (its index in the table of names
 * handed to rc_store_env_open: DB_* in txn.h).
 *
 * Errors are RC_ERR_* with a message (rc_errmsg), except RC_ERR_NOTFOUND
 * from a get, a del or a cursor, which is silent: the caller says what
 * was not found.
 *
 * A new kind of record (lib/fleet*.c, say) takes a database: its name in
 * open.c's db_names and a DB_* id in txn.h (in the OPTIONAL mask when an
 * older store lacks it); then, inside rc_txn_begin ... rc_txn_end:
 *
 *     rc_val v;
 *     rc = rc_store_gets(t, DB_X, name, &v);           // RC_ERR_NOTFOUND: none
 *     rc = rc_store_put(t, DB_X, key, klen, p, n, 0);  // or rc_store_putw (codec)
 *     rc = rc_store_foreach(t, DB_X, "pre", 3, fn, ctx);  // fn: RC_OK, RC_WALK_STOP,
 *                                                          // RC_WALK_DEL, or an error
 *
 * Records are encoded by codec.h; a write that NSS may show is noticed by
 * publish.c's write hook, not by the caller.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#ifndef RC_STORE_H
#define RC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

typedef struct rc_store rc_store;
typedef struct rc_txn rc_txn;

/* A key or a value: a view into the store, valid until the transaction
 * ends or the next write in it (copy what must outlive it). */
typedef struct rc_val {
	size_t size;
	void *data;
} rc_val;

/* ---- handles -------------------------------------------------------------
 * The domain's store handle and transaction embed the engine's part as
 * their first member:
 *
 *     struct rc_store { RC_STORE_ENGINE; ...the domain's... };
 *     struct rc_txn { RC_TXN_ENGINE; ...the domain's... };
 *
 * The engine's part of a handle is opaque (made by rc_store_env_open);
 * that of a transaction names its handle S, visible to the domain as t->s,
 * and whether it writes. */
struct rc_engine;
#define RC_STORE_ENGINE struct rc_engine *kv
#define RC_TXN_ENGINE_FIELDS rc_store *s; void *kv_txn; bool write
struct rc_txn_engine {
	RC_TXN_ENGINE_FIELDS;
};
#define RC_TXN_ENGINE union { struct rc_txn_engine engine; struct { RC_TXN_ENGINE_FIELDS; }; }

/* Open the environment in DIR (CREATE: a new one, of MAP_SIZE bytes; 0:
 * the default) with the N databases NAMES (N <= RC_STORE_DB_MAX), read-only
 * when READONLY.  A database of OPTIONAL (bit i: NAMES[i]) may be missing:
 * it is made (in a write transaction of its own) unless READONLY, when its
 * bit is set in *MISSING instead.  An existing data file shorter than its
 * pages claim is refused (damaged) before anything is read. */
#define RC_STORE_DB_MAX 16
int rc_store_env_open(rc_store *s, const char *dir, const char *const *names, int n,
                      uint32_t optional, bool create, bool readonly, size_t map_size,
                      uint32_t *missing);
/* The environment is closed and its part of S freed (S itself is the
 * caller's).  Nothing when it was not opened. */
void rc_store_env_close(rc_store *s);
/* The environment is open (the handle is usable). */
bool rc_store_env_ok(const rc_store *s);

/* ---- transactions ----------------------------------------------------------
 * One store per process, no nested transactions.  A write transaction holds
 * the terminal's stop signals (SIGTSTP, SIGTTIN, SIGTTOU) until it ends, and
 * grows the map first when half of it is used. */
/* Begin the engine's part of T (the rest of T is the caller's, zeroed or
 * set before).  No hook runs. */
int rc_store_txn_begin(rc_store *s, bool write, rc_txn *t);
/* Commit when RC is RC_OK and T writes, else abort; returns RC (or the
 * commit's error).  A commit runs the PRE_COMMIT hooks in the transaction
 * (an error aborts it), commits, then runs the POST_COMMIT hooks (their
 * results are ignored; the stop signals are still held).  An abort (of a
 * read, a refusal, a failed commit) runs the ABORT hooks with the result
 * once the transaction is gone (a hook may begin a transaction of its
 * own). */
int rc_txn_end(rc_txn *t, int rc);
/* T is open (begun and not ended). */
bool rc_txn_open(const rc_txn *t);

/* ---- hooks -------------------------------------------------------------- */
enum { RC_HOOK_PRE_COMMIT = 1, RC_HOOK_POST_COMMIT = 2, RC_HOOK_ABORT = 4 };
/* RC: RC_OK for a commit; the transaction's result for an abort. */
typedef int (*rc_hook_fn)(rc_txn *t, int rc, void *ctx);
/* Run FN at WHEN (RC_HOOK_* ORed), after the hooks added before.  At most
 * 8 hooks; RC_ERR_FULL past them. */
int rc_store_hook_add(rc_store *s, unsigned when, rc_hook_fn fn, void *ctx);
/* The write hook: told of each put (NEW the value) and delete (NEW NULL)
 * under KEY of DB before it is made (it may read the old value with
 * rc_store_get), except puts with RC_PUT_NOHOOK.  An error fails the write. */
typedef int (*rc_write_hook_fn)(rc_txn *t, int db, const rc_val *key, const rc_val *new,
                                void *ctx);
void rc_store_write_hook_set(rc_store *s, rc_write_hook_fn fn, void *ctx);
/* Capture mode (FN NULL: none): FN is told of each write the write hook is
 * told of, after it (it reads the old value with rc_store_get), and a
 * commit of a write transaction becomes an abort: FN is told of it (DB -1,
 * KEY and NEW NULL) in the transaction, which is then aborted and the
 * ABORT hooks run with RC_OK (no commit hook: no audit record, no NSS
 * snapshot); rc_txn_end returns FN's result.  The fleet's writes
 * (fleetwrite.c): changes recorded here and sent to the directory. */
void rc_store_capture_set(rc_store *s, rc_write_hook_fn fn, void *ctx);

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
/* The keys of DB that start with PREFIX ("": all), of RC_STORE_KEY_MAX
 * bytes at most, into a malloc'ed array (for a walk that then rewrites
 * the records it found). */
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
