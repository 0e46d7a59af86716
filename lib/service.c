/*
 * service.c - services and their service users; rc_service_load and
 * rc_svcuser_load/put inside a transaction.
 * SPDX-License-Identifier: BSD-3-Clause
 */
#include "config.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "service.h"
#include "errors.h"
#include "store.h"
#include "codec.h"
#include "txn.h"
#include "crypto.h"
#include "fsutil.h"
#include "actor.h"
#include "ids.h"
#include "settings.h"
#include "token.h"
#include "hoststate.h"

static int service_put(rc_txn *t, const rc_service *svc)
{
	rc_wbuf w;
	int rc;

	rc_service_encode(svc, &w);
	rc = rc_store_putw(t, DB_SERVICES, svc->name, strlen(svc->name), &w, 0);
	rc_wbuf_free(&w);
	return rc;
}

/* A service user's password made ready before the write transaction
 * (argon2id is slow: never inside one): its hash and its encrypted copy;
 * generated (and reported in OUT) when none is given. */
typedef struct svc_pw {
	char pwhash[RC_PWHASH_MAX];
	uint8_t enc[RC_SVCPW_ENC_MAX];
	size_t enc_len;
} svc_pw;

static int svc_pw_prepare(rc_store *s, const char *pw, svc_pw *p, rc_secret_result *out)
{
	char gen[RC_SVCPW_MAX + 1] = "";
	int64_t ops, mem_kib;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!pw) {
		rc_svcpw_generate(gen);
		pw = gen;
		out->generated = 1;
		snprintf(out->password, sizeof(out->password), "%s", gen);
	}
	rc = rc_argon2_limits(s, &ops, &mem_kib);
	if (!rc)
		rc = rc_password_hash(pw, ops, mem_kib, p->pwhash);
	if (!rc)
		rc = rc_secret_encrypt(s, pw, p->enc, &p->enc_len);
	sodium_memzero(gen, sizeof(gen));
	if (rc) {
		sodium_memzero(p, sizeof(*p));
		sodium_memzero(out->password, sizeof(out->password));
	}
	return rc;
}

static void svc_pw_apply(const svc_pw *p, rc_svcuser_rec *u)
{
	memcpy(u->pwhash, p->pwhash, sizeof(u->pwhash));
	memcpy(u->pw_enc, p->enc, sizeof(u->pw_enc));
	u->pw_enc_len = p->enc_len;
}

static int svcuser_new(rc_txn *t, const rc_service *svc, const char *name, const svc_pw *pw,
                       int read_only, int replication, int protected_user,
                       rc_secret_result *out)
{
	rc_svcuser_rec u;
	int rc;

	memset(&u, 0, sizeof(u));
	snprintf(u.pub.username, sizeof(u.pub.username), "%s", name);
	snprintf(u.pub.service, sizeof(u.pub.service), "%s", svc->name);
	u.pub.read_only = read_only;
	u.pub.replication = replication;
	u.pub.protected_user = protected_user;
	u.pub.created = rc_store_now(t->s);
	snprintf(out->username, sizeof(out->username), "%s", name);
	rc = rc_name_check_free(t, name);
	if (!rc)
		rc = rc_id_alloc(t, &u.pub.uid);
	if (!rc) {
		svc_pw_apply(pw, &u);
		rc = rc_svcuser_put(t, &u);
	}
	if (!rc)
		rc = rc_uid_index_put(t, u.pub.uid, 's', name);
	sodium_memzero(&u, sizeof(u));
	return rc;
}

/* RUNS_AS names a user of this host other than root and outside rollcall's
 * own id range (NSS: it may come from LDAP, so resolved before any
 * transaction). */
