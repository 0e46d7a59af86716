/*
 * rollcalld - keeps this host's store a replica of the fleet's directory
 * (rollcalld(8)).
 *
 * RFC 4533 refreshAndPersist with libldap's ldap_sync_* client.  What the
 * directory sends is queued in memory; the queue is applied to the store
 * (lib/replica.c) in one short write transaction when nothing more is
 * waiting on the connection (or the queue is long), so that no write
 * transaction ever waits for the network and a login never waits long
 * for the store.  The sync cookie is committed in the transaction of the
 * changes it covers: during a refresh not at all, at its end with the
 * refresh's last changes (and the present phase's sweep), in the persist
 * phase with each batch.  Signals arrive on a signalfd: between messages
 * they are read at once, and during a refresh (ldap_sync_init runs until
 * it ends) a callback that sees one shuts the connection down.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "rollcall.h"
#include "fleetldap.h"
#include "fsutil.h"
#include "totpcas.h"

#define QUEUE_MAX   1000   /* changes applied in one transaction at most */
#define BACKOFF_MAX 30     /* seconds between rounds refused after connecting */
#define RETRY_MS 1000      /* at most, between rounds that reached no provider */
#define LOG_EVERY 60       /* seconds: "no provider answered" logged again */

enum { OP_PUT, OP_DEL, OP_MARK, OP_SWEEP };
struct op {
	int type;
	uint8_t uuid[16];
	char kind[16];
	struct berval key, val;
	char *av[8];            /* the DN, then rc_repl_attr_names' first values */
};

static struct {
	rc_store *s;
	rc_replica *r;
	rc_config cfg;
	rc_fleet_conf fc;
	int sigfd;
	int casfd;                /* logins' TOTP claims (totpcas.c), or -1 */
	bool foreground;
	volatile bool stop, reload;
	bool full_reload;         /* drop the stored cookie: a full refresh */
	bool reload_now;          /* ... at once, without the backoff */
	bool failed;              /* a batch failed: this session applies nothing more */
	bool in_refresh;
	bool present_done;        /* this refresh had a present phase */
	unsigned long unreached;  /* rounds in a row that reached no provider */
	time_t unreached_logged;
	struct op *q;
	size_t nq, capq;
	size_t applied_total;
	LDAP *ld;
} D;

static void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

