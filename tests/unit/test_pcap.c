/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test_pcap.c: unit tests for protocols/pcap.c, the --pcap writer
 * (cmocka).  The file is read back block by block and every packet
 * checked on its own: no Wireshark needed (tests/capture.sh runs
 * tshark on real sessions).
 *
 * Test plan:
 *   pcap-1  the Internet checksum: RFC 1071's example, an IPv4 header
 *           from the wild, odd lengths, a header with its checksum in
 *           sums to zero
 *   pcap-2  the file: a Section Header Block (byte-order magic, version
 *           1.0), one Interface Description Block (LINKTYPE_RAW), then
 *           Enhanced Packet Blocks whose two lengths agree, 32-bit
 *           aligned, timestamps as given
 *   pcap-3  IPv4: SYN / SYN-ACK / ACK with the initial sequence numbers
 *           given; data in both directions split at the MSS (1460), the
 *           last segment with PSH, each answered by an ACK; sequence
 *           and acknowledgement numbers follow the bytes; the IP and
 *           TCP checksums are right in every packet; the marked comment
 *           is on the next packet only; FIN from the server, then from
 *           mailsh, then the last ACK; the real addresses and ports
 *   pcap-4  IPv6: the same with the MSS 1440, a 40-byte header, the
 *           IPv6 pseudo-header
 *   pcap-5  an IPv4-mapped IPv6 address is written as IPv4
 *   pcap-6  sequence numbers wrap around 2^32
 *   pcap-7  a write error (/dev/full) is reported, and nothing more is
 *           written after it
 *
 * The binary exits non-zero when a test fails (cmocka's summary).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../protocols/pcap.h"

/* ---- reading the file back ---- */

struct pkt {
	uint64_t usec;
	uint8_t data[2048];
	size_t len;
	char comment[PCAP_COMMENT_MAX];
	/* decoded */
	int version;
	size_t iph;
	const uint8_t *src, *dst;
	unsigned sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	size_t tcph, plen;
	const uint8_t *payload;
};

#define MAXPKT 64

static struct pkt pkts[MAXPKT];
static size_t npkts;
static unsigned linktype;

static uint32_t
rd32(const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, 4);	/* host order, as the writer wrote it */
	return v;
}

