/** Python probes shared by the integration tests. */

/** Fork 20 children that wait on a pipe, so they are all alive at once. */
export const FORK_MANY = [
  'import os, resource',
  'print("nproc=%d:%d" % resource.getrlimit(resource.RLIMIT_NPROC))',
  'r, w = os.pipe()',
  'kids = []',
  'err = 0',
  'for i in range(20):',
  '    try:',
  '        pid = os.fork()',
  '    except OSError as e:',
  '        err = e.errno',
  '        break',
  '    if pid == 0:',
  '        os.close(w)',
  '        os.read(r, 1)',
  '        os._exit(0)',
  '    kids.append(pid)',
  'os.close(w)',
  'for pid in kids:',
  '    os.waitpid(pid, 0)',
  'print("forked=%d" % len(kids))',
  'print("errno=%d" % err)',
].join('\n');

/** FORK_MANY that also fails (exit 1) when a fork failed, so a run can be ended by its process limit. */
export const FORK_MANY_OR_FAIL = `${FORK_MANY}\nimport sys\nsys.exit(1 if err else 0)`;

/**
 * Python: in_child(fn) runs fn in a forked child and returns what it returned
 * (or the exception), as JSON, so a probe that changes the process (ptrace
 * TRACEME, personality, a new session) cannot disturb the next one.
 */
export const PY_IN_CHILD = String.raw`def in_child(fn):
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            res = fn()
        except BaseException as e:
            res = {'exception': repr(e)}
        os.write(wfd, json.dumps(res).encode())
        os._exit(0)
    os.close(wfd)
    data = b''
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    return json.loads(data or b'{"exception": "no output"}')`;
