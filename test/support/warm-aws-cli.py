# A zygote for the real AWS CLI (Debian's awscli at /usr/bin/aws) in the host script tests.
#
# A cold `aws` call spends ~0.4 CPU-seconds importing awscli/botocore, reading the service
# models and asking lsb_release for the distribution (for the User-Agent). This server, run by
# the same interpreter as /usr/bin/aws, does that once, then forks per call: the client
# (warm-aws-cli-client.c, compiled as `aws`) passes its stdin/stdout/stderr, argv, environment,
# cwd and umask over a Unix socket; the CLI process forked for it takes them on, creates the
# CLI's session and driver (so everything read from the environment is read per call) and runs
# the CLI's real main(); this process sends the exit status (or the signal) back. The client
# exits with it. When the client goes away, the call is killed. What the warm-up does beyond
# importing is what no call's environment or arguments change: answers of pure functions
# (regular expressions, name conversions), OpenSSL's algorithms, the built-in event handlers.
#
# Protocol (the client's header says it too): a request is a 4-byte big-endian length, then
# "umask\0cwd\0argc\0argv...\0environ...\0" with the client's fds 0-2 attached (SCM_RIGHTS);
# the reply is 'X' or 'S' and a 4-byte big-endian exit status or signal, 'C' (run cold), or 'E'
# and a message up to the end of the connection.
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
# Read at startup: in a CLI process, os.environ is the client's.
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
    warm_openssl()
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
    import botocore.hooks
    botocore.hooks.accepts_kwargs = quick_accepts_kwargs(botocore.hooks.accepts_kwargs)
    warm_caches(loader)
    prepare_emitter()
    if len(os.listdir('/proc/self/task')) != 1:
        raise RuntimeError('the warm-up started a thread: forking it is unsafe')


# Patterns a call compiles through re's cache (argparse's nargs patterns, botocore's host,
# region and label checks, fnmatch's '*', the rule set's templates), as (pattern, flags).
CALL_PATTERNS = (
    (r'(-*A-*)', 0), (r'(-*A-*A-*)', 0), (r'(-*A?-*)', 0), (r'(A)', 0), (r'([A]*)', 0), (r'(?s:.*)\Z', 0),
    (r'\W+', 0), (r'\n\n\n+', 0), (r'\s+', 256), (r'^-\d+$|^-\d*\.\d+$', 0), (r'{(.*?)}', 0), (r'{.*}', 0),
    (r'^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$', 2),
    (r'^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$', 0), (r'^(us|eu|ap|sa|ca|me|af)\-\w+\-\d+$', 0),
)


def prepare_emitter():
    """The event emitter of the first session of a CLI process, its ~340 handlers registered.

    A session registers botocore's built-in handlers on a new emitter, and the driver then the
    CLI's (awscli.handlers.awscli_initialize), always the same ones: registering them is pure
    code, reading no environment (checked here). The first Session() created with the defaults
    in each CLI process takes this emitter instead and skips both registrations; any other gets
    a new one, as in a cold process. Handlers that hold the emitter hold this one: theirs.
    """
    import functools
    import types
    import awscli.handlers
    import botocore.hooks
    import botocore.session

    Session = botocore.session.Session
    emitter = botocore.hooks.HierarchicalEmitter()
    registrar = types.SimpleNamespace(_events=emitter)
    registrar.register = functools.partial(Session.register, registrar)
    with environment_unread():
        Session._register_builtin_handlers(registrar, emitter)
        awscli.handlers.awscli_initialize(emitter)
    # The emitter until a session takes it, then until the CLI would initialize it.
    prepared, initialized = [emitter], []
    session_init = Session.__init__
    awscli_initialize = awscli.handlers.awscli_initialize

    def __init__(self, session_vars=None, event_hooks=None, include_builtin_handlers=True, profile=None):
        if event_hooks is None and include_builtin_handlers and prepared:
            event_hooks, include_builtin_handlers = prepared.pop(), False
            initialized.append(event_hooks)
        session_init(self, session_vars, event_hooks, include_builtin_handlers, profile)

    def initialize(event_handlers):
        if initialized and event_handlers is initialized[0]:
            initialized.pop()
            return
        awscli_initialize(event_handlers)

    Session.__init__ = functools.wraps(session_init)(__init__)
    awscli.handlers.awscli_initialize = functools.wraps(awscli_initialize)(initialize)


class environment_unread:
    """Fails the block if it reads os.environ (through os.environ or os.getenv)."""

    def __enter__(self):
        self.environ = os.environ

        class Unreadable:
            def unread(self, *args):
                raise RuntimeError('registering the handlers read the environment')

            __getattr__ = __getitem__ = __contains__ = __iter__ = __len__ = unread

        os.environ = Unreadable()

    def __exit__(self, *exc):
        os.environ = self.environ


