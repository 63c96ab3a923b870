"""syslogd.py SOCKET OUT - a minimal syslog sink for the tests: receive
datagrams on the UNIX socket SOCKET (e.g. /dev/log inside a private mount
namespace) and append each to OUT as one line, control bytes escaped.
Runs until killed; OUT exists once the socket is ready."""

import os
import socket
import sys


def main(path, out):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(path):
        os.unlink(path)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a", buffering=1) as f:
        while True:
            data = s.recv(65536).rstrip(b"\0\n")
            f.write(data.decode("utf-8", "backslashreplace")
                    .encode("unicode_escape").decode("ascii") + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
