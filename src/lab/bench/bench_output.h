/* ALBM: albm-bench's outputs — the terminal table, CSV and JSON */
#ifndef ALBM_LAB_BENCH_OUTPUT_H
#define ALBM_LAB_BENCH_OUTPUT_H

#include <stdio.h>

#include "lab/bench/bench_run.h"

/* Human table: one header, then one line per step as it finishes (open: rate columns). */
void bench_print_header(FILE *f, bool open);
void bench_print_step(FILE *f, const struct bench_result *r, const struct bench_servers *s);

/*
 * CSV (docs/lab.md is the contract): one header line
 *   step,clients,duration_s,requests,errors,rps,mib_s,p50_ms,p90_ms,p99_ms,share_<NAME>...
 * with one share column per server seen in the whole run, names sorted, then one
 * row per step.  Percentiles are empty when a step had no successful request.  In
 * open loop p999_ms,rate,sent_rps,late_pct come before the share columns.
 * Returns 0 or -EIO.
 */
int bench_write_csv(FILE *f, const struct bench_cfg *cfg, const struct bench_out *out);
/* The warning for an open-loop step whose target rate was not sent, or NULL. */
const char *bench_rate_warning(const struct bench_result *r, char *buf, size_t len);
/* JSON: the run's configuration and the same per-step data, with details. */
int bench_write_json(FILE *f, const struct bench_cfg *cfg, const struct bench_out *out);

/* "share_" + name with every character outside [A-Za-z0-9_.-] replaced by '_'. */
char *bench_share_column(const char *name, char *buf, size_t len);

#endif
