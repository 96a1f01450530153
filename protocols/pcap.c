/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pcap.c: the --pcap writer (see pcap.h for the formats it relies on).
 * It knows nothing of mail protocols or TLS: conn.c hands it bytes.
 */
#include "pcap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

/* pcapng block types and options */
#define BT_SHB		0x0A0D0D0Au
#define BT_IDB		0x00000001u
#define BT_EPB		0x00000006u
#define BO_MAGIC	0x1A2B3C4Du
#define OPT_END		0
#define OPT_COMMENT	1
#define SHB_USERAPPL	4
#define IF_DESCRIPTION	3
#define LINKTYPE_RAW	101

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_PSH		0x08
#define TCP_ACK		0x10

#define PKT_MAX		2048	/* IPv6 40 + TCP 24 + MSS, with room */
#define WINDOW		65535	/* no window scaling */
#define ACK_EVERY	32	/* segments: 32 * 1460 < WINDOW */

static void
put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void
put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

uint16_t
pcap_cksum(const void *buf, size_t n, uint32_t sum)
{
	const uint8_t *b = buf;
	uint64_t s = sum;
	for (; n > 1; b += 2, n -= 2)
		s += (uint32_t)(b[0] << 8 | b[1]);
	if (n)
		s += (uint32_t)(b[0] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Writes n bytes, remembering a failure: nothing is written after one. */
static int
put(struct pcap *p, const void *b, size_t n)
{
	if (p->failed)
		return -1;
	if (n && fwrite(b, 1, n, p->f) != n) {
		p->failed = true;
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int
put_u32(struct pcap *p, uint32_t v)
{
	return put(p, &v, 4);	/* host order: the SHB's magic tells */
}

static int
put_u16(struct pcap *p, uint16_t v)
{
	return put(p, &v, 2);
}

static size_t
pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* An option's size in a block: code, length, value padded. */
static size_t
opt_size(const char *s)
{
	return s ? 4 + pad4(strlen(s)) : 0;
}

static int
put_opt(struct pcap *p, uint16_t code, const char *s)
{
	static const uint8_t zero[4];
	if (!s)
		return 0;
	size_t n = strlen(s);
	put_u16(p, code);
	put_u16(p, (uint16_t)n);
	put(p, s, n);
	return put(p, zero, pad4(n) - n);
}

int
pcap_start(struct pcap *p, FILE *f, const char *path)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->path = path;
	errno = 0;
	const char *appl = "mailsh --pcap";
	uint32_t len = (uint32_t)(28 + opt_size(appl) + 4);
	put_u32(p, BT_SHB);
	put_u32(p, len);
	put_u32(p, BO_MAGIC);
	put_u16(p, 1);			/* version 1.0 */
	put_u16(p, 0);
	put_u32(p, 0xffffffffu);	/* section length: not given */
	put_u32(p, 0xffffffffu);
	put_opt(p, SHB_USERAPPL, appl);
	put_u32(p, OPT_END);
	put_u32(p, len);

	const char *desc = "application data of a mailsh session, "
	    "after TLS decryption; IP and TCP headers are synthetic";
	len = (uint32_t)(20 + opt_size(desc) + 4);
	put_u32(p, BT_IDB);
	put_u32(p, len);
	put_u16(p, LINKTYPE_RAW);
	put_u16(p, 0);
	put_u32(p, PKT_MAX);		/* snaplen */
	put_opt(p, IF_DESCRIPTION, desc);
	put_u32(p, OPT_END);
	put_u32(p, len);
	if (fflush(f) != 0)
		p->failed = true;
	return p->failed ? -1 : 0;
}

uint64_t
pcap_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* One Enhanced Packet Block holding pkt, with an optional comment. */
static int
put_epb(struct pcap *p, const uint8_t *pkt, size_t n, const char *comment,
    uint64_t usec)
{
	static const uint8_t zero[4];
	size_t opts = comment ? opt_size(comment) + 4 : 0;
	uint32_t len = (uint32_t)(32 + pad4(n) + opts);
	put_u32(p, BT_EPB);
	put_u32(p, len);
	put_u32(p, 0);			/* interface 0 */
	put_u32(p, (uint32_t)(usec >> 32));
	put_u32(p, (uint32_t)usec);
	put_u32(p, (uint32_t)n);
	put_u32(p, (uint32_t)n);
	put(p, pkt, n);
	put(p, zero, pad4(n) - n);
	if (comment) {
		put_opt(p, OPT_COMMENT, comment);
		put_u32(p, OPT_END);
	}
	put_u32(p, len);
	p->packets++;
	return p->failed ? -1 : 0;
}

/*
 * One TCP segment from one side: IP header, TCP header (with the MSS
 * option on a SYN), data; both checksums.
 */
static int
segment(struct pcap *p, bool from_server, uint8_t flags, const void *data,
    size_t n, uint64_t usec)
{
	uint8_t pkt[PKT_MAX];
	const uint8_t *src = from_server ? p->saddr : p->caddr;
	const uint8_t *dst = from_server ? p->caddr : p->saddr;
	bool v6 = p->family == AF_INET6;
	size_t iph = v6 ? 40 : 20;
	size_t tcph = flags & TCP_SYN ? 24 : 20;
	size_t tcplen = tcph + n;
	if (iph + tcplen > sizeof(pkt)) {
		errno = EMSGSIZE;
		return -1;
	}
	memset(pkt, 0, iph + tcph);
	if (v6) {
		pkt[0] = 0x60;
		put16(pkt + 4, (unsigned)tcplen);
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;			/* hop limit */
		memcpy(pkt + 8, src, 16);
		memcpy(pkt + 24, dst, 16);
	} else {
		pkt[0] = 0x45;
		put16(pkt + 2, (unsigned)(iph + tcplen));
		put16(pkt + 4, p->ipid++);
		put16(pkt + 6, 0x4000);		/* don't fragment */
		pkt[8] = 64;			/* TTL */
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, src, 4);
		memcpy(pkt + 16, dst, 4);
		put16(pkt + 10, pcap_cksum(pkt, 20, 0));
	}
	uint8_t *t = pkt + iph;
	put16(t, from_server ? p->sport : p->cport);
	put16(t + 2, from_server ? p->cport : p->sport);
	put32(t + 4, from_server ? p->sseq : p->cseq);
	/* a SYN acknowledges nothing; everything else all the other
	 * side has sent */
	if (flags & TCP_ACK)
		put32(t + 8, from_server ? p->cseq : p->sseq);
	t[12] = (uint8_t)((tcph / 4) << 4);
	t[13] = flags;
	put16(t + 14, WINDOW);
	if (flags & TCP_SYN) {
		t[20] = 2;			/* MSS */
		t[21] = 4;
		put16(t + 22, v6 ? PCAP_MSS6 : PCAP_MSS4);
	}
	if (n)
		memcpy(t + tcph, data, n);
	/* pseudo-header: addresses, protocol, TCP length */
	uint32_t sum = IPPROTO_TCP + (uint32_t)tcplen;
	size_t alen = v6 ? 16 : 4;
	for (size_t i = 0; i < alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) +
		    (uint32_t)(dst[i] << 8 | dst[i + 1]);
	put16(t + 16, pcap_cksum(t, tcplen, sum));
	int r = put_epb(p, pkt, iph + tcplen, p->comment[0] ? p->comment
	    : NULL, usec);
	p->comment[0] = '\0';
	/* SYN and FIN take one sequence number, data one per byte */
	uint32_t adv = (uint32_t)n + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
	if (from_server)
		p->sseq += adv;
	else
		p->cseq += adv;
	return r;
}

/* The address and port of sa into 16 bytes (IPv4 in the first four). */
static int
addr_of(const struct sockaddr *sa, int *family, uint8_t *a, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		*family = AF_INET;
		memcpy(a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = AF_INET;
			memcpy(a, s6->sin6_addr.s6_addr + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(a, &s6->sin6_addr, 16);
		}
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

int
pcap_connect(struct pcap *p, const struct sockaddr *local,
    const struct sockaddr *peer, uint32_t isn_c, uint32_t isn_s,
    uint64_t usec)
{
	int fc, fs;
	if (p->open)
		pcap_close(p, usec);
	if (p->failed)
		return -1;
	if (addr_of(local, &fc, p->caddr, &p->cport) < 0 ||
	    addr_of(peer, &fs, p->saddr, &p->sport) < 0)
		return -1;
	if (fc != fs) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	p->family = fc;
	p->cseq = isn_c;
	p->sseq = isn_s;
	p->cfin = p->sfin = false;
	p->open = true;
	segment(p, false, TCP_SYN, NULL, 0, usec);
	segment(p, true, TCP_SYN | TCP_ACK, NULL, 0, usec);
	return segment(p, false, TCP_ACK, NULL, 0, usec);
}

int
pcap_data(struct pcap *p, bool from_server, const void *buf, size_t n,
    uint64_t usec)
{
	const uint8_t *b = buf;
	size_t mss = p->family == AF_INET6 ? PCAP_MSS6 : PCAP_MSS4;
	unsigned since_ack = 0;
	if (!p->open || p->failed)
		return p->failed ? -1 : 0;
	while (n > 0) {
		size_t k = n < mss ? n : mss;
		segment(p, from_server, (uint8_t)(TCP_ACK | (k == n ?
		    TCP_PSH : 0)), b, k, usec);
		b += k;
		n -= k;
		/* the receiver acknowledges before the window fills, and
		 * at the end of each read or write */
		if (++since_ack == ACK_EVERY || n == 0) {
			segment(p, !from_server, TCP_ACK, NULL, 0, usec);
			since_ack = 0;
		}
	}
	/* readable while the session runs */
	if (!p->failed && fflush(p->f) != 0)
		p->failed = true;
	return p->failed ? -1 : 0;
}

void
pcap_mark(struct pcap *p, const char *comment)
{
	if (p->open)
		snprintf(p->comment, sizeof(p->comment), "%s", comment);
}

int
pcap_fin(struct pcap *p, bool from_server, uint64_t usec)
{
	bool *fin = from_server ? &p->sfin : &p->cfin;
	if (!p->open || *fin)
		return p->failed ? -1 : 0;
	*fin = true;
	segment(p, from_server, TCP_FIN | TCP_ACK, NULL, 0, usec);
	if (p->cfin && p->sfin) {
		/* the side that closed first acknowledges the last FIN */
		segment(p, !from_server, TCP_ACK, NULL, 0, usec);
		p->open = false;
	}
	if (!p->failed && fflush(p->f) != 0)
		p->failed = true;
	return p->failed ? -1 : 0;
}

int
pcap_close(struct pcap *p, uint64_t usec)
{
	if (!p->open)
		return p->failed ? -1 : 0;
	pcap_fin(p, false, usec);
	pcap_fin(p, true, usec);
	return p->failed ? -1 : 0;
}
