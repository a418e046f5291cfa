/*
 * weft-demo-waiter - one waiter serving many customers (concurrency without
 * parallelism: one thread deals with many things at once).
 *
 *   weft-demo-waiter [--customers 6] [--orders 4]
 *
 * Each customer is a thread ("customer-N") with two pipes to the waiter: it
 * writes an order into its order pipe, then blocks reading its reply pipe
 * until the waiter answers, then thinks for a while (sleeps) before the next
 * order. The waiter (the main thread, named "waiter") sits in poll() over
 * all the order pipes, reads whichever orders are ready, does a little work
 * and writes the reply.
 *
 * What to see in the timeline: the waiter is Blocked with reason 'poll' most
 * of the time and wakes briefly for each order; customers alternate Blocked
 * 'sleep' (thinking) and Blocked 'io' (waiting for their reply); message
 * arrows go customer -> waiter on the order pipes and waiter -> customer on
 * the reply pipes. Under 0.5 s; the output is the same on every run.
 */
#include "demo.h"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

enum { MAX_CUSTOMERS = 64 };

struct customer {
	pthread_t thread;
	int index;
	int orders;
	int order_fd[2]; /* customer writes [1], waiter reads [0] */
	int reply_fd[2]; /* waiter writes [1], customer reads [0] */
	long total;	 /* sum of the replies the customer received */
};

static void *customer_main(void *arg)
{
	struct customer *me = arg;
	char name[16];
	snprintf(name, sizeof name, "customer-%d", me->index);
	pthread_setname_np(pthread_self(), name);

	for (int k = 0; k < me->orders; k++) {
		demo_sleep_ms(10 + 7 * me->index % 30); /* thinking about the order */
		int order = me->index * 100 + k;
		if (write(me->order_fd[1], &order, sizeof order) != sizeof order)
			demo_die("write order", errno);
		int reply;
		if (read(me->reply_fd[0], &reply, sizeof reply) != sizeof reply)
			demo_die("read reply", errno);
		me->total += reply;
	}
	close(me->order_fd[1]); /* the waiter sees end-of-file: customer left */
	return NULL;
}

int main(int argc, char **argv)
{
	int ncustomers = 6, orders = 4;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--customers") == 0)
			ncustomers = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--orders") == 0)
			orders = atoi(argv[i + 1]);
	}
	if (ncustomers < 1 || ncustomers > MAX_CUSTOMERS || orders < 1) {
		fprintf(stderr, "usage: weft-demo-waiter [--customers 1..64] [--orders N]\n");
		return 2;
	}
	pthread_setname_np(pthread_self(), "waiter");

	static struct customer customer[MAX_CUSTOMERS];
	for (int i = 0; i < ncustomers; i++) {
		customer[i] = (struct customer){.index = i, .orders = orders};
		if (pipe(customer[i].order_fd) != 0 || pipe(customer[i].reply_fd) != 0)
			demo_die("pipe", errno);
	}
	for (int i = 0; i < ncustomers; i++) {
		int err = pthread_create(&customer[i].thread, NULL, customer_main, &customer[i]);
		if (err)
			demo_die("pthread_create", err);
	}

	struct pollfd pfd[MAX_CUSTOMERS];
	int open_customers = ncustomers, served = 0;
	for (int i = 0; i < ncustomers; i++)
		pfd[i] = (struct pollfd){.fd = customer[i].order_fd[0], .events = POLLIN};
	while (open_customers > 0) {
		if (poll(pfd, (nfds_t)ncustomers, -1) < 0) {
			if (errno == EINTR)
				continue;
			demo_die("poll", errno);
		}
		for (int i = 0; i < ncustomers; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			int order;
			ssize_t n = read(pfd[i].fd, &order, sizeof order);
			if (n == 0) { /* customer closed its order pipe */
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_customers--;
				continue;
			}
			if (n != sizeof order)
				demo_die("read order", errno);
			int reply = order * 2 + (int)(demo_spin((uint64_t)order + 1, 200000) & 1);
			if (write(customer[i].reply_fd[1], &reply, sizeof reply) != sizeof reply)
				demo_die("write reply", errno);
			served++;
		}
	}

	for (int i = 0; i < ncustomers; i++)
		pthread_join(customer[i].thread, NULL);
	printf("the waiter served %d orders from %d customers\n", served, ncustomers);
	for (int i = 0; i < ncustomers; i++)
		printf("customer-%d: %d orders, reply total %ld\n", i, orders, customer[i].total);
	return 0;
}