static int runs_as_check(const rc_store *s, const char *runs_as)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e;

	if (strnlen(runs_as, RC_NAME_MAX + 1) > RC_NAME_MAX || !runs_as[0] ||
	    strspn(runs_as, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	        strlen(runs_as) || runs_as[0] == '-')
		return rc_fail_field(RC_ERR_INVALID, "runs_as", "\"%.40s\" is not a valid local "
		                     "user name", runs_as);
	rc_slow_work("a user lookup (NSS)");
	e = getpwnam_r(runs_as, &pw, buf, sizeof(buf), &res);
	if (e || !res)
		return rc_fail_field(RC_ERR_NOTFOUND, "runs_as", "no user \"%s\" on this host",
		                     runs_as);
	if (pw.pw_uid == 0)
		return rc_fail_field(RC_ERR_INVALID, "runs_as", "a service that runs as root needs "
		                     "no one named: root reads the store itself");
	if (pw.pw_uid >= s->cfg.id_min && pw.pw_uid <= s->cfg.id_max)
		return rc_fail_field(RC_ERR_INVALID, "runs_as", "\"%s\" (uid %u) is in rollcall's "
		                     "id range (%u-%u): a member or service user, not a local user",
		                     runs_as, (unsigned)pw.pw_uid, s->cfg.id_min, s->cfg.id_max);
	return RC_OK;
}

RC_API int rc_service_set_runs_as(rc_store *s, const rc_actor *a, const char *name,
                                  const char *runs_as)
{
	rc_service svc;
	rc_txn t;
	int rc;

	if (runs_as && runs_as[0] && (rc = runs_as_check(s, runs_as)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0)
		return rc;
	rc_txn_audit(&t, "service.set", name);
	snprintf(t.detail, sizeof(t.detail), "ok runs-as %s",
	         runs_as && runs_as[0] ? runs_as : "(none)");
	rc = rc_require(&t, RC_PERM_MANAGE_SERVICES);
	if (!rc)
		rc = rc_service_load(&t, name, &svc);
	if (!rc) {
		snprintf(svc.runs_as, sizeof(svc.runs_as), "%s", runs_as ? runs_as : "");
		rc = service_put(&t, &svc);
	}
	return rc_txn_end(&t, rc);
}

RC_API int rc_service_create(rc_store *s, const rc_actor *a, const char *name,
                             rc_secret_result *def)
{
	return rc_service_create_as(s, a, name, NULL, def);
}

/* A new service NAME: none of that name, and its three groups (svc-NAME,
 * -readonly, -replication) free on the host, their gids into SVC. */
static int service_new_groups(rc_txn *t, const char *name, rc_service *svc)
{
	static const char *const suffix[3] = { "", "-readonly", "-replication" };
	uint32_t *gids[3] = { &svc->gid, &svc->gid_readonly, &svc->gid_replication };
	const rc_config *cfg = &t->s->cfg;
	char group[RC_NAME_MAX + 1];
	rc_val v;
	int rc = rc_store_gets(t, DB_SERVICES, name, &v);

	if (rc == RC_OK)
		return rc_fail(RC_ERR_EXISTS, "service \"%s\" already exists", name);
	if (rc != RC_ERR_NOTFOUND)
		return rc;
	rc = RC_OK;
	for (int i = 0; i < 3 && !rc; i++) {
		snprintf(group, sizeof(group), "svc-%s%s", name, suffix[i]);
		if (rc_host_has_name(cfg->group_file, group) == 1)
			rc = rc_fail(RC_ERR_EXISTS, "group \"%s\" already exists on this host (%s)",
			             group, cfg->group_file);
		if (!rc)
			rc = rc_id_alloc(t, gids[i]);
	}
	return rc;
}

/* The protected default user: NAME_admin, or NAME_admin_NNNN when taken. */
static int service_default_user(rc_txn *t, const char *name, char user[RC_NAME_MAX + 1])
{
	int rc = RC_OK;

	snprintf(user, RC_NAME_MAX + 1, "%s_admin", name);
	for (char *p = user; *p; p++)
		if (*p == '-')
			*p = '_';
	for (int tries = 0; tries < 20; tries++) {
		rc = rc_name_check_free(t, user);
		if (rc != RC_ERR_EXISTS)
			break;
		snprintf(user + strlen(name) + 6, RC_NAME_MAX + 1 - strlen(name) - 6, "_%04u",
		         (unsigned)rc_random_below(10000));
	}
	return rc;
}

RC_API int rc_service_create_as(rc_store *s, const rc_actor *a, const char *name,
                                const char *runs_as, rc_secret_result *def)
{
	rc_service svc = { .state = RC_SERVICE_RUNNING };
	char user[RC_NAME_MAX + 1];
	svc_pw pw;
	rc_txn t;
	int rc;

	memset(def, 0, sizeof(*def));
	if ((rc = rc_valid_service_name(name)) != 0)
		return rc;
	if (runs_as && runs_as[0]) {
		if ((rc = runs_as_check(s, runs_as)) != 0)
			return rc;
		snprintf(svc.runs_as, sizeof(svc.runs_as), "%s", runs_as);
	}
	/* the default user's generated password, hashed before the write */
	if ((rc = svc_pw_prepare(s, NULL, &pw, def)) != 0)
		return rc;
	if ((rc = rc_txn_begin(s, a, true, &t)) != 0) {
		sodium_memzero(&pw, sizeof(pw));
		sodium_memzero(def, sizeof(*def));
		return rc;
	}
	rc_txn_audit(&t, "service.create", name);
	rc = rc_require(&t, RC_PERM_START_STOP);
	if (!rc)
		rc = service_new_groups(&t, name, &svc);
	if (!rc)
		rc = service_default_user(&t, name, user);
	if (!rc) {
		snprintf(svc.name, sizeof(svc.name), "%s", name);
		svc.created = rc_store_now(s);
		snprintf(svc.default_user, sizeof(svc.default_user), "%s", user);
		rc = service_put(&t, &svc);
	}
	if (!rc)
		rc = svcuser_new(&t, &svc, user, &pw, 0, 1, 1, def);
	sodium_memzero(&pw, sizeof(pw));
	rc = rc_txn_end(&t, rc);
	if (rc)
		sodium_memzero(def, sizeof(*def));
	return rc;
}

RC_API int rc_service_set_running(rc_store *s, const rc_actor *a, const char *name, int running)
{
	rc_service svc;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, running ? "service.start" : "service.stop", name);
	rc = rc_require(&t, RC_PERM_START_STOP);
	if (!rc)
		rc = rc_service_load(&t, name, &svc);
	if (!rc && svc.state == (running ? RC_SERVICE_RUNNING : RC_SERVICE_STOPPED))
		rc = rc_fail(RC_ERR_STATE, "service \"%s\" is already %s", name,
		             running ? "running" : "stopped");
	if (!rc) {
		svc.state = running ? RC_SERVICE_RUNNING : RC_SERVICE_STOPPED;
		rc = service_put(&t, &svc);
	}
	return rc_txn_end(&t, rc);
}

