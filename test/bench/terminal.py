"""The terminal relay's throughput: `isolate run` writing SIZE bytes of text
to a terminal (a pseudo-terminal this script reads as fast as it can),
through the relay (filtered, and --raw-terminal) and without it (--no-tty).

python3 test/bench/terminal.py [MiB=100] [rounds=2]   (from a small directory: the run's cwd is writable)"""
import os, pty, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = int(sys.argv[1]) if len(sys.argv) > 1 else 100
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
WRITER = "head -c %d /dev/zero | tr '\\0' a | fold -w 99" % (MIB * 1048576)


def timed(argv):
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    n = 0
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        n += len(data)
    _, status = os.waitpid(pid, 0)
    return n, time.monotonic() - start, os.waitstatus_to_exitcode(status)


for label, flags in [('no relay (--no-tty)', ['--no-tty']), ('relay, filtered', []), ('relay, --raw-terminal', ['--raw-terminal'])]:
    for _ in range(ROUNDS):
        n, seconds, status = timed(['node', os.path.join(REPO, 'bin', 'isolate.js'), 'run', '--no-audit', *flags, '--', 'sh', '-c', WRITER])
        print('%-24s %6.1f MiB in %5.2f s  %6.1f MiB/s  exit %d' % (label, n / 1048576, seconds, n / 1048576 / seconds, status))
