/*
 * doctor.c - the state directory's checks for "rollcall doctor": what the
 * store, master.key and the NSS snapshot must be for the module, the NSS
 * module and the tool to work, each reported with what to change.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "errors.h"
#include "fsutil.h"
#include "snapshot.h"
#include "bytes.h"
#include "fleet.h"

static void report(rc_check_cb cb, void *ctx, int level, const char *name, const char *fix,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report(rc_check_cb cb, void *ctx, int level, const char *name, const char *fix,
                   const char *fmt, ...)
{
	rc_check ch;
	va_list ap;

	memset(&ch, 0, sizeof(ch));
	ch.level = level;
	ch.name = name;
	ch.fix = fix;
	va_start(ap, fmt);
	vsnprintf(ch.detail, sizeof(ch.detail), fmt, ap);
	va_end(ap);
	cb(&ch, ctx);
}

/* The state directory itself: root's, not writable by others, and
 * searchable by everyone (nss.snap in it is read by every process). */
static int check_state_dir(const rc_config *cfg, rc_check_cb cb, void *ctx)
{
	struct stat st;
	const char *name = "state directory";

	if (lstat(cfg->state_dir, &st) < 0) {
		report(cb, ctx, RC_CHECK_FAIL, name, "run \"rollcall init --owner EMAIL\"",
		       "%s: %s", cfg->state_dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) {
		report(cb, ctx, RC_CHECK_FAIL, name, "move it away and run \"rollcall init\"",
		       "%s is not a directory", cfg->state_dir);
		return -1;
	}
	if (rc_check_owner_mode(cfg->state_dir, &st, 0022, name)) {
		report(cb, ctx, RC_CHECK_FAIL, name, "chown root: and chmod 0755 it", "%s",
		       rc_errmsg());
		return -1;
	}
	if ((st.st_mode & 0005) != 0005) {
		report(cb, ctx, RC_CHECK_FAIL, name, "chmod 0755 it (the store inside stays 0700)",
		       "%s is mode %04o: other users cannot read nss.snap in it, so members "
		       "are unknown to their own processes", cfg->state_dir,
		       (unsigned)(st.st_mode & 07777));
		return 0;
	}
	report(cb, ctx, RC_CHECK_OK, name, NULL, "%s (mode %04o, owner uid %u)", cfg->state_dir,
	       (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	return 0;
}

/* The published snapshot: there, public, and as new as the store. */
static void check_snapshot(const rc_config *cfg, uint64_t generation, int64_t now,
                           rc_check_cb cb, void *ctx)
{
	char path[RC_PATH_MAX];
	struct stat st;
	rc_snap *sn = NULL;
	const char *name = "NSS snapshot";
	const char *fix = "run any change with rollcall (e.g. \"rollcall settings set "
	                  "invite.ttl 24h\") to publish it again";

	if (rc_path_join(path, sizeof(path), cfg->state_dir, RC_SNAP_FILE))
		return;
	if (lstat(path, &st) < 0) {
		report(cb, ctx, RC_CHECK_FAIL, name, fix, "%s: %s", path, strerror(errno));
		return;
	}
	/* the readers' own trust rule (bytes.h), and readable by everyone */
	if (!S_ISREG(st.st_mode) || !rc_stat_trusted(&st) || (st.st_mode & 0444) != 0444) {
		report(cb, ctx, RC_CHECK_FAIL, name, "chown root: and chmod 0644 it",
		       "%s must be a regular file of root's, mode 0644 (it is %04o, uid %u)",
		       path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return;
	}
	if (rc_snap_open(&sn, path) != RC_OK) {
		report(cb, ctx, RC_CHECK_FAIL, name, fix, "%s cannot be read: %s", path,
		       rc_errmsg());
		return;
	}
	uint64_t g = rc_snap_generation(sn);
	rc_snap_close(sn);
	if (g < generation) {
		report(cb, ctx, RC_CHECK_FAIL, name, fix, "%s is behind the store (generation "
		       "%llu, store %llu)", path, (unsigned long long)g,
		       (unsigned long long)generation);
		return;
	}
	report(cb, ctx, RC_CHECK_OK, name, NULL, "%s (generation %llu, as the store; "
	       "written %llds ago)", path, (unsigned long long)g,
	       (long long)(now - (int64_t)st.st_mtime));
}

RC_API int rc_store_doctor(const rc_config *cfg, rc_check_cb cb, void *ctx)
{
	rc_store *s = NULL;
	rc_status st;
	rc_actor root = { 0, "doctor" };
	int rc;

	if (check_state_dir(cfg, cb, ctx) < 0)
		return RC_OK;
	/* opening checks the store directory, master.key and the schema, and
	 * catches the snapshot up after a writer that died before publishing */
	rc = rc_store_open(&s, cfg, 0);
	if (rc) {
		report(cb, ctx, RC_CHECK_FAIL, "store", "see rollcall(8), FILES",
		       "%s", rc_errmsg());
		return RC_OK;
	}
	rc = rc_store_status(s, &root, &st);
	if (rc) {
		report(cb, ctx, RC_CHECK_FAIL, "store", "see rollcall(8), FILES", "%s",
		       rc_errmsg());
	} else {
		report(cb, ctx, RC_CHECK_OK, "store", NULL, "schema %u, generation %llu, "
		       "%zu members (%zu pending), %zu services, %zu%% of the map used",
		       st.schema, (unsigned long long)st.generation, st.members, st.pending,
		       st.services, st.map_size ? st.map_used * 100 / st.map_size : 0);
		report(cb, ctx, RC_CHECK_OK, "master.key", NULL,
		       "present, readable by its owner only, 32 bytes");
		check_snapshot(cfg, st.generation, rc_store_now(s), cb, ctx);
	}
	rc_store_close(s);
	return RC_OK;
}

/* ---- a host in a fleet: rollcalld and the replica ------------------------ */

/* rollcalld.status (rollcalld's one line: "connected to URI since T",
 * "disconnected...", "stopped since T") into LINE; *AGE: seconds since it
 * was written.  -1 when there is none (rollcalld never ran here). */
static int read_daemon_status(const char *state_dir, int64_t now, char *line, size_t len,
                              int64_t *age)
{
	char path[RC_PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	line[0] = '\0';
	if (rc_path_join(path, sizeof(path), state_dir, "rollcalld.status"))
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	n = read(fd, line, len - 1);
	close(fd);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	*age = now - (int64_t)st.st_mtime;
	if (*age < 0)
		*age = 0;
	return 0;
}

/* Whether rollcalld runs now: it holds STATE/rollcalld.lock for its life
 * (true when that cannot be told: the status line is believed then). */
static bool daemon_alive(const char *state_dir)
{
	char path[RC_PATH_MAX];

	if (rc_path_join(path, sizeof(path), state_dir, "rollcalld.lock"))
		return true;
	return rc_life_lock_held(path) != 0;
}

static void age_format(int64_t secs, char *buf, size_t len)
{
	if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%lld min", (long long)(secs / 60));
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%lld h", (long long)(secs / 3600));
	else
		snprintf(buf, len, "%lld days", (long long)(secs / 86400));
}

/* rollcalld: running and connected (true), or why not (START: the advice) */
static bool fleet_daemon_check(const char *state_dir, int64_t now, const char *start,
                               rc_check_cb cb, void *ctx)
{
	char line[512], a1[32];
	int64_t age = 0;
	bool connected = false;

	if (read_daemon_status(state_dir, now, line, sizeof(line), &age) < 0) {
		report(cb, ctx, RC_CHECK_WARN, "rollcalld", start,
		       "rollcalld has never run here (no %s/rollcalld.status): the replica does "
		       "not follow the directory", state_dir);
	} else if (strncmp(line, "stopped", 7) != 0 && !daemon_alive(state_dir)) {
		age_format(age, a1, sizeof(a1));
		report(cb, ctx, RC_CHECK_WARN, "rollcalld", start,
		       "rollcalld is not running: it ended without a word (killed?), its last "
		       "word \"%s\" %s ago; changes made in the directory do not arrive", line, a1);
	} else if (strncmp(line, "connected", 9) == 0) {
		connected = true;
		report(cb, ctx, RC_CHECK_OK, "rollcalld", NULL, "%s", line);
	} else if (strncmp(line, "disconnected", 12) == 0) {
		age_format(age, a1, sizeof(a1));
		report(cb, ctx, RC_CHECK_WARN, "rollcalld",
		       "check that a provider answers (ldapsearch -x -H URI -s base -b \"\") and "
		       "that the host's entry and secret are in the directory; logins go on "
		       "with the local replica meanwhile",
		       "rollcalld reaches no provider (%s, %s ago): changes made in the directory "
		       "do not arrive", line, a1);
	} else {
		age_format(age, a1, sizeof(a1));
		report(cb, ctx, RC_CHECK_WARN, "rollcalld", start,
		       "rollcalld is not running (\"%s\", %s ago): changes made in the directory "
		       "do not arrive", line, a1);
	}
	return connected;
}

RC_API void rc_fleet_doctor(const char *state_dir, const char *host, const char *uris,
                            const rc_replica_status *rs, int64_t now, rc_check_cb cb, void *ctx)
{
	char a1[32], a2[32];
	const char *start = "start rollcalld (\"systemctl enable --now rollcalld\"; "
	                    "rollcalld -f in the foreground shows why it stops)";

	report(cb, ctx, RC_CHECK_OK, "fleet", NULL, "host \"%s\" of the fleet at %s", host, uris);

	/* rollcalld: running and connected, or why not */
	bool connected = fleet_daemon_check(state_dir, now, start, cb, ctx);

	/* the replica: a refresh completed, and how old its data may be */
	if (!rs->cookie[0]) {
		report(cb, ctx, RC_CHECK_FAIL, "replica", start,
		       "no refresh from the directory ever completed: this host's store does not "
		       "hold the fleet's members (%zu entries so far)", rs->entries);
		return;
	}
	if (rs->applied)
		age_format(now - rs->applied < 0 ? 0 : now - rs->applied, a1, sizeof(a1));
	else
		snprintf(a1, sizeof(a1), "never");
	age_format(now - rs->synced < 0 ? 0 : now - rs->synced, a2, sizeof(a2));
	if (!connected && now - rs->synced > RC_FLEET_STALE) {
		report(cb, ctx, RC_CHECK_WARN, "replica", start,
		       "no sync for %s (last refresh completed %s ago, last change applied %s%s): "
		       "%zu entries, maybe out of date", a2, a2, a1, rs->applied ? " ago" : "",
		       rs->entries);
		return;
	}
	report(cb, ctx, RC_CHECK_OK, "replica", NULL,
	       "%zu entries from the directory; last refresh %s ago, last change applied %s%s%s",
	       rs->entries, a2, a1, rs->applied ? " ago" : "",
	       connected ? "" : " (rollcalld not connected)");
}