static uint16_t
rd16(const uint8_t *b)
{
	uint16_t v;
	memcpy(&v, b, 2);
	return v;
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

static unsigned
be16(const uint8_t *b)
{
	return (unsigned)(b[0] << 8 | b[1]);
}

/* Checks a packet's checksums and decodes its headers. */
static void
decode(struct pkt *p)
{
	const uint8_t *b = p->data;
	p->version = b[0] >> 4;
	uint32_t sum;
	size_t alen;
	size_t tcplen;
	if (p->version == 4) {
		p->iph = (size_t)(b[0] & 15) * 4;
		assert_int_equal(p->iph, 20);
		assert_int_equal(be16(b + 2), p->len);
		assert_int_equal(b[9], IPPROTO_TCP);
		assert_int_equal(pcap_cksum(b, 20, 0), 0);	/* header ok */
		p->src = b + 12;
		p->dst = b + 16;
		alen = 4;
		tcplen = p->len - 20;
	} else {
		assert_int_equal(p->version, 6);
		p->iph = 40;
		assert_int_equal(be16(b + 4), p->len - 40);
		assert_int_equal(b[6], IPPROTO_TCP);
		p->src = b + 8;
		p->dst = b + 24;
		alen = 16;
		tcplen = p->len - 40;
	}
	sum = IPPROTO_TCP + (uint32_t)tcplen;
	for (size_t i = 0; i < alen; i += 2)
		sum += be16(p->src + i) + be16(p->dst + i);
	const uint8_t *t = b + p->iph;
	assert_int_equal(pcap_cksum(t, tcplen, sum), 0);	/* TCP ok */
	p->sport = be16(t);
	p->dport = be16(t + 2);
	p->seq = be32(t + 4);
	p->ack = be32(t + 8);
	p->tcph = (size_t)(t[12] >> 4) * 4;
	p->flags = t[13];
	p->payload = t + p->tcph;
	p->plen = tcplen - p->tcph;
}

/* Reads the whole file f back into pkts[]. */
static void
read_back(FILE *f)
{
	static uint8_t buf[1 << 20];
	fflush(f);
	rewind(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	size_t off = 0;
	int blocks = 0;
	npkts = 0;
	while (off < n) {
		assert_true(off + 12 <= n);
		uint32_t type = rd32(buf + off), len = rd32(buf + off + 4);
		assert_int_equal(len % 4, 0);
		assert_true(off + len <= n);
		assert_int_equal(rd32(buf + off + len - 4), len);
		const uint8_t *b = buf + off;
		if (blocks == 0) {
			assert_int_equal(type, 0x0A0D0D0Au);
			assert_int_equal(rd32(b + 8), 0x1A2B3C4Du);
			assert_int_equal(rd16(b + 12), 1);
			assert_int_equal(rd16(b + 14), 0);
		} else if (blocks == 1) {
			assert_int_equal(type, 1);
			linktype = rd16(b + 8);
		} else {
			assert_int_equal(type, 6);
			assert_true(npkts < MAXPKT);
			struct pkt *p = &pkts[npkts++];
			memset(p, 0, sizeof(*p));
			assert_int_equal(rd32(b + 8), 0);	/* interface */
			p->usec = (uint64_t)rd32(b + 12) << 32 | rd32(b + 16);
			p->len = rd32(b + 20);
			assert_int_equal(rd32(b + 24), p->len);
			assert_true(p->len <= sizeof(p->data));
			memcpy(p->data, b + 28, p->len);
			size_t o = 28 + ((p->len + 3) & ~(size_t)3);
			while (o + 4 <= len - 4) {
				unsigned code = rd16(b + o), ol = rd16(b + o + 2);
				if (code == 0)
					break;
				if (code == 1)
					snprintf(p->comment, sizeof(p->comment),
					    "%.*s", (int)ol, (const char *)b + o
					    + 4);
				o += 4 + ((ol + 3) & ~3u);
			}
			decode(p);
		}
		blocks++;
		off += len;
	}
	assert_int_equal(off, n);
	assert_true(blocks >= 2);
}

/* ---- a session ---- */

static struct sockaddr_storage cli, srv;

static const struct sockaddr *
v4(struct sockaddr_storage *ss, const char *a, unsigned port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
	return (const struct sockaddr *)ss;
}

static const struct sockaddr *
v6(struct sockaddr_storage *ss, const char *a, unsigned port)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
	return (const struct sockaddr *)ss;
}

/* Checks one packet's direction, flags, numbers and payload size. */
static void
want(size_t i, bool from_server, uint8_t flags, uint32_t seq, uint32_t ack,
    size_t plen)
{
	assert_true(i < npkts);
	const struct pkt *p = &pkts[i];
	assert_int_equal(p->sport, from_server ? 143 : 50000);
	assert_int_equal(p->dport, from_server ? 50000 : 143);
	assert_int_equal(p->flags, flags);
	assert_int_equal(p->seq, seq);
	if (flags & 0x10)
		assert_int_equal(p->ack, ack);
	assert_int_equal(p->plen, plen);
}

/* The session pcap-3, -4 and -6 record: returns the MSS it expects. */
static void
session(const struct sockaddr *c, const struct sockaddr *s, uint32_t ic,
    uint32_t is, size_t mss)
{
	static struct pcap p;
	static char big[3000];
	FILE *f = tmpfile();
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(pcap_start(&p, f, "test"), 0);
	assert_int_equal(pcap_connect(&p, c, s, ic, is, 1000), 0);
	assert_int_equal(pcap_data(&p, true, "* OK\r\n", 6, 2000), 0);
	assert_int_equal(pcap_data(&p, false, "a STARTTLS\r\n", 12, 3000),
	    0);
	pcap_mark(&p, "TLS here");
	assert_int_equal(pcap_data(&p, true, big, sizeof(big), 4000), 0);
	assert_int_equal(pcap_fin(&p, true, 5000), 0);
	assert_int_equal(pcap_close(&p, 6000), 0);
	read_back(f);
	fclose(f);
	assert_int_equal(linktype, 101);

	uint32_t c1 = ic + 1, s1 = is + 1;
	size_t i = 0;
	want(i++, false, 0x02, ic, 0, 0);			/* SYN */
	want(i++, true, 0x12, is, c1, 0);			/* SYN-ACK */
	want(i++, false, 0x10, c1, s1, 0);			/* ACK */
	assert_int_equal(pkts[0].tcph, 24);			/* MSS opt */
	assert_int_equal(be16(pkts[0].data + pkts[0].iph + 22), mss);
	want(i++, true, 0x18, s1, c1, 6);
	assert_memory_equal(pkts[i - 1].payload, "* OK\r\n", 6);
	assert_true(pkts[i - 1].usec == 2000);
	want(i++, false, 0x10, c1, s1 + 6, 0);
	want(i++, false, 0x18, c1, s1 + 6, 12);
	want(i++, true, 0x10, s1 + 6, c1 + 12, 0);
	/* 3000 bytes from the server: MSS, MSS, rest (PSH), one ACK */
	uint32_t sq = s1 + 6;
	size_t left = sizeof(big);
	size_t first = i;
	while (left > 0) {
		size_t k = left < mss ? left : mss;
		want(i, true, k == left ? 0x18 : 0x10, sq, c1 + 12, k);
		assert_memory_equal(pkts[i].payload, big + (sq - s1 - 6), k);
		assert_true(pkts[i].usec == 4000);
		sq += (uint32_t)k;
		left -= k;
		i++;
	}
	assert_string_equal(pkts[first].comment, "TLS here");
	for (size_t k = 0; k < npkts; k++)
		if (k != first)
			assert_string_equal(pkts[k].comment, "");
	want(i++, false, 0x10, c1 + 12, sq, 0);
	want(i++, true, 0x11, sq, c1 + 12, 0);			/* FIN */
	want(i++, false, 0x11, c1 + 12, sq + 1, 0);		/* FIN */
	want(i++, true, 0x10, sq + 1, c1 + 13, 0);		/* last ACK */
	assert_int_equal(i, npkts);
	assert_true(pkts[i - 1].usec == 6000);
	assert_memory_equal(pkts[0].src, pkts[1].dst,
	    pkts[0].version == 4 ? 4 : 16);
}

/* ---- tests ---- */

/* pcap-1 */
static void
test_cksum(void **state)
{
	(void)state;
	/* RFC 1071 4.1: the sum of these is ddf2, the checksum its
	 * complement */
	static const uint8_t r[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
	    0xf6, 0xf7 };
	assert_int_equal(pcap_cksum(r, sizeof(r), 0), 0x220d);
	/* an IPv4 header with its checksum (b861) zeroed, then in */
	uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
	    0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
	    0x00, 0xc7 };
	assert_int_equal(pcap_cksum(ip, sizeof(ip), 0), 0xb861);
	ip[10] = 0xb8;
	ip[11] = 0x61;
	assert_int_equal(pcap_cksum(ip, sizeof(ip), 0), 0);
	/* an odd length pads with a zero byte */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	assert_int_equal(pcap_cksum(odd, 3, 0), (uint16_t)~(0x1234 + 0x5600));
	/* the carry folds back in */
	static const uint8_t ff[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x02 };
	assert_int_equal(pcap_cksum(ff, sizeof(ff), 0), 0xfffd);
	assert_int_equal(pcap_cksum(NULL, 0, 0), 0xffff);
}

