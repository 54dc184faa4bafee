#!/usr/bin/python3 -IS
# The `aws` the host script tests run where nothing compiles warm-aws-cli-client.c: the same
# client, speaking the same protocol (see there). warm-aws-cli.ts installs a copy with SOCKET set.
# Imports only built-in modules (-IS, no socket.py or os.py): it starts in ~6 ms.
import _socket
import posix
import sys

SOCKET = None
REAL_AWS = '/usr/bin/aws'


def fail(message):
    posix.write(2, ('aws (warm AWS CLI client): %s\n' % message).encode())
    posix._exit(255)


def run_cold():
    # The server cannot make this call exactly as /usr/bin/aws would: make it so.
    posix.execv(REAL_AWS, [REAL_AWS] + sys.argv[1:])


def request(cwd):
    """The request after its length: umask, cwd, argv and environment, each NUL-terminated."""
    umask = posix.umask(0)
    posix.umask(umask)
    encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
    fields = [str(umask).encode(), cwd, str(len(sys.argv)).encode()]
    fields += [arg.encode(encoding, errors) for arg in sys.argv]
    fields += [key + b'=' + value for key, value in posix.environ.items()]
    return b''.join(field + b'\0' for field in fields)


def main():
    try:
        cwd = posix.getcwdb()
        for fd in (0, 1, 2):
            posix.fstat(fd)
    except OSError:
        run_cold()
    payload = request(cwd)
    fds = b''.join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(SOCKET)
        head = len(payload).to_bytes(4, 'big') + payload
        sent = conn.sendmsg([head], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        if sent < len(head):
            conn.sendall(head[sent:])
        reply = b''
        while len(reply) < 5:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
            if reply[:1] in (b'C', b'E'):
                break
    except OSError as e:
        fail('the server at %s is not answering: %s' % (SOCKET, e))
    kind, body = reply[:1], reply[1:]
    if kind == b'C':
        run_cold()
    if kind == b'E':
        conn.settimeout(1)
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                body += chunk
        except OSError:
            pass
        posix.write(2, body)
        posix._exit(255)
    if kind == b'X' and len(body) == 4:
        posix._exit(int.from_bytes(body, 'big', signed=True) & 0xFF)
    if kind == b'S' and len(body) == 4:
        # The CLI died of a signal: so does its client, as the shell would see it.
        import _signal
        signum = int.from_bytes(body, 'big', signed=True)
        _signal.signal(signum, _signal.SIG_DFL)
        posix.kill(posix.getpid(), signum)
        posix._exit(128 + signum)
    fail('the server closed the call without an exit status')


main()
