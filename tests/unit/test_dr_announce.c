/* ALBM: the tun-device VIP announcement (dr_announce) in a private network namespace */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "dr/dr_announce.h"

static char skip_reason[128];

#define NEED_NETNS()                                              \
	do {                                                      \
		if (skip_reason[0]) {                             \
			print_message("skip: %s\n", skip_reason); \
			skip();                                   \
		}                                                 \
	} while (0)

static struct albm_addr host(const char *text)
{
	struct albm_addr a;
	char err[128];

	assert_int_equal(albm_addr_parse_host(text, &a, err, sizeof(err)), 0);
	return a;
}

/* Is text an address of interface ifname right now? */
static bool has_addr(const char *ifname, const char *text)
{
	struct ifaddrs *ifa, *i;
	char buf[INET6_ADDRSTRLEN];
	bool found = false;

	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, ifname) != 0)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
				  sizeof(buf));
		else if (i->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf,
				  sizeof(buf));
		else
			continue;
		found = strcmp(buf, text) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

/* Wait up to 2 s for the interface to be gone. */
static bool gone(const char *ifname)
{
	for (int i = 0; i < 200; i++) {
		if (!if_nametoindex(ifname))
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return false;
}

static void test_announce_add_del_close(void **state)
{
	struct albm_addr v4 = host("10.78.9.100"), v6 = host("fd78:9::100");
	struct dr_announce *a, *b;
	char err[256];
	(void)state;

	NEED_NETNS();
	a = dr_announce_open("albm-vip0", err, sizeof(err));
	if (!a)
		fail_msg("%s", err);
	assert_int_equal(dr_announce_ifindex(a), (int)if_nametoindex("albm-vip0"));
	assert_int_equal(dr_announce_add(a, &v4, err, sizeof(err)), 0);
	assert_int_equal(dr_announce_add(a, &v6, err, sizeof(err)), 0);
	assert_true(has_addr("albm-vip0", "10.78.9.100"));
	assert_true(has_addr("albm-vip0", "fd78:9::100"));
	/* the same VIP twice, and a second holder of the name: refused with a message */
	assert_int_equal(dr_announce_add(a, &v4, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "10.78.9.100"));
	b = dr_announce_open("albm-vip0", err, sizeof(err));
	assert_null(b);
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(err, "another process"));
	assert_int_equal(dr_announce_del(a, &v4, err, sizeof(err)), 0);
	assert_false(has_addr("albm-vip0", "10.78.9.100"));
	assert_true(has_addr("albm-vip0", "fd78:9::100"));
	dr_announce_close(a);
	assert_true(gone("albm-vip0"));
	assert_null(dr_announce_open("a-name-far-too-long", err, sizeof(err)));
}

/* The point of the design: SIGKILL of the holder removes the device (the VIP). */
static void test_announce_dies_with_its_process(void **state)
{
	int pfd[2], status;
	char c = 0;
	pid_t pid;
	(void)state;

	NEED_NETNS();
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct albm_addr v4 = host("10.78.9.101");
		char err[256];
		struct dr_announce *a = dr_announce_open("albm-vip1", err, sizeof(err));

		c = a && dr_announce_add(a, &v4, err, sizeof(err)) == 0 ? 'y' : 'n';
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		pause(); /* until killed */
		_exit(0);
	}
	assert_int_equal(read(pfd[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_true(has_addr("albm-vip1", "10.78.9.101"));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(gone("albm-vip1"));
	close(pfd[0]);
	close(pfd[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_add_del_close),
		cmocka_unit_test(test_announce_dies_with_its_process),
	};

	/* A private network namespace: the devices never appear on the host. */
	if (unshare(CLONE_NEWNET) < 0)
		snprintf(skip_reason, sizeof(skip_reason), "unshare(CLONE_NEWNET): %s (needs root)",
			 strerror(errno));
	else if (access("/dev/net/tun", R_OK | W_OK) < 0)
		snprintf(skip_reason, sizeof(skip_reason), "/dev/net/tun: %s", strerror(errno));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
