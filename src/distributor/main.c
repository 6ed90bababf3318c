/* ALBM: albmd, the load distributor — command line */
#include <stdio.h>
#include <string.h>

#include "sched/sched.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: albmd --list-schedulers\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list-schedulers")) {
		for (size_t i = 0; i < albm_sched_count(); i++)
			printf("%s\n", albm_sched_at(i)->name);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