/* A user of the service being deleted goes, with its tokens and host state. */
static int svcuser_drop(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	rc_svcuser_rec u;
	int rc = rc_svcuser_decode(v->data, v->size, &u);

	(void)k;
	if (!rc && strcmp(u.pub.service, (const char *)ctx) == 0) {
		rc = rc_uid_index_del(t, u.pub.uid);
		if (!rc)
			rc = rc_tokens_revoke_owner(t, u.pub.uid, NULL);
		if (!rc)
			rc = rc_host_user_del(t, u.pub.uid);
		if (!rc)
			rc = RC_WALK_DEL;
	}
	sodium_memzero(&u, sizeof(u));
	return rc;
}

RC_API int rc_service_delete(rc_store *s, const rc_actor *a, const char *name)
{
	rc_service svc;
	rc_txn t;
	int rc = rc_txn_begin(s, a, true, &t);

	if (rc)
		return rc;
	rc_txn_audit(&t, "service.delete", name);
	rc = rc_require(&t, RC_PERM_START_STOP);
	if (!rc)
		rc = rc_service_load(&t, name, &svc);
	if (!rc && svc.state == RC_SERVICE_RUNNING)
		rc = rc_fail(RC_ERR_STATE, "service \"%s\" is running; stop it before deleting it",
		             name);
	if (!rc)
		rc = rc_store_foreach(&t, DB_SVCUSERS, "", 0, svcuser_drop, (void *)(uintptr_t)name);
	if (!rc)
		rc = rc_store_del(&t, DB_SERVICES, name, strlen(name));
	return rc_txn_end(&t, rc);
}

