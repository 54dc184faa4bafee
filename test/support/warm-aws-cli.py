# A zygote for the real AWS CLI (Debian's awscli at /usr/bin/aws) in the host script tests.
#
# A cold `aws` call spends ~0.4 CPU-seconds importing awscli/botocore, reading the service
# models and asking lsb_release for the distribution (for the User-Agent). This server, run by
# the same interpreter as /usr/bin/aws, does that once, then forks per call: the client
# (warm-aws-cli-client.py, installed as `aws`) passes its stdin/stdout/stderr, argv, environment,
# cwd and umask over a Unix socket; a handler process forks the CLI process, which takes them
# on, creates the CLI's session and driver (so everything read from the environment is read
# per call) and runs the CLI's real main(); the handler sends the exit status (or the signal)
# back. The client exits with it. When the client goes away, the call is killed.
#
# A call the warm process cannot make exactly as a cold one would (an interpreter setting such
# as PYTHONPATH, another home directory, a non-UTF-8 locale) is answered "cold": the client
# then execs /usr/bin/aws itself.
#
# Usage: /usr/bin/python3 warm-aws-cli.py SOCKET_PATH. Prints "listening" once the socket
# accepts connections (before the warm-up: early calls wait in the backlog); exits when its
# stdin (a pipe from the test runner) closes or on SIGTERM. With CI=true a failed warm-up
# answers every call with an error instead of "cold", so the run fails loudly.
import atexit
import gc
import marshal
import os
import select
import signal
import socket
import struct
import sys

# /usr/bin/aws is a script in /usr/bin: the same first entry on the module path.
sys.path[0] = '/usr/bin'

REAL_AWS = '/usr/bin/aws'
SERVICES = ('secretsmanager', 's3', 'autoscaling', 'ec2', 'cloudwatch', 'ssm', 'sts')
# Interpreter settings the CLI process reproduces per call; any other PYTHON* means cold.
HANDLED_PYTHON_ENV = ('PYTHONUNBUFFERED', 'PYTHONDONTWRITEBYTECODE')
# Locales Python itself coerces to, where stdio uses surrogateescape (PEP 538/540).
COERCED_LOCALES = ('C', 'POSIX', 'C.UTF-8', 'C.utf8', 'UTF-8')

warm_loader = None
warm_home = None
warm_failure = None
# Read at startup: in a handler, os.environ is the client's.
CI = os.environ.get('CI') == 'true'
# The CLI process's exit status once its main() has returned one.
exit_status = None


def exit_without_teardown():
    """The interpreter's exit minus its teardown of every module (~45 ms: most of a call's CPU).

    Registered first, so it runs after every other atexit function; threads are joined by then.
    What remains of the interpreter's exit that anyone can see is flushing stdout and stderr:
    if that fails, the interpreter does it again and reports it (exit status 120).
    """
    if exit_status is None:
        return
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except Exception:
            return
    os._exit(exit_status)


atexit.register(exit_without_teardown)


def warm_up():
    """Import the CLI and load what every call reads, leaving no global state a call could see."""
    global warm_loader, warm_home
    import awscli.clidriver
    import awscli.handlers  # noqa: F401  (the plugins every driver registers)
    import botocore.exceptions
    import botocore.session
    # distro caches the distribution (from lsb_release, a subprocess) in a module global.
    awscli.clidriver._get_distribution()
    # The loader the session would create from AWS_DATA_PATH (as awscli's __init__ set it),
    # filled with the models a call reads, in the calls' own argument shapes (its cache keys).
    loader = botocore.session.create_loader(os.environ['AWS_DATA_PATH'])
    loader.list_available_services(type_name='service-2')
    for name in ('cli', 'endpoints', 'partitions'):
        loader.load_data_with_path(name)
    for service in SERVICES:
        loader.load_service_model(service, type_name='service-2')
        for type_name in ('service-2', 'waiters-2', 'paginators-1', 'endpoint-rule-set-1'):
            try:
                loader.load_service_model(service, type_name)
            except botocore.exceptions.DataNotFoundError:
                pass
    warm_loader = loader
    warm_home = os.path.expanduser('~')
    original_create_loader = botocore.session.create_loader

    def create_loader(search_path_string=None):
        # The warm loader where a fresh one would search the same existing directories, and
        # once per process: a second session gets a fresh one, as it would in a cold process.
        global warm_loader
        fresh = original_create_loader(search_path_string)
        if warm_loader is not None and existing(fresh.search_paths) == warm_search_paths:
            fresh, warm_loader = warm_loader, None
        return fresh

    warm_search_paths = existing(loader.search_paths)
    botocore.session.create_loader = create_loader
    if len(os.listdir('/proc/self/task')) != 1:
        raise RuntimeError('the warm-up started a thread: forking it is unsafe')


def existing(paths):
    return [p for p in paths if os.path.isdir(p)]


def recv_request(conn):
    """The client's fds (stdin, stdout, stderr) and (argv, env, cwd, umask)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    if len(data) < 4 or len(fds) != 3:
        raise RuntimeError('malformed request')
    (length,) = struct.unpack('!I', data[:4])
    data = data[4:]
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            raise RuntimeError('truncated request')
        data += chunk
    argv, env, cwd, umask = marshal.loads(data)
    return fds, argv, {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}, cwd, umask


def take_environment(env, cwd, umask):
    """Become the client's process: its environment, directory and umask, as Python starts."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    os.umask(umask)
    import locale
    name = locale.setlocale(locale.LC_CTYPE, '')
    if name in ('C', 'POSIX') and not env.get('LC_ALL'):
        # PEP 538, as the interpreter does at startup: coerce the C locale to C.UTF-8.
        os.environ['LC_CTYPE'] = 'C.UTF-8'
        name = locale.setlocale(locale.LC_CTYPE, 'C.UTF-8')
    return name


