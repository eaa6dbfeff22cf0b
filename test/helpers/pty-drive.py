"""A terminal for the terminal tests: start a program on a new pseudo-terminal
(its controlling terminal, in a session of its own), play steps on it as a
user at a keyboard would, and report what the terminal received.

argv[1]: JSON {argv, env, cwd, rows, cols, timeout, steps: [{expect: regex
(searched in the output after the previous match)} | {send: text} |
{resize: [rows, cols]} | {sleep: seconds} | {signal: N} (to the program) | {modes: true} (keep the terminal's modes now in `during`)]}.
Prints JSON: status (exit code, or -N for signal N, or null when the driver
killed it at its timeout), output (base64 of every byte the terminal
received), before/after (the terminal's modes, tcgetattr), pending (bytes
waiting in the terminal's input once the program ended), failed (the step
that timed out, if any). The program is always stopped before it returns."""
import base64, fcntl, json, os, re, select, signal, struct, sys, termios, time

spec = json.loads(sys.argv[1])
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', spec.get('rows', 30), spec.get('cols', 100), 0, 0))
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.chdir(spec['cwd'])
    os.execvpe(spec['argv'][0], spec['argv'], spec['env'])
out = bytearray()
deadline = time.time() + spec.get('timeout', 60)
status = None
failed = None
during = []

def pump(seconds):
    global status
    end = min(time.time() + seconds, deadline)
    while True:
        left = end - time.time()
        if left <= 0:
            return
        r, _, _ = select.select([master], [], [], min(left, 0.05))
        if r:
            try:
                out.extend(os.read(master, 65536))
            except OSError:
                return
        elif status is not None:
            return
        if status is None:
            w, st = os.waitpid(pid, os.WNOHANG)
            if w == pid:
                status = os.waitstatus_to_exitcode(st)

pos = 0
for step in spec.get('steps', []):
    if 'expect' in step:
        pattern = re.compile(step['expect'].encode())
        while time.time() < deadline:
            m = pattern.search(out, pos)
            if m:
                pos = m.end()
                break
            pump(0.05)
        else:
            failed = step
            break
    elif 'send' in step:
        os.write(master, step['send'].encode())
    elif 'resize' in step:
        rows, cols = step['resize']
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    elif 'sleep' in step:
        pump(step['sleep'])
    elif 'signal' in step:
        os.kill(pid, step['signal'])
    elif 'modes' in step:
        during.append(termios.tcgetattr(slave))
while status is None and time.time() < deadline:
    pump(0.2)
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
pump(0.1)
after = termios.tcgetattr(slave)
pending = struct.unpack('i', fcntl.ioctl(slave, termios.FIONREAD, b'\0\0\0\0'))[0]
print(json.dumps({'status': status, 'output': base64.b64encode(bytes(out)).decode(), 'before': before, 'after': after, 'pending': pending, 'failed': failed, 'during': during}, default=str))