RC_API int rc_service_get(rc_store *s, const rc_actor *a, const char *name, rc_service *out)
{
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_VIEW);
	if (!rc)
		rc = rc_service_load(&t, name, out);
	return rc_txn_end(&t, rc);
}

struct svc_walk {
	rc_service_cb cb;
	void *ctx;
};

static int service_one(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct svc_walk *w = ctx;
	rc_service svc;
	int rc = rc_service_decode(v->data, v->size, &svc);

	(void)t;
	(void)k;
	return rc ? rc : w->cb(&svc, w->ctx);
}

RC_API int rc_service_foreach(rc_store *s, const rc_actor *a, rc_service_cb cb, void *ctx)
{
	struct svc_walk w = { cb, ctx };
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_VIEW);
	if (!rc)
		rc = rc_store_foreach(&t, DB_SERVICES, "", 0, service_one, &w);
	return rc_txn_end(&t, rc);
}

/* Begin a write that manages the users of SERVICE: the right permission, and
 * a running service. */
static int begin_manage(rc_store *s, const rc_actor *a, const char *action,
                        const char *service, const char *user, rc_txn *t, rc_service *svc)
{
	char target[RC_SERVICE_MAX + RC_NAME_MAX + 4];
	int rc = rc_txn_begin(s, a, true, t);

	if (rc)
		return rc;
	snprintf(target, sizeof(target), "%.16s/%.32s", service, user ? user : "");
	rc_txn_audit(t, action, target);
	rc = rc_require(t, RC_PERM_MANAGE_SERVICES);
	if (!rc)
		rc = rc_service_load(t, service, svc);
	if (!rc && svc->state != RC_SERVICE_RUNNING)
		rc = rc_fail(RC_ERR_STATE, "service \"%s\" is stopped: your service must be "
		             "running before you can manage users", service);
	return rc;
}

static int load_user_of(rc_txn *t, const char *service, const char *name, rc_svcuser_rec *u)
{
	int rc = rc_svcuser_load(t, name, u);
	if (rc == RC_OK && strcmp(u->pub.service, service) != 0)
		rc = rc_fail(RC_ERR_NOTFOUND, "service \"%s\" has no user \"%.40s\"", service, name);
	else if (rc == RC_ERR_NOTFOUND)
		rc = rc_fail(RC_ERR_NOTFOUND, "service \"%s\" has no user \"%.40s\"", service, name);
	return rc;
}

RC_API int rc_svcuser_create(rc_store *s, const rc_actor *a, const char *service,
                             const char *username, const char *password, int read_only,
                             int replication, rc_secret_result *out)
{
	rc_service svc;
	svc_pw pw;
	rc_txn t;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rc_valid_svcuser_name(username)) != 0)
		return rc;
	if (password && (rc = rc_valid_svcuser_password(password)) != 0)
		return rc;
	if ((rc = svc_pw_prepare(s, password, &pw, out)) != 0)
		return rc;
	rc = begin_manage(s, a, "service-user.create", service, username, &t, &svc);
	if (!rc)
		rc = svcuser_new(&t, &svc, username, &pw, read_only, replication, 0, out);
	sodium_memzero(&pw, sizeof(pw));
	rc = rc_txn_end(&t, rc);
	if (rc)
		sodium_memzero(out, sizeof(*out));
	return rc;
}