def warm_openssl():
    """OpenSSL's first TLS context and signing hash in a process fetch its algorithms (~1.5 ms).

    Done here, the fetched algorithms are in every CLI process. It reads no environment (no
    getenv while it runs); the context itself is thrown away: each call makes its own.
    """
    import hashlib
    import hmac
    import botocore.httpsession
    botocore.httpsession.create_urllib3_context()
    hmac.new(b'key', b'message', hashlib.sha256).digest()
    hashlib.md5(b'body').digest()


def warm_caches(loader):
    """Fills caches of pure functions with what calls ask of them: the same answers, computed once."""
    import re
    import botocore
    # re's cache maps (type, pattern, flags) to the compiled pattern, whatever the environment.
    for pattern, flags in CALL_PATTERNS:
        re.compile(pattern, flags)
    # xform_name caches its answer per (name, sep); the CLI asks it of every operation of the
    # service it builds a command table for, and of the operation's parameters.
    for service in SERVICES:
        model = loader.load_service_model(service, 'service-2')
        for name, operation in model['operations'].items():
            botocore.xform_name(name, '-')
            botocore.xform_name(name)
            for member in model['shapes'][operation['input']['shape']].get('members', ()) if 'input' in operation else ():
                botocore.xform_name(member, '-')
    os._Environ.copy = memoized_environ_copy()


def memoized_environ_copy():
    """os.environ.copy() (dict(os.environ)), decoded once per state of the environment.

    awscli's OutputStreamFactory copies os.environ for each operation of a command table (585
    for ec2, ~40 us each). The copy is a new dict with the same items in the same order,
    decoded as dict(os.environ) decodes them, from the raw items when they were last these.
    """
    last = {}

    def copy(self):
        items = list(self._data.items())
        seen = last.get(id(self))
        if seen is None or seen[0] is not self or seen[1] != items:
            seen = last[id(self)] = (self, items, {self.decodekey(k): self.decodevalue(v) for k, v in items})
        return dict(seen[2])

    return copy


def quick_accepts_kwargs(accepts_kwargs):
    """botocore's accepts_kwargs, the name of func's **kwargs parameter, read off its code.

    botocore asks it of each of the ~340 handlers a driver registers; the original builds an
    inspect.Signature each time (~3 ms of a call's ~35). For a Python function or method
    without a __signature__ the name is where inspect itself finds it; anything else asks inspect.
    """
    import inspect
    import types

    def quick(func):
        function = func.__func__ if type(func) is types.MethodType else func
        if type(function) is not types.FunctionType or hasattr(function, '__signature__'):
            return accepts_kwargs(func)
        code = function.__code__
        if not code.co_flags & inspect.CO_VARKEYWORDS:
            return None
        return code.co_varnames[code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & inspect.CO_VARARGS)]

    return quick


def existing(paths):
    return [p for p in paths if os.path.isdir(p)]


def recv_request(conn):
    """The client's fds (stdin, stdout, stderr) and (argv, env, cwd, umask)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    try:
        if len(data) < 4 or len(fds) != 3:
            raise RuntimeError('malformed request')
        (length,) = struct.unpack('!I', data[:4])
        data = data[4:]
        while len(data) < length:
            chunk = conn.recv(length - len(data))
            if not chunk:
                raise RuntimeError('truncated request')
            data += chunk
        return (fds, *parse_request(data))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def parse_request(data):
    """(argv, env, cwd, umask) from "umask\0cwd\0argc\0argv...\0environ...\0"."""
    fields = data.split(b'\0')
    if len(fields) < 4 or fields.pop() != b'':
        raise RuntimeError('malformed request')
    umask, cwd, argc = int(fields[0]), fields[1], int(fields[2])
    argv = [os.fsdecode(arg) for arg in fields[3 : 3 + argc]]
    env = {}
    for entry in fields[3 + argc :]:
        # As the interpreter reads environ: up to the first '=', entries without one skipped,
        # the first of a repeated name wins.
        key, equals, value = entry.partition(b'=')
        if equals:
            env.setdefault(os.fsdecode(key), os.fsdecode(value))
    return argv, env, cwd, umask


def take_environment(env, cwd, umask):
    """Become the client's process: its environment, directory and umask, as Python starts."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    os.umask(umask)
    import locale
    try:
        name = locale.setlocale(locale.LC_CTYPE, '')
    except locale.Error:
        # The interpreter ignores a locale that does not exist: it stays in C.
        name = locale.setlocale(locale.LC_CTYPE, 'C')
    if name in ('C', 'POSIX') and not env.get('LC_ALL'):
        # PEP 538, as the interpreter does at startup: coerce the C locale to C.UTF-8.
        os.environ['LC_CTYPE'] = 'C.UTF-8'
        name = locale.setlocale(locale.LC_CTYPE, 'C.UTF-8')
    return name