/* rollcalld.status in the state directory: one line for "fleet status". */
static void status_write(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void status_write(const char *fmt, ...)
{
	char path[RC_PATH_MAX + 32], tmp[RC_PATH_MAX + 40], line[600], when[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 100, fmt, ap);
	va_end(ap);
	rc_time_format((int64_t)time(NULL), when, sizeof(when));
	snprintf(line + strlen(line), 100, " since %s\n", when);
	snprintf(path, sizeof(path), "%s/rollcalld.status", D.cfg.state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	size_t n = strlen(line);
	bool ok = write(fd, line, n) == (ssize_t)n;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

/* ---- signals ------------------------------------------------------------------ */

static void signals_read(void)
{
	struct signalfd_siginfo si;

	while (read(D.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			D.reload = true;
		else
			D.stop = true;
	}
}

/* During a refresh, ldap_sync_init does not return until it ends: a
 * callback that sees a signal shuts the connection, and it returns. */
static void signals_check_in_callback(void)
{
	signals_read();
	if ((D.stop || D.reload) && D.ld) {
		int fd = -1;
		if (ldap_get_option(D.ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS && fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
}

/* ---- the queue ------------------------------------------------------------------- */

static void op_free(struct op *o)
{
	if (o->val.bv_val)
		sodium_memzero(o->val.bv_val, o->val.bv_len);
	free(o->key.bv_val);
	free(o->val.bv_val);
	for (size_t i = 0; i < sizeof(o->av) / sizeof(o->av[0]); i++)
		free(o->av[i]);
	memset(o, 0, sizeof(*o));
}

static struct op *op_new(int type, const struct berval *uuid)
{
	if (D.nq == D.capq) {
		size_t nc = D.capq ? D.capq * 2 : 64;
		struct op *nq = realloc(D.q, nc * sizeof(*nq));
		if (!nq)
			return NULL;
		D.q = nq;
		D.capq = nc;
	}
	struct op *o = &D.q[D.nq++];
	memset(o, 0, sizeof(*o));
	o->type = type;
	if (uuid && uuid->bv_len == 16)
		memcpy(o->uuid, uuid->bv_val, 16);
	return o;
}

static bool bv_dup(struct berval *dst, const struct berval *src)
{
	dst->bv_len = src->bv_len;
	dst->bv_val = malloc(src->bv_len ? src->bv_len : 1);
	if (!dst->bv_val)
		return false;
	memcpy(dst->bv_val, src->bv_val, src->bv_len);
	return true;
}

/* Apply the queue in one write transaction; with the cookie the session
 * has now when SET_COOKIE.  0, or -1 (logged; the queue is dropped and
 * the connection must start again from the stored cookie). */
static int flush(bool set_cookie, const struct berval *cookie)
{
	size_t removed = 0, n = D.nq;
	int rc;

	if (D.failed) {
		for (size_t i = 0; i < D.nq; i++)
			op_free(&D.q[i]);
		D.nq = 0;
		return -1;
	}
	if (!D.nq && !set_cookie)
		return 0;
	rc = rc_replica_begin(D.r);
	for (size_t i = 0; !rc && i < D.nq; i++) {
		struct op *o = &D.q[i];
		switch (o->type) {
		case OP_PUT:
		{
			rc_repl_attrs at = { o->av[0], o->av[1], o->av[2], o->av[3], o->av[4], o->av[5],
			                     o->av[6], o->av[7] };
			rc = rc_replica_put_entry(D.r, o->uuid, o->kind, o->key.bv_val, o->key.bv_len,
			                          o->val.bv_val, o->val.bv_len, &at);
		}
			if (rc == RC_ERR_INVALID) {
				logmsg(LOG_WARNING, "a %s record the directory sent was refused: %s",
				       o->kind, rc_errmsg());
				rc = RC_OK;
			}
			break;
		case OP_DEL:
			rc = rc_replica_del(D.r, o->uuid);
			break;
		case OP_MARK:
			rc = rc_replica_mark(D.r, o->uuid);
			break;
		case OP_SWEEP:
			rc = rc_replica_sweep(D.r, &removed);
			if (!rc && removed)
				logmsg(LOG_INFO, "%s: %zu records the directory no longer has removed",
				       o->kind, removed);
			break;
		}
	}
	for (size_t i = 0; i < D.nq; i++)
		op_free(&D.q[i]);
	D.nq = 0;
	if (rc) {
		rc_replica_abort(D.r);
		if (!D.full_reload)
			logmsg(LOG_ERR, "cannot apply the directory's changes: %s", rc_errmsg());
		D.failed = true;
		return -1;
	}
	rc = rc_replica_commit(D.r, set_cookie && cookie ? cookie->bv_val : NULL,
	                       set_cookie && cookie ? cookie->bv_len : 0,
	                       set_cookie && cookie && cookie->bv_len);
	if (rc) {
		logmsg(LOG_ERR, "cannot commit the directory's changes: %s", rc_errmsg());
		D.failed = true;
		return -1;
	}
	D.applied_total += n;
	if (D.foreground && n)
		logmsg(LOG_DEBUG, "applied %zu change%s%s", n, n == 1 ? "" : "s",
		       set_cookie ? " with the cookie" : "");
	return 0;
}

/* More of the directory's answer already here (in libldap's buffer or the
 * socket)?  Then the queue waits for it, up to QUEUE_MAX. */
static bool more_waiting(LDAP *ld)
{
	Sockbuf *sb = NULL;
	int fd = -1;

	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb &&
	    ber_sockbuf_ctrl(sb, LBER_SB_OPT_DATA_READY, NULL) > 0)
		return true;
	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0)
		return false;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int after_message(ldap_sync_t *ls)
{
	signals_check_in_callback();
	if (D.nq < QUEUE_MAX && more_waiting(ls->ls_ld))
		return 0;
	/* in the persist phase, the cookie goes with the changes */
	if (flush(!D.in_refresh, &ls->ls_cookie) == 0)
		return 0;
	/* nothing more of this session is applied: the connection is shut so
	 * that a refresh under way (ldap_sync_init) ends too */
	int fd = -1;
	if (ldap_get_option(ls->ls_ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS && fd >= 0)
		shutdown(fd, SHUT_RDWR);
	return LDAP_OTHER;
}

/* ---- ldap_sync callbacks --------------------------------------------------------- */

static struct berval *first_value(LDAP *ld, LDAPMessage *e, const char *attr, struct berval ***all)
{
	*all = ldap_get_values_len(ld, e, attr);
	return *all && (*all)[0] ? (*all)[0] : NULL;
}

/* The entry's DN and the attributes its record is checked against
 * (rc_replica_put_entry): false when out of memory */
static bool entry_attrs(ldap_sync_t *ls, LDAPMessage *msg, struct op *o)
{
	char *dn = ldap_get_dn(ls->ls_ld, msg);
	bool ok = !dn || (o->av[0] = strdup(dn)) != NULL;

	ldap_memfree(dn);
	for (size_t i = 0; ok && rc_repl_attr_names[i] && i + 1 < 8; i++) {
		struct berval **all, *v = first_value(ls->ls_ld, msg, rc_repl_attr_names[i], &all);
		if (v && (o->av[i + 1] = strndup(v->bv_val, v->bv_len)) == NULL)
			ok = false;
		ldap_value_free_len(all);
	}
	return ok;
}

static int on_entry(ldap_sync_t *ls, LDAPMessage *msg, struct berval *uuid,
                    ldap_sync_refresh_t phase)
{
	struct op *o;

	if (!uuid || uuid->bv_len != 16)
		return after_message(ls);
	switch (phase) {
	case LDAP_SYNC_CAPI_PRESENT:
		if (!op_new(OP_MARK, uuid))
			return LDAP_NO_MEMORY;
		break;
	case LDAP_SYNC_CAPI_DELETE:
		if (!op_new(OP_DEL, uuid))
			return LDAP_NO_MEMORY;
		break;
	case LDAP_SYNC_CAPI_ADD:
	case LDAP_SYNC_CAPI_MODIFY: {
		struct berval **vdb, **vkey, **vrec;
		struct berval *db = first_value(ls->ls_ld, msg, "rcDb", &vdb),
		              *key = first_value(ls->ls_ld, msg, "rcKey", &vkey),
		              *rec = first_value(ls->ls_ld, msg, "rcRecord", &vrec);
		int rc = 0;
		if (!db || !key || !rec || db->bv_len >= sizeof(o->kind)) {
			char *dn = ldap_get_dn(ls->ls_ld, msg);
			logmsg(LOG_WARNING, "%s: no rcDb, rcKey or rcRecord this host may read: skipped",
			       dn ? dn : "an entry");
			ldap_memfree(dn);
		} else if (!(o = op_new(OP_PUT, uuid))) {
			rc = LDAP_NO_MEMORY;
		} else {
			memcpy(o->kind, db->bv_val, db->bv_len);
			o->kind[db->bv_len] = '\0';
			if (!bv_dup(&o->key, key) || !bv_dup(&o->val, rec) || !entry_attrs(ls, msg, o))
				rc = LDAP_NO_MEMORY;
		}
		if (vrec)
			for (int i = 0; vrec[i]; i++)
				sodium_memzero(vrec[i]->bv_val, vrec[i]->bv_len);
		ldap_value_free_len(vdb);
		ldap_value_free_len(vkey);
		ldap_value_free_len(vrec);
		if (rc)
			return rc;
		break;
	}
	default:
		break;
	}
	return after_message(ls);
}

static int on_intermediate(ldap_sync_t *ls, LDAPMessage *msg, BerVarray uuids,
                           ldap_sync_refresh_t phase)
{
	if (phase == LDAP_SYNC_CAPI_PRESENTS_IDSET || phase == LDAP_SYNC_CAPI_DELETES_IDSET) {
		for (size_t i = 0; uuids && uuids[i].bv_val; i++)
			if (!op_new(phase == LDAP_SYNC_CAPI_DELETES_IDSET ? OP_DEL : OP_MARK, &uuids[i]))
				return LDAP_NO_MEMORY;
		return after_message(ls);
	}
	/* the end of a phase: ldap_sync reports refreshPresent and
	 * refreshDelete alike once refreshDone; the syncInfo's own tag says
	 * which.  At the end of a present phase, whatever was not sent is
	 * gone from the directory. */
	char *oid = NULL;
	struct berval *data = NULL;
	if (ldap_parse_intermediate(ls->ls_ld, msg, &oid, &data, NULL, 0) == LDAP_SUCCESS && data &&
	    data->bv_len && (unsigned char)data->bv_val[0] == LDAP_TAG_SYNC_REFRESH_PRESENT)
		D.present_done = true;   /* swept when the refresh is complete */
	ldap_memfree(oid);
	if (data)
		ber_bvfree(data);
	return after_message(ls);
}

static int on_result(ldap_sync_t *ls, LDAPMessage *msg, int refresh_deletes)
{
	(void)msg;
	(void)refresh_deletes;
	(void)ls;
	return 0;
}

/* ---- one session with one provider --------------------------------------------- */

/* No provider answered (RC): logged the first time and then once a
 * minute, not at every round. */
static void unreached(int rc)
{
	time_t now = time(NULL);

	if (!D.unreached++ || now - D.unreached_logged >= LOG_EVERY) {
		logmsg(LOG_WARNING, "no provider answered (%s): %s%s", D.fc.uris, ldap_err2string(rc),
		       D.unreached > 1 ? " (still: trying every second)" : "");
		D.unreached_logged = now;
	}
	status_write("disconnected: %s", ldap_err2string(rc));
}

/* Connect to the first provider that answers, then sync until the
 * connection ends.  1 when it synced (the backoff starts again), 0 when
 * no provider could be reached (down, or the network: tried again within
 * a second, so that a healed partition converges at once), -1 when one
 * answered but the session failed (the backoff grows). */
static int session(void)
{
	char dn[384], used[256];
	ldap_sync_t *ls;
	rc_replica_status st;
	int rc;

	snprintf(dn, sizeof(dn), "cn=%s,ou=hosts,%s", D.fc.host, D.fc.suffix);
	rc = rc_fleet_bind_any(D.fc.uris, dn, D.fc.secret, &D.ld, used, sizeof(used));
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR) {
		unreached(rc);
		return 0;
	}
	if (rc != LDAP_SUCCESS) {
		logmsg(LOG_WARNING, "the providers (%s) refused this host: %s", D.fc.uris,
		       ldap_err2string(rc));
		status_write("disconnected: %s", ldap_err2string(rc));
		return -1;
	}
	D.unreached = 0;
	if (!(ls = ldap_sync_initialize(NULL))) {
		ldap_unbind_ext_s(D.ld, NULL, NULL);
		D.ld = NULL;
		return -1;
	}
	static const char *const attrs[] = { "rcDb", "rcKey", "rcRecord", NULL };
	ls->ls_base = strdup(D.fc.suffix);
	ls->ls_filter = strdup("(objectClass=rcReplicated)");
	ls->ls_scope = LDAP_SCOPE_SUBTREE;
	ls->ls_attrs = NULL;
	/* ldap_sync_poll is called when poll() says the connection has
	 * data; with a zero timeout libldap would not read it (it selects
	 * only when given time), so it may wait up to a second for the rest
	 * of a message (never inside a write transaction) */
	ls->ls_timeout = 1;
	ls->ls_search_entry = on_entry;
	ls->ls_intermediate = on_intermediate;
	ls->ls_search_result = on_result;
	ls->ls_ld = D.ld;
	if (rc_replica_status_get(D.s, &st) == RC_OK && st.cookie[0] &&
	    rc_fleet_cookie_for_provider(st.cookie, st.cookie, sizeof(st.cookie)) == RC_OK) {
		struct berval c = { strlen(st.cookie), st.cookie };
		ber_bvreplace(&ls->ls_cookie, &c);
	}
	/* the attributes to ask for (the record's, and those it is checked
	 * against: rc_replica_put_entry), as a copy libldap may free */
	size_t na = sizeof(attrs) / sizeof(attrs[0]) - 1, nx = 0;
	while (rc_repl_attr_names[nx])
		nx++;
	ls->ls_attrs = calloc(na + nx + 1, sizeof(char *));
	for (size_t i = 0; ls->ls_attrs && i < na + nx; i++)
		ls->ls_attrs[i] = strdup(i < na ? attrs[i] : rc_repl_attr_names[i - na]);
	logmsg(LOG_INFO, "connected to %s as %s (%s)", used, D.fc.host,
	       ls->ls_cookie.bv_val ? "resuming from the stored cookie" : "full refresh");
	status_write("connected to %s", used);
	rc_replica_refresh_start(D.r);
	rc_store_batch(D.s, 1);
	D.in_refresh = true;
	D.present_done = false;
	D.failed = false;
	bool full = !ls->ls_cookie.bv_val;
	rc = ldap_sync_init(ls, LDAP_SYNC_REFRESH_AND_PERSIST);
	if (rc == LDAP_SUCCESS) {
		/* the refresh is complete.  Its last changes are applied first;
		 * then, unless entries the provider called present never came
		 * (this host cannot trust its cookie: a full reload), the sweep
		 * and the cookie in one transaction (never a cookie ahead of its
		 * data).  The sweep: at the end of a present phase, or of a
		 * refresh without a cookie (the whole content, ending with a
		 * delete phase, syncprov's way), whatever the provider neither
		 * sent nor marked goes */
		D.in_refresh = false;
		if (flush(false, NULL))
			rc = LDAP_OTHER;
		size_t missing = rc_replica_refresh_missing(D.r);
		if (rc == LDAP_SUCCESS && missing) {
			logmsg(LOG_WARNING, "the provider has %zu entr%s this host never had as "
			       "unchanged since its cookie (a directory restored or reloaded?): "
			       "a full reload follows", missing, missing == 1 ? "y" : "ies");
			D.full_reload = true;
			rc = LDAP_OTHER;
		} else if (rc == LDAP_SUCCESS && (full || D.present_done)) {
			struct op *o = op_new(OP_SWEEP, NULL);
			if (!o)
				rc = LDAP_NO_MEMORY;
			else
				snprintf(o->kind, sizeof(o->kind), "%s",
				         full ? "full refresh" : "present phase");
		}
		if (rc == LDAP_SUCCESS && flush(true, &ls->ls_cookie))
			rc = LDAP_OTHER;
		rc_store_batch(D.s, 0);   /* publishes what the refresh changed */
		if (!rc)
			logmsg(LOG_INFO, "refresh done (%zu changes applied so far)", D.applied_total);
	}
	while (rc == LDAP_SUCCESS && !D.stop && !D.reload) {
		int fd = -1;
		if (ldap_get_option(D.ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS || fd < 0) {
			rc = LDAP_SERVER_DOWN;
			break;
		}
		if (!more_waiting(D.ld)) {
			struct pollfd p[3] = { { .fd = fd, .events = POLLIN }, { .fd = D.sigfd, .events = POLLIN },
			                       { .fd = D.casfd, .events = POLLIN } };
			int n = poll(p, 3, -1);
			if (n < 0 && errno != EINTR) {
				rc = LDAP_OTHER;
				break;
			}
			if (p[1].revents & POLLIN)
				signals_read();
			if (p[2].revents & POLLIN)
				totpcas_serve(D.casfd, &D.fc);
			if (D.stop || D.reload)
				break;
			if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
		}
		rc = ldap_sync_poll(ls);
		if (rc == LDAP_SUCCESS && D.nq)
			rc = flush(true, &ls->ls_cookie) ? LDAP_OTHER : LDAP_SUCCESS;
		if (rc == 0 && ldap_get_option(D.ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS) {
			/* a closed connection reads as "nothing": ask libldap */
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) && !more_waiting(D.ld))
				rc = LDAP_SERVER_DOWN;
		}
	}
	/* what was queued belongs to no cookie yet: applied without one */
	(void)flush(false, NULL);
	rc_store_batch(D.s, 0);
	if (rc == LDAP_SYNC_REFRESH_REQUIRED || D.full_reload) {
		/* the provider cannot resume from our cookie: a full refresh (its
		 * present phase sweeps) replaces the stored one when it ends */
		if (!D.full_reload)
			logmsg(LOG_NOTICE, "the provider asks for a full reload");
		if (rc_replica_begin(D.r) == RC_OK)
			(void)rc_replica_commit(D.r, NULL, 0, true);
		D.full_reload = false;
		D.reload_now = true;
	} else if (!D.stop && !D.reload) {
		logmsg(LOG_WARNING, "the connection to %s ended: %s", used,
		       rc < 0 ? "lost" : ldap_err2string(rc));
	}
	status_write("disconnected from %s", used);
	ls->ls_ld = NULL;
	ldap_sync_destroy(ls, 1);
	ldap_unbind_ext_s(D.ld, NULL, NULL);
	D.ld = NULL;
	return 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait MS milliseconds, or until a signal; logins' TOTP claims are
 * answered meanwhile. */
static void pause_ms(int ms)
{
	int64_t end = now_ms() + ms;
	int left;

	while (!D.stop && !D.reload && (left = (int)(end - now_ms())) > 0) {
		struct pollfd p[2] = { { .fd = D.sigfd, .events = POLLIN },
		                       { .fd = D.casfd, .events = POLLIN } };
		if (poll(p, 2, left) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			signals_read();
		if (p[1].revents & POLLIN)
			totpcas_serve(D.casfd, &D.fc);
	}
}

static int usage(FILE *f, int st)
{
	fputs("Usage: rollcalld [-f] [--state-dir DIR] [--config FILE]\n\n"
	      "Keeps this host's rollcall store a replica of the fleet's directory\n"
	      "(rollcall fleet join).  -f: stay in the foreground and log to stderr too.\n", f);
	return st;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' }, { "state-dir", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const char *state_dir = NULL, *config = NULL;
	sigset_t mask;
	int ch, rc, backoff = 1;

	while ((ch = getopt_long(argc, argv, "fs:c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': D.foreground = true; break;
		case 's': state_dir = optarg; break;
		case 'c': config = optarg; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	if (optind != argc)
		return usage(stderr, 2);
	if (geteuid() != 0) {
		fprintf(stderr, "rollcalld: run as root\n");
		return 3;
	}
	umask(022);
	openlog("rollcalld", LOG_PID | (D.foreground ? LOG_PERROR : 0), LOG_DAEMON);
	if (sodium_init() < 0) {
		logmsg(LOG_ERR, "libsodium failed to initialise");
		return 4;
	}
	rc_config_defaults(&D.cfg);
	rc = rc_config_load(&D.cfg, config ? config : RC_DEFAULT_CONFIG, config != NULL);
	if (rc) {
		logmsg(LOG_ERR, "%s", rc_errmsg());
		return 4;
	}
	if (state_dir)
		snprintf(D.cfg.state_dir, sizeof(D.cfg.state_dir), "%s", state_dir);
	if ((rc = rc_fleet_conf_read(D.cfg.state_dir, &D.fc)) != 0) {
		logmsg(LOG_ERR, "%s (has this host joined a fleet? rollcall fleet join)", rc_errmsg());
		return 4;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((D.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		logmsg(LOG_ERR, "signalfd: %s", strerror(errno));
		return 4;
	}
	if (!D.foreground && daemon(0, 0) < 0) {
		logmsg(LOG_ERR, "cannot become a daemon: %s", strerror(errno));
		return 4;
	}
	/* held for life: a second rollcalld refuses, and doctor tells a
	 * rollcalld that died without a word (SIGKILL) from a running one */
	char lockpath[RC_PATH_MAX];
	int lockfd;
	if (rc_path_join(lockpath, sizeof(lockpath), D.cfg.state_dir, "rollcalld.lock") ||
	    rc_life_lock_take(lockpath, &lockfd) != RC_OK) {
		logmsg(LOG_ERR, "%s", rc_errmsg());
		return 4;
	}
	if ((rc = rc_store_open(&D.s, &D.cfg, 0)) != 0 || (rc = rc_replica_new(&D.r, D.s)) != 0) {
		logmsg(LOG_ERR, "%s", rc_errmsg());
		return 4;
	}
	if ((D.casfd = totpcas_listen(D.cfg.state_dir, logmsg)) < 0)
		logmsg(LOG_WARNING, "cannot listen for logins' TOTP claims (%s/rollcalld.sock): "
		       "a code is then single-use per host only", D.cfg.state_dir);
	logmsg(LOG_INFO, "started: host %s, providers %s", D.fc.host, D.fc.uris);
	while (!D.stop) {
		if (D.reload) {
			D.reload = false;
			rc_fleet_conf_wipe(&D.fc);
			if (rc_fleet_conf_read(D.cfg.state_dir, &D.fc) != RC_OK) {
				logmsg(LOG_ERR, "%s", rc_errmsg());
				break;
			}
			logmsg(LOG_INFO, "reloaded fleet.conf");
		}
		int s = session();
		if (s > 0)
			backoff = 1;
		if (D.stop || D.reload)
			continue;
		if (D.reload_now) {
			D.reload_now = false;
			continue;
		}
		if (s == 0) {   /* unreachable: again within a second, spread over hosts */
			pause_ms(RETRY_MS / 2 + (int)randombytes_uniform(RETRY_MS / 2));
			continue;
		}
		pause_ms(backoff * 1000);
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	totpcas_close(D.casfd, D.cfg.state_dir);
	status_write("stopped");
	logmsg(LOG_INFO, "stopped");
	rc_replica_free(D.r);
	rc_store_close(D.s);
	rc_fleet_conf_wipe(&D.fc);
	free(D.q);
	return 0;
}