/* pcap-2: the blocks are checked by read_back() for every session */
static void
test_file(void **state)
{
	(void)state;
	static struct pcap p;
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(pcap_start(&p, f, "x"), 0);
	read_back(f);
	assert_int_equal(npkts, 0);
	assert_int_equal(linktype, 101);
	/* data without a connection is not written */
	assert_int_equal(pcap_data(&p, false, "x", 1, 1), 0);
	assert_int_equal(pcap_close(&p, 1), 0);
	read_back(f);
	assert_int_equal(npkts, 0);
	fclose(f);
}

/* pcap-3 */
static void
test_ipv4(void **state)
{
	(void)state;
	session(v4(&cli, "127.0.0.1", 50000), v4(&srv, "127.0.0.2", 143),
	    1000, 7000000, PCAP_MSS4);
	assert_int_equal(pkts[0].version, 4);
	assert_memory_equal(pkts[0].src, "\x7f\x00\x00\x01", 4);
	assert_memory_equal(pkts[0].dst, "\x7f\x00\x00\x02", 4);
	/* the IP ids count up */
	assert_int_equal(be16(pkts[1].data + 4), be16(pkts[0].data + 4) + 1);
}

/* pcap-4 */
static void
test_ipv6(void **state)
{
	(void)state;
	session(v6(&cli, "2001:db8::1", 50000), v6(&srv, "::1", 143), 5, 9,
	    PCAP_MSS6);
	assert_int_equal(pkts[0].version, 6);
	assert_int_equal(pkts[0].src[0], 0x20);
	assert_int_equal(pkts[0].dst[15], 1);
}

/* pcap-5 */
static void
test_mapped(void **state)
{
	(void)state;
	session(v6(&cli, "::ffff:10.0.0.1", 50000),
	    v6(&srv, "::ffff:10.0.0.2", 143), 1, 2, PCAP_MSS4);
	assert_int_equal(pkts[0].version, 4);
	assert_memory_equal(pkts[0].src, "\x0a\x00\x00\x01", 4);
}

/* pcap-6 */
static void
test_wrap(void **state)
{
	(void)state;
	session(v4(&cli, "127.0.0.1", 50000), v4(&srv, "127.0.0.1", 143),
	    0xfffffff0u, 0xfffffffeu, PCAP_MSS4);
}

/* pcap-7 */
static void
test_write_error(void **state)
{
	(void)state;
	static struct pcap p;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	assert_int_equal(pcap_start(&p, f, "full"), -1);
	assert_true(p.failed);
	assert_int_equal(pcap_connect(&p, v4(&cli, "127.0.0.1", 1),
	    v4(&srv, "127.0.0.1", 2), 1, 1, 1), -1);
	assert_int_equal(p.packets, 0);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cksum),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
