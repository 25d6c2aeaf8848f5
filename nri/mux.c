/* SPDX-License-Identifier: Apache-2.0 */
/* NRI's connection multiplexer: frame decoding and sending. */
#include "mux.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/core/err.h"
#include "lib/core/util.h"

void mux_rx_init(struct mux_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/* Take header bytes; a complete header starts the frame's payload. */
static int rx_header(struct mux_rx *rx, const uint8_t *data, size_t len, size_t *used)
{
	size_t n = MUX_HDR_LEN - rx->hdr_have;

	if (n > len)
		n = len;
	memcpy(rx->hdr + rx->hdr_have, data, n);
	rx->hdr_have += n;
	*used = n;
	if (rx->hdr_have < MUX_HDR_LEN)
		return 0;
	rx->conn = be32_at(rx->hdr);
	rx->left = be32_at(rx->hdr + 4);
	if (rx->left > MUX_PAYLOAD_MAX)
		return err_set(-EPROTO,
			       "mux frame of %u bytes on connection %u: over the limit of %u",
			       rx->left, rx->conn, MUX_PAYLOAD_MAX);
	if (rx->left == 0)
		rx->hdr_have = 0; /* an empty frame: nothing to deliver */
	return 0;
}

int mux_rx_feed(struct mux_rx *rx, const uint8_t *data, size_t len, mux_deliver_fn fn, void *arg)
{
	size_t used;
	int ret;

	while (len > 0) {
		if (rx->hdr_have < MUX_HDR_LEN) {
			ret = rx_header(rx, data, len, &used);
			if (ret < 0)
				return ret;
		} else {
			used = len < rx->left ? len : rx->left;
			if (rx->conn == MUX_CONN_PLUGIN || rx->conn == MUX_CONN_RUNTIME) {
				ret = fn(rx->conn, data, used, arg);
				if (ret)
					return ret;
			}
			rx->left -= used;
			if (rx->left == 0)
				rx->hdr_have = 0;
		}
		data += used;
		len -= used;
	}
	return 0;
}

/* Write all of iov, resuming after short writes. */
static int write_all(int fd, struct iovec *iov, int cnt)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = cnt };
	ssize_t n;

	while (msg.msg_iovlen > 0) {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(-errno, "mux write");
		while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
			n -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= n;
		}
	}
	return 0;
}

int mux_send(int fd, uint32_t conn, const uint8_t *data, size_t len)
{
	uint8_t hdr[MUX_HDR_LEN];
	struct iovec iov[2];
	size_t n;
	int ret;

	do {
		n = len < MUX_SEND_MAX ? len : MUX_SEND_MAX;
		be32_put(hdr, conn);
		be32_put(hdr + 4, n);
		iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(hdr) };
		iov[1] = (struct iovec){ .iov_base = (void *)data, .iov_len = n };
		ret = write_all(fd, iov, n ? 2 : 1);
		if (ret < 0)
			return ret;
		data += n;
		len -= n;
	} while (len > 0);
	return 0;
}
