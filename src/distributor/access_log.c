/* ALBM: the per-connection log's target — a file or a syslog socket, shared by the workers
 *
 * The main thread opens the target at each configuration change (a reload reopens the
 * file, which is how logrotate's postrotate `kill -HUP` works) and installs it; the
 * workers pick up the new one on their next sweep.  The daemon's pointer is guarded by
 * one leaf mutex, taken by the main thread at a reload and by a worker only when the
 * generation it holds is old: never per connection.
 */
#include "distributor/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "distributor/daemon.h"

static pthread_mutex_t alog_lock = PTHREAD_MUTEX_INITIALIZER;

/* syslog: the socket must exist and take datagrams now (a typo fails the reload) */
static int syslog_probe(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	/* the config checked its length */
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		albm_seterr(err, errlen, "access-log syslog: %s: %s", path, strerror(errno));
	}
	close(fd);
	return rc;
}

int albmd_alog_open(const struct albmd_config *cfg, struct albmd_alog **out, char *err,
		    size_t errlen)
{
	struct albmd_alog *a;
	int rc;

	*out = NULL;
	if (cfg->access_log == ALBMD_ALOG_OFF)
		return 0;
	a = xcalloc(1, sizeof(*a));
	a->refs = 1;
	a->kind = cfg->access_log;
	a->fd = -1;
	snprintf(a->path, sizeof(a->path), "%s", cfg->access_log_path);
	if (a->kind == ALBMD_ALOG_FILE) {
		a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (a->fd < 0) {
			rc = -errno;
			albm_seterr(err, errlen, "access-log %s: %s", a->path, strerror(errno));
			free(a);
			return rc;
		}
	} else if ((rc = syslog_probe(a->path, err, errlen)) < 0) {
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void albmd_alog_put(struct albmd_alog *a)
{
	if (!a || __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

void albmd_alog_install(struct albmd *d, struct albmd_alog *a)
{
	struct albmd_alog *old;

	pthread_mutex_lock(&alog_lock);
	old = d->alog;
	d->alog = a;
	__atomic_add_fetch(&d->alog_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&alog_lock);
	albmd_alog_put(old);
}

uint64_t albmd_alog_generation(const struct albmd *d)
{
	return __atomic_load_n(&d->alog_gen, __ATOMIC_ACQUIRE);
}

struct albmd_alog *albmd_alog_get(struct albmd *d, uint64_t *gen)
{
	struct albmd_alog *a;

	pthread_mutex_lock(&alog_lock);
	a = d->alog;
	if (a)
		__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	*gen = __atomic_load_n(&d->alog_gen, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&alog_lock);
	return a;
}
