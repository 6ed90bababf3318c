/* ALBM: unit tests for the agent's UDP report sender and HAProxy responder (loopback sockets) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/haproxy_agent.h"
#include "agent/report_sender.h"
#include "common/log.h"
#include "common/util.h"

static const uint8_t key[ALBM_KEY_LEN] = "k-for-sender-tests-0123456789ab";

/* A UDP socket bound to 127.0.0.1 on a kernel-chosen port; *port receives it. */
static int udp_receiver(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void recv_report(int fd, struct albm_report *r)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[ALBM_REPORT_MAX];
	char err[128];
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	if (albm_report_decode(buf, (size_t)n, key, r, err, sizeof(err)))
		fail_msg("decode: %s", err);
}

static void test_parse_list(void **state)
{
	struct albm_addr a[4];
	char err[256] = "";
	(void)state;

	assert_int_equal(
		albm_sender_parse_list("127.0.0.1:7000,[::1]:7001", a, 4, err, sizeof(err)), 2);
	assert_int_equal(albm_addr_port(&a[1]), 7001);
	assert_int_equal(albm_sender_parse_list("127.0.0.1:7000,", a, 4, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(albm_sender_parse_list("127.0.0.1:7000,nohost:80", a, 4, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'nohost:80'"));
	assert_int_equal(
		albm_sender_parse_list("1.1.1.1:1,1.1.1.1:2,1.1.1.1:3", a, 2, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "more than 2"));
}

/* Every distributor gets the same signed report; seq counts up within one boot. */
static void test_send_to_all(void **state)
{
	struct albm_metrics m = {
		.name = "web-2", .mem_total_bytes = 100, .mem_available_bytes = 50, .cpu_util = 0.25
	};
	struct albm_sender s, s2;
	struct albm_report r1, r2;
	unsigned p1, p2;
	int fd1 = udp_receiver(&p1), fd2 = udp_receiver(&p2);
	char list[64], err[256];
	uint64_t before = albm_wall_ms();
	(void)state;

	snprintf(list, sizeof(list), "127.0.0.1:%u,127.0.0.1:%u", p1, p2);
	assert_int_equal(albm_sender_init(&s, list, key, 100, err, sizeof(err)), 0);
	assert_int_equal(albm_sender_send(&s, &m), 2);
	recv_report(fd1, &r1);
	recv_report(fd2, &r2);
	assert_true(r1.seq == 1 && r2.seq == 1 && r1.boot_id == r2.boot_id);
	assert_string_equal(r1.m.name, "web-2");
	assert_int_equal(r1.interval_ms, 100);
	assert_true(r1.timestamp_ms >= before && r1.timestamp_ms <= albm_wall_ms());
	m.state = ALBM_AGENT_OVERLOADED;
	assert_int_equal(albm_sender_send(&s, &m), 2);
	recv_report(fd1, &r2);
	assert_true(r2.seq == 2 && r2.boot_id == r1.boot_id);
	assert_int_equal(r2.m.state, ALBM_AGENT_OVERLOADED);
	/* a second start draws another boot id */
	assert_int_equal(albm_sender_init(&s2, list, key, 100, err, sizeof(err)), 0);
	assert_true(s2.boot_id != s.boot_id);
	albm_sender_free(&s2);
	albm_sender_free(&s);
	close(fd1);
	close(fd2);
}

/* An unreachable distributor does not stop reporting; it is seen again when back. */
static void test_unreachable_then_back(void **state)
{
	struct albm_metrics m = { .name = "web-3", .mem_total_bytes = 1 };
	struct albm_sender s;
	struct albm_report r;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned port;
	int fd = udp_receiver(&port);
	char list[64], err[256];
	(void)state;

	close(fd); /* nobody listens there now: ICMP port unreachable */
	snprintf(list, sizeof(list), "127.0.0.1:%u", port);
	assert_int_equal(albm_sender_init(&s, list, key, 100, err, sizeof(err)), 0);
	/* ICMP errors arrive asynchronously: give them a few milliseconds each */
	for (int i = 0; i < 50 && (i < 6 || s.dest[0].errors < 2); i++) {
		albm_sender_send(&s, &m);
		usleep(2000);
	}
	assert_true(s.dest[0].failing);
	assert_true(s.dest[0].errors >= 2);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		skip(); /* someone else took the port meanwhile */
	}
	for (int i = 0; i < 50 && s.dest[0].failing; i++) {
		albm_sender_send(&s, &m);
		usleep(2000);
	}
	assert_false(s.dest[0].failing);
	recv_report(fd, &r);
	assert_true(r.seq > 6); /* the sequence went on while it was away */
	albm_sender_free(&s);
	close(fd);
}

static void test_sender_bad_input(void **state)
{
	struct albm_sender s;
	char err[256] = "";
	(void)state;

	assert_int_equal(albm_sender_init(&s, "127.0.0.1", key, 100, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--distributor"));
}

/* The agent-check listener answers each connection with the current line. */
static void test_haproxy_listener(void **state)
{
	char err[256], addr[32], buf[128];
	int lfd = -1, c;
	ssize_t n;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	(void)state;

	for (unsigned port = 20000 + (unsigned)getpid() % 20000, i = 0; lfd < 0 && i < 50; i++) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%u", port + i);
		lfd = albm_haproxy_listen(addr, err, sizeof(err));
		a.sin_port = htons((uint16_t)(port + i));
	}
	assert_true(lfd >= 0);
	for (int round = 0; round < 2; round++) {
		const char *line = round ? "drain up\n" : "ready up 42%\n";

		c = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(send(c, "hello\n", 6, 0), 6); /* like HAProxy's agent-send */
		poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, 2000);
		albm_haproxy_serve(lfd, line);
		n = recv(c, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = '\0';
		assert_string_equal(buf, line);
		assert_int_equal(recv(c, buf, sizeof(buf), 0), 0); /* then closed */
		close(c);
	}
	close(lfd);
	assert_int_equal(albm_haproxy_listen("localhost:80", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--haproxy-listen 'localhost:80'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_list),
		cmocka_unit_test(test_send_to_all),
		cmocka_unit_test(test_unreachable_then_back),
		cmocka_unit_test(test_sender_bad_input),
		cmocka_unit_test(test_haproxy_listener),
	};
	albm_log_init("test_agent_sender", ALBM_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