RC_API int rc_svcuser_update_password(rc_store *s, const rc_actor *a, const char *service,
                                      const char *username, const char *password,
                                      rc_secret_result *out)
{
	rc_service svc;
	rc_svcuser_rec u;
	svc_pw pw;
	rc_txn t;
	size_t revoked = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	if (password && (rc = rc_valid_svcuser_password(password)) != 0)
		return rc;
	if ((rc = svc_pw_prepare(s, password, &pw, out)) != 0)
		return rc;
	rc = begin_manage(s, a, "service-user.update-password", service, username, &t, &svc);
	if (!rc)
		rc = load_user_of(&t, service, username, &u);
	if (!rc && u.pub.protected_user)
		rc = rc_fail(RC_ERR_POLICY, "user \"%s\" is protected: its password cannot be updated",
		             username);
	if (!rc) {
		snprintf(out->username, sizeof(out->username), "%s", username);
		svc_pw_apply(&pw, &u);
		rc = rc_svcuser_put(&t, &u);
		/* a new password revokes the user's tokens, as a member's does */
		if (!rc)
			rc = rc_tokens_revoke_owner(&t, u.pub.uid, &revoked);
		if (!rc)
			snprintf(t.detail, sizeof(t.detail), "ok tokens-revoked=%zu", revoked);
	}
	sodium_memzero(&pw, sizeof(pw));
	sodium_memzero(&u, sizeof(u));
	rc = rc_txn_end(&t, rc);
	if (rc)
		sodium_memzero(out, sizeof(*out));
	return rc;
}

RC_API int rc_svcuser_set(rc_store *s, const rc_actor *a, const char *service,
                          const char *username, int read_only, int replication,
                          const char *new_name)
{
	rc_service svc;
	rc_svcuser_rec u;
	rc_txn t;
	size_t revoked = 0;
	int rc;

	memset(&u, 0, sizeof(u));
	if (read_only < 0 && replication < 0 && !new_name)
		return rc_fail_field(RC_ERR_INVALID, "read_only,replication,name", "nothing to "
		                     "change: give read-only, replication or a new name");
	if (new_name && (rc = rc_valid_svcuser_name(new_name)) != 0)
		return rc;
	rc = begin_manage(s, a, "service-user.set", service, username, &t, &svc);
	if (!rc)
		rc = load_user_of(&t, service, username, &u);
	if (!rc && new_name && u.pub.protected_user)
		rc = rc_fail(RC_ERR_POLICY, "user \"%s\" is protected: it cannot be renamed",
		             username);
	if (!rc && new_name && strcmp(new_name, username) != 0) {
		rc = rc_name_check_free(&t, new_name);
		if (!rc)
			rc = rc_store_del(&t, DB_SVCUSERS, username, strlen(username));
		if (!rc) {
			snprintf(u.pub.username, sizeof(u.pub.username), "%s", new_name);
			rc = rc_uid_index_put(&t, u.pub.uid, 's', new_name);
		}
		/* whoever logs in under the new name logs in again */
		if (!rc)
			rc = rc_tokens_revoke_owner(&t, u.pub.uid, &revoked);
		if (!rc)
			snprintf(t.detail, sizeof(t.detail), "ok renamed to %s, tokens-revoked=%zu",
			         new_name, revoked);
	}
	if (!rc) {
		if (read_only >= 0)
			u.pub.read_only = read_only;
		if (replication >= 0)
			u.pub.replication = replication;
		rc = rc_svcuser_put(&t, &u);
	}
	sodium_memzero(&u, sizeof(u));
	return rc_txn_end(&t, rc);
}

RC_API int rc_svcuser_show_password(rc_store *s, const rc_actor *a, const char *service,
                                    const char *username, rc_secret_result *out)
{
	rc_svcuser_rec u;
	rc_service svc;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_MANAGE_SERVICES);
	if (!rc)
		rc = rc_service_load(&t, service, &svc);
	if (!rc)
		rc = load_user_of(&t, service, username, &u);
	if (!rc)
		rc = rc_secret_decrypt(s, u.pw_enc, u.pw_enc_len, out->password,
		                       sizeof(out->password));
	if (!rc)
		snprintf(out->username, sizeof(out->username), "%s", username);
	sodium_memzero(&u, sizeof(u));
	return rc_txn_end(&t, rc);
}

