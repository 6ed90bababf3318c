/* ALBM: albmd's replay state on disk — the newest accepted report of each agent */
#ifndef ALBM_DISTRIBUTOR_REPLAY_STORE_H
#define ALBM_DISTRIBUTOR_REPLAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "albm/metrics-t.h"
#include "distributor/buf.h"
#include "proto/report.h"

#define ALBMD_REPLAY_FILE       "agents.replay"
#define ALBMD_REPLAY_PERSIST_MS 2000 /* at most this often, and at a clean stop */

struct albmd_replay_entry {
	char name[ALBM_NAME_MAX];
	struct albm_replay st;
};

/* The state directory in force: state_dir, else systemd's $STATE_DIRECTORY (its first
 * path), else NULL (replay state in memory only). */
const char *albmd_state_dir(const char *state_dir);
/* One line per entry into b (the file's text). */
void albmd_replay_format(struct albmd_buf *b, const struct albmd_replay_entry *e, size_t n);
/* Parse the file's text: entries into *out (malloc()ed, *n of them); lines that do not
 * parse are skipped (a torn or foreign file must not stop albmd).  0 or -EINVAL when the
 * header is not ours. */
int albmd_replay_parse(const char *text, size_t len, struct albmd_replay_entry **out, size_t *n);
/* Read DIR/agents.replay (missing: 0 entries); 0 or -errno with err. */
int albmd_replay_load(const char *dir, struct albmd_replay_entry **out, size_t *n, char *err,
		      size_t errlen);
/* Write text to DIR/agents.replay atomically and durably: a temporary file, fsync,
 * rename, fsync of the directory.  0 or -errno with err. */
int albmd_replay_save(const char *dir, const char *text, size_t len, char *err, size_t errlen);

#endif