def cold_reason(env, locale_name):
    """Why this call cannot be made warm exactly as /usr/bin/aws would make it, or None."""
    if warm_failure is not None:
        return 'the warm-up failed: %s' % warm_failure
    for key in env:
        if key.startswith('PYTHON') and key not in HANDLED_PYTHON_ENV:
            return '%s is set' % key
    if os.path.expanduser('~') != warm_home:
        return 'another home directory'
    import locale
    if locale_name not in COERCED_LOCALES and locale.nl_langinfo(locale.CODESET) != 'UTF-8':
        return 'a non-UTF-8 locale'
    return None


def std_streams(env, locale_name):
    """sys.stdin/stdout/stderr on fds 0-2 as the interpreter creates them at startup."""
    import io
    buffered = not env.get('PYTHONUNBUFFERED')
    errors = 'surrogateescape' if locale_name in COERCED_LOCALES else 'strict'
    streams = []
    for fd, name in ((0, '<stdin>'), (1, '<stdout>'), (2, '<stderr>')):
        write = fd != 0
        buffering = 0 if write and not buffered else -1
        buf = io.open(fd, 'wb' if write else 'rb', buffering, closefd=False)
        raw = buf if buffering == 0 else buf.raw
        raw.name = name
        line_buffering = buffered and (raw.isatty() or fd == 2)
        stream = io.TextIOWrapper(buf, 'utf-8', 'backslashreplace' if fd == 2 else errors, '\n', line_buffering, not buffered)
        stream.mode = 'w' if write else 'r'
        streams.append(stream)
    sys.stdin, sys.stdout, sys.stderr = streams
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = streams


def run_cli(fds, argv, env, locale_name):
    """The CLI process: /usr/bin/aws's own main on the client's fds. Exits like the interpreter."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    std_streams(env, locale_name)
    # awscli's __init__ puts its data directory on AWS_DATA_PATH when it is imported.
    import awscli
    paths = [os.path.expanduser(os.path.expandvars(p)) for p in env['AWS_DATA_PATH'].split(os.pathsep)] if 'AWS_DATA_PATH' in env else []
    paths.append(os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), 'data'))
    os.environ['AWS_DATA_PATH'] = os.pathsep.join(paths)
    # What /usr/bin/aws does before importing the CLI.
    if os.environ.get('LC_CTYPE', '') == 'UTF-8':
        os.environ['LC_CTYPE'] = 'en_US.UTF-8'
    sys.argv = list(argv)
    import awscli.clidriver
    global exit_status
    status = awscli.clidriver.main()
    if status is None or (type(status) is int and -(2**31) <= status < 2**31):
        exit_status = (status or 0) & 0xFF  # as the interpreter turns sys.exit's int into a status
    # Unwinds to the interpreter's exit: thread joins, atexit, flushing stdout (a failed flush
    # is exit status 120), as in a cold process (then exit_without_teardown ends it).
    sys.exit(status)


def handler_process(conn, listener):
    """The handler process: one call, from request to exit status. Returns only in the CLI process."""
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            fds, argv, env, cwd, umask = recv_request(conn)
            locale_name = take_environment(env, cwd, umask)
        except OSError as e:  # a cwd that is gone, a client that went away: the client runs it
            print('warm AWS CLI: running cold: %s' % e, file=sys.stderr)
            conn.sendall(b'C')
            os._exit(0)
        reason = cold_reason(env, locale_name)
        if reason is not None:
            conn.sendall(b'E' + ('warm AWS CLI: %s\n' % reason).encode() if warm_failure is not None and CI else b'C')
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            conn.close()
            return fds, argv, env, locale_name
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        while True:
            ready, _, _ = select.select([conn, pidfd], [], [])
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                if os.WIFSIGNALED(status):
                    conn.sendall(b'S' + struct.pack('!i', os.WTERMSIG(status)))
                else:
                    conn.sendall(b'X' + struct.pack('!i', os.WEXITSTATUS(status)))
                os._exit(0)
            if conn in ready and not conn.recv(1):
                # The client is gone (killed with its script): so is its call.
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os._exit(0)
    except BaseException:
        import traceback
        traceback.print_exc()
        os._exit(1)


def reap(_signum, _frame):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def serve(path):
    global warm_failure
    # Only stdio: a descriptor inherited from the runner (another tool's pipe) must not live on
    # in every call; each call gets the client's own.
    os.closerange(3, os.sysconf('SC_OPEN_MAX'))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    print('listening', flush=True)
    try:
        warm_up()
    except Exception as e:
        warm_failure = '%s: %s' % (type(e).__name__, e)
        print('warm AWS CLI: the warm-up failed (%s); calls run %s' % (warm_failure, 'nowhere (CI=true)' if CI else 'the cold /usr/bin/aws'), file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()  # the warm objects stay out of the collector: fewer pages copied per fork
    # Handlers are reaped as they end (their CPU time then counts in this process's children's).
    signal.signal(signal.SIGCHLD, reap)
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
            return  # the test runner is gone
        if listener in ready:
            conn, _ = listener.accept()
            if os.fork() == 0:
                # Outside any try: the CLI process unwinds to the interpreter's own exit.
                run_cli(*handler_process(conn, listener))
            conn.close()


if __name__ == '__main__':
    serve(sys.argv[1])
