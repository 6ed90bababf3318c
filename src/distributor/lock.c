/* ALBM: albmd's control-plane lock — the daemon lock plus every service's lock
 *
 * The hot path (proxy workers) takes one service's lock; the main thread's control
 * plane takes the daemon lock and then, in list order, the lock of every service,
 * so that each of its sections (a control command, an agent report, a health check,
 * the tick, a reload) holds the lock of whatever service it touches.  The services
 * are referenced while locked: a reload may retire one (and drop the list's
 * reference) inside the section, and its lock is still released at the end.
 */
#include "distributor/daemon.h"

#include <stdlib.h>

#include "common/util.h"
#include "distributor/service.h"

static void held_add(struct albmd_held *h, struct albmd_service *svc)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	albmd_service_ref(svc);
	albmd_service_lock(svc);
	h->v[h->n++] = svc;
}

void albmd_lock(struct albmd *d)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->nservices; i++)
		held_add(&d->held, d->services[i]);
	d->held.active = true;
}

void albmd_lock_adopt(struct albmd *d, struct albmd_service *svc)
{
	if (d->held.active)
		held_add(&d->held, svc);
}

void albmd_unlock(struct albmd *d)
{
	struct albmd_held *h = &d->held;

	h->active = false;
	while (h->n) {
		struct albmd_service *svc = h->v[--h->n];
		albmd_service_unlock(svc);
		albmd_service_unref(svc); /* may free a service a reload retired */
	}
	pthread_mutex_unlock(&d->lock);
}

void albmd_lock_done(struct albmd *d)
{
	free(d->held.v);
	d->held.v = NULL;
	d->held.n = d->held.cap = 0;
}
