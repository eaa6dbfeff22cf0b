/**
 * The helper that gives the command a terminal of its own inside the
 * sandbox (Python 3, standard library only; run as `python3 -I -S -B -c
 * TERMINAL_HELPER <control fd> <argv...>`). It reads the first window size
 * ("rows cols\n") from the control descriptor, makes a pseudo-terminal on
 * the sandbox's own /dev/pts, starts the command in a new session with the
 * terminal as its controlling terminal (job control, /dev/tty), and copies
 * stdin (a pipe from isolate) to the terminal and the terminal to stdout (a
 * pipe to isolate). Each later size on the control descriptor is set on the
 * terminal (TIOCSWINSZ: the kernel sends SIGWINCH to its foreground job).
 * It exits with the command's status, 128+N when signal N ended it, after
 * copying what the terminal still holds (for at most 0.3 s: a background
 * job that keeps writing does not keep the run alive). The
 * user's own terminal is never inside the sandbox: isolate relays it.
 *
 * With `--leader` before the control descriptor (sandbox-exec, which has no
 * PID namespace: isolate reaches the sandbox through the process group of
 * the launcher, whose session the helper leads), the helper makes the
 * terminal its own controlling terminal and starts the command in its own
 * session and process group, where isolate's signals, timeout and clean-up
 * reach it; a job-control shell that moves a job to a group of its own
 * within the session still gets the terminating signals the helper
 * receives (forwarded to the terminal's foreground group) and, when the
 * helper ends, the SIGHUP of a terminal whose controlling process is gone.
 * When the helper cannot take the terminal (it does not lead its session),
 * it starts the command in a new session, as without `--leader`.
 */
export const TERMINAL_HELPER = String.raw`
import os, sys, select, signal, struct, fcntl, termios, errno, time
SIGS = [signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU]
FORWARDED = [signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP]
def size(fd, line):
    try:
        rows, cols = [int(x) for x in line.split()[:2]]
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    except (ValueError, OSError, struct.error):
        pass
def take_terminal(slave):
    try:
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        return True
    except OSError:
        return False
def forwarder(slave):
    def forward(n, f):
        try:
            group = os.tcgetpgrp(slave)
            if group > 1 and group != os.getpgrp():
                os.killpg(group, n)
        except OSError:
            pass
    return forward
def child(slave, argv, leader):
    if not leader:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    for s in SIGS + [signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD]:
        signal.signal(s, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ('isolate: cannot run %s: %s\r\n' % (argv[0], e.strerror)).encode())
        os._exit(127 if e.errno == errno.ENOENT else 126)
def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]
def main():
    leader = sys.argv[1] == '--leader'
    args = sys.argv[2:] if leader else sys.argv[1:]
    ctl = int(args[0])
    argv = args[1:]
    os.set_inheritable(ctl, False)
    first = b''
    while not first.endswith(b'\n'):
        b = os.read(ctl, 1)
        if not b:
            break
        first += b
    master, slave = os.openpty()
    size(master, first)
    for s in SIGS:
        signal.signal(s, signal.SIG_IGN)
    leader = leader and take_terminal(slave)
    if leader:
        for s in FORWARDED:
            signal.signal(s, forwarder(slave))
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda n, f: None)
    pid = os.fork()
    if pid == 0:
        os.close(master); os.close(ctl); os.close(wake_r); os.close(wake_w)
        child(slave, argv, leader)
    if not leader:
        os.close(slave)
    os.set_blocking(master, False)
    reads = {0, master, ctl, wake_r}
    pending = b''
    control = b''
    status = None
    drain_until = None
    while True:
        if status is None:
            w, st = os.waitpid(pid, os.WNOHANG)
            if w == pid:
                status = os.waitstatus_to_exitcode(st)
                drain_until = time.monotonic() + 0.3
        if status is not None and (master not in reads or time.monotonic() > drain_until):
            break
        rset = [fd for fd in reads if fd != 0 or len(pending) < 65536]
        wset = [master] if pending and master in reads else []
        r, w, _ = select.select(rset, wset, [], 0.05 if status is not None else None)
        if status is not None and not r and not w:
            break
        if wake_r in r:
            os.read(wake_r, 512)
        if master in w:
            try:
                pending = pending[os.write(master, pending):]
            except BlockingIOError:
                pass
            except OSError:
                pending = b''
        if master in r:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                data = None
            except OSError:
                data = b''
            if data == b'':
                reads.discard(master)
            elif data:
                try:
                    write_all(1, data)
                except OSError:
                    reads.discard(master)
        if 0 in r:
            data = os.read(0, 65536)
            if data:
                pending += data
            else:
                reads.discard(0)
        if ctl in r:
            data = os.read(ctl, 4096)
            if not data:
                reads.discard(ctl)
            control += data
            while b'\n' in control:
                line, control = control.split(b'\n', 1)
                size(master, line)
    os._exit(128 - status if status < 0 else status)
main()
`;