RC_API int rc_svcuser_delete(rc_store *s, const rc_actor *a, const char *service,
                             const char *username)
{
	rc_service svc;
	rc_svcuser_rec u;
	rc_txn t;
	int rc = begin_manage(s, a, "service-user.delete", service, username, &t, &svc);

	memset(&u, 0, sizeof(u));
	if (!rc)
		rc = load_user_of(&t, service, username, &u);
	if (!rc && u.pub.protected_user)
		rc = rc_fail(RC_ERR_POLICY, "user \"%s\" is protected: it cannot be removed",
		             username);
	if (!rc)
		rc = rc_store_del(&t, DB_SVCUSERS, username, strlen(username));
	if (!rc)
		rc = rc_uid_index_del(&t, u.pub.uid);
	if (!rc)
		rc = rc_tokens_revoke_owner(&t, u.pub.uid, NULL);
	if (!rc)
		rc = rc_host_user_del(&t, u.pub.uid);
	sodium_memzero(&u, sizeof(u));
	return rc_txn_end(&t, rc);
}

struct svcuser_walk {
	const char *service;
	rc_svcuser_cb cb;
	void *ctx;
};

static int svcuser_one(rc_txn *t, const rc_val *k, const rc_val *v, void *ctx)
{
	struct svcuser_walk *w = ctx;
	rc_svcuser_rec u;
	int rc = rc_svcuser_decode(v->data, v->size, &u);

	(void)t;
	(void)k;
	if (!rc && strcmp(u.pub.service, w->service) == 0)
		rc = w->cb(&u.pub, w->ctx);
	sodium_memzero(&u, sizeof(u));
	return rc;
}

RC_API int rc_svcuser_foreach(rc_store *s, const rc_actor *a, const char *service,
                              rc_svcuser_cb cb, void *ctx)
{
	struct svcuser_walk w = { service, cb, ctx };
	rc_service svc;
	rc_txn t;
	int rc = rc_txn_begin(s, a, false, &t);

	if (rc)
		return rc;
	rc = rc_require(&t, RC_PERM_VIEW);
	if (!rc)
		rc = rc_service_load(&t, service, &svc);
	if (!rc)
		rc = rc_store_foreach(&t, DB_SVCUSERS, "", 0, svcuser_one, &w);
	return rc_txn_end(&t, rc);
}

/* ---- loading and writing records ------------------------------------------ */

int rc_service_load(rc_txn *t, const char *name, rc_service *svc)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_SERVICES, name, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no service named \"%.40s\"", name);
	return rc ? rc : rc_service_decode(v.data, v.size, svc);
}

int rc_svcuser_load(rc_txn *t, const char *name, rc_svcuser_rec *u)
{
	rc_val v;
	int rc = rc_store_gets(t, DB_SVCUSERS, name, &v);

	if (rc == RC_ERR_NOTFOUND)
		return rc_fail(RC_ERR_NOTFOUND, "no service user named \"%.40s\"", name);
	if (!rc)
		rc = rc_svcuser_decode(v.data, v.size, u);
	return rc ? rc : rc_host_svcuser_load(t, u);
}

/* Membership only (see rc_member_put). */
int rc_svcuser_put(rc_txn *t, const rc_svcuser_rec *u)
{
	rc_svcuser_rec rec = *u;
	rc_wbuf w;
	int rc;

	rec.pub.failed = 0;
	rec.pub.failed_at = rec.pub.lock_until = 0;
	rc_svcuser_encode(&rec, &w);
	rc = rc_store_putw(t, DB_SVCUSERS, rec.pub.username, strlen(rec.pub.username), &w, 0);
	rc_wbuf_free(&w);
	sodium_memzero(&rec, sizeof(rec));
	return rc;
}