def cold_reason(env, locale_name):
    """Why this call cannot be made warm exactly as /usr/bin/aws would make it, or None."""
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


class Call:
    """A call in progress: its CLI process and the client's connection."""

    def __init__(self, pid, conn):
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.conn = conn
        self.conn_fd = conn.fileno()


def answer(conn, reply):
    try:
        conn.sendall(reply)
    except OSError:
        pass  # the client is gone


def start_call(conn, listener, calls):
    """Forks the CLI process for the call on conn. Returns run_cli's arguments in that process."""
    try:
        conn.settimeout(10)  # a client that connects and sends nothing must not hold up the rest
        fds, argv, env, cwd, umask = recv_request(conn)
    except (OSError, RuntimeError, ValueError) as e:
        print('warm AWS CLI: an unreadable request: %s' % e, file=sys.stderr)
        conn.close()
        return None
    if warm_failure is not None:
        for fd in fds:
            os.close(fd)
        answer(conn, b'E' + ('warm AWS CLI: the warm-up failed: %s\n' % warm_failure).encode() if CI else b'C')
        conn.close()
        return None
    verdict_r, verdict_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(verdict_r)
        # Only the server holds the connections: a client sees its end when the server closes it.
        listener.close()
        conn.close()
        for call in set(calls.values()):
            call.conn.close()
            os.close(call.pidfd)
        return cli_process(fds, argv, env, cwd, umask, verdict_w)
    os.close(verdict_w)
    for fd in fds:
        os.close(fd)
    # Once the CLI process has taken on the client's environment: warm, or cold.
    verdict = os.read(verdict_r, 1)
    os.close(verdict_r)
    if verdict == b'W':
        call = Call(pid, conn)
        calls[call.pidfd] = calls[call.conn_fd] = call
        return None
    os.waitpid(pid, 0)
    if verdict == b'C':
        answer(conn, b'C')
    conn.close()  # nothing: the CLI process failed before the call (its traceback is on stderr)
    return None


def cli_process(fds, argv, env, cwd, umask, verdict):
    """In the CLI process: tells the server whether the call runs warm; returns run_cli's arguments."""
    try:
        try:
            locale_name = take_environment(env, cwd, umask)
            reason = cold_reason(env, locale_name)
        except (OSError, ValueError) as e:  # a cwd that is gone, a name putenv refuses
            print('warm AWS CLI: running cold: %s' % e, file=sys.stderr)
            reason = str(e)
        os.write(verdict, b'W' if reason is None else b'C')
        os.close(verdict)
        if reason is not None:
            os._exit(0)
        return fds, argv, env, locale_name
    except BaseException:
        import traceback
        traceback.print_exc()
        os._exit(1)


def end_call(call, calls, client_gone):
    """The CLI process has exited (its status goes to the client), or its client is gone (it is killed)."""
    if client_gone:
        os.kill(call.pid, signal.SIGKILL)
    _, status = os.waitpid(call.pid, 0)
    if not client_gone:
        if os.WIFSIGNALED(status):
            answer(call.conn, b'S' + struct.pack('!i', os.WTERMSIG(status)))
        else:
            answer(call.conn, b'X' + struct.pack('!i', os.WEXITSTATUS(status)))
    del calls[call.pidfd], calls[call.conn_fd]
    os.close(call.pidfd)
    call.conn.close()


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
    sys.stdout.flush()
    sys.stderr.flush()
    # Calls in progress by their pidfd and their connection's descriptor. CLI processes are
    # waited for here (their CPU time then counts in this process's children's).
    calls = {}
    while True:
        ready, _, _ = select.select([listener, sys.stdin, *calls], [], [])
        for fd in ready:
            call = calls.get(fd)
            if call is not None:
                # A client sends nothing after its request: readable means gone (killed with its script).
                end_call(call, calls, client_gone=fd == call.conn_fd and call.pidfd not in ready)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1024):
            return  # the test runner is gone
        if listener in ready:
            cli = start_call(listener.accept()[0], listener, calls)
            if cli is not None:
                # Outside any try: the CLI process unwinds to the interpreter's own exit.
                run_cli(*cli)


if __name__ == '__main__':
    serve(sys.argv[1])
