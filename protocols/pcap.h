/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * pcap.h: a capture file of what a session sent and received, as the
 * application saw it (after TLS decryption), for Wireshark and tshark
 * (--pcap FILE).  No packet is captured: each read and write becomes
 * TCP segments with synthetic IPv4/IPv6 and TCP headers carrying the
 * real connection's addresses and ports, a three-way handshake at the
 * start, sequence and acknowledgement numbers that follow the bytes in
 * each direction, FIN at the end and correct checksums.
 *
 * Outside facts relied on:
 *  - pcapng (draft-ietf-opsawg-pcapng; what Wireshark writes and
 *    libpcap >= 1.1 reads): a Section Header Block, one Interface
 *    Description Block, then Enhanced Packet Blocks, each with an
 *    optional opt_comment (code 1); blocks in the writer's byte order,
 *    32-bit aligned; timestamps in microseconds (if_tsresol absent);
 *  - LINKTYPE_RAW (101): a packet starts with its IP header, the
 *    version nibble tells IPv4 from IPv6;
 *  - the Internet checksum (RFC 1071) over the TCP pseudo-header of
 *    RFC 9293 3.1 (IPv4) or RFC 8200 8.1 (IPv6), the TCP header and
 *    the data; the IPv4 header checksum over the header alone.
 */
#ifndef MAILSH_PCAP_H
#define MAILSH_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/socket.h>

#define PCAP_MSS4	1460	/* payload per segment: Ethernet MTU */
#define PCAP_MSS6	1440
#define PCAP_COMMENT_MAX 512

struct pcap {
	FILE *f;
	const char *path;	/* for messages */
	bool failed;		/* a write failed: nothing more is written */
	bool told;		/* the caller said so (conn.c) */
	/* the connection being recorded (client = mailsh) */
	bool open;
	int family;		/* AF_INET or AF_INET6 */
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;	/* host order */
	uint32_t cseq, sseq;	/* the next sequence number of each side */
	bool cfin, sfin;	/* that side has sent its FIN */
	uint16_t ipid;
	unsigned long packets;	/* written so far, in this file */
	char comment[PCAP_COMMENT_MAX];	/* for the next packet, or "" */
};

/*
 * Starts a capture file on f (opened for writing, empty): writes the
 * section and interface blocks.  Returns 0, or -1 with errno set.
 */
int pcap_start(struct pcap *p, FILE *f, const char *path);

/* Microseconds since the epoch, for the functions below. */
uint64_t pcap_now(void);

/*
 * Records a new connection from local to peer (IPv4 or IPv6; an
 * IPv4-mapped IPv6 address counts as IPv4): SYN, SYN-ACK, ACK.  The
 * initial sequence numbers are isn_c and isn_s.  Ends a connection
 * still open first.  Returns 0, or -1 with errno set (a write failed,
 * or EAFNOSUPPORT).
 */
int pcap_connect(struct pcap *p, const struct sockaddr *local,
    const struct sockaddr *peer, uint32_t isn_c, uint32_t isn_s,
    uint64_t usec);

/*
 * Records n bytes sent by mailsh (from_server false) or received,
 * split into segments of at most the MSS, the last one with PSH; the
 * other side acknowledges them with an empty segment.  Returns 0 or -1.
 */
int pcap_data(struct pcap *p, bool from_server, const void *buf, size_t n,
    uint64_t usec);

/*
 * Marks a point in the session (the TLS handshake): comment goes on the
 * next packet written (pcapng opt_comment), a data segment or the FIN.
 */
void pcap_mark(struct pcap *p, const char *comment);

/*
 * Records that one side closed (FIN); when both have, the last ACK.
 * Returns 0 or -1.
 */
int pcap_fin(struct pcap *p, bool from_server, uint64_t usec);

/* Closes both sides (pcap_fin for the ones still open). */
int pcap_close(struct pcap *p, uint64_t usec);

/* The Internet checksum of n bytes, started from sum (RFC 1071). */
uint16_t pcap_cksum(const void *buf, size_t n, uint32_t sum);

#endif
