import { describe, expect, it } from 'vitest';
import { readOptions, type OptionTable } from '../../src/policy/getopt.js';

/** A table shaped like GNU xargs' (required, optional and plain letters; long options sharing prefixes). */
const TABLE: OptionTable = {
  short: '0a:e::i::I:n:rt',
  long: { null: 'none', 'arg-file': 'required', eof: 'optional', replace: 'optional', 'max-args': 'required', 'max-chars': 'required', 'max-procs': 'required', 'process-slot-var': 'required', verbose: 'none' },
};

describe('readOptions: getopt_long with "+"', () => {
  it.each([
    // a required value: the rest of the word, else the next word
    [['-n', '1', 'cmd'], [['-n', '1']], 2],
    [['-n1', 'cmd'], [['-n', '1']], 1],
    [['-rtn', '1', 'cmd'], [['-r'], ['-t'], ['-n', '1']], 2],
    [['-rIX', 'cmd'], [['-r'], ['-I', 'X']], 1],
    // an optional value: only the rest of the word
    [['-i', 'cmd'], [['-i']], 1],
    [['-ri', 'cmd'], [['-r'], ['-i']], 1],
    [['-iX', 'cmd'], [['-i', 'X']], 1],
    [['-e', 'cmd'], [['-e']], 1],
    // long options: exact, or a unique prefix; a value after = or as the next word when required
    [['--max-args', '1', 'cmd'], [['--max-args', '1']], 2],
    [['--max-a', '1', 'cmd'], [['--max-args', '1']], 2],
    [['--max-a=1', 'cmd'], [['--max-args', '1']], 1],
    [['--arg', 'f', 'cmd'], [['--arg-file', 'f']], 2],
    [['--proc', 'v', 'cmd'], [['--process-slot-var', 'v']], 2],
    [['--repl', 'cmd'], [['--replace']], 1],
    [['--repl=X', 'cmd'], [['--replace', 'X']], 1],
    // options end at the first word that is none, and after --
    [['cmd', '-n', '1'], [], 0],
    [['-', 'cmd'], [], 0],
    [['-r', '--', '-n', '1'], [['-r']], 2],
  ])('%j', (args, options, next) => {
    const r = readOptions(TABLE, args);
    expect(r).toEqual({ options: options.map(([name, value]) => (value === undefined ? { name, next: expect.any(Number) } : { name, value, next: expect.any(Number) })), next, operands: [] });
  });

  it('says where each option ends, for a caller that stops at one (env -S)', () => {
    expect(readOptions(TABLE, ['-r', '-n', '1', 'cmd'])).toMatchObject({ options: [{ name: '-r', next: 1 }, { name: '-n', next: 3 }] });
  });

  it.each([
    [['--max', '1', 'cmd'], 'ambiguous'],
    [['--x', 'cmd'], 'unknown'],
    [['-q', 'cmd'], 'unknown'],
    [['-rq', 'cmd'], 'unknown'],
    [['--verbose=1', 'cmd'], 'takes no value'],
  ])('%j is not read: %s', (args, why) => {
    const r = readOptions(TABLE, args);
    expect('unknown' in r && r.unknown).toContain(why);
  });

  it('a long option named exactly wins over the longer ones it begins', () => {
    const t: OptionTable = { short: '', long: { wait: 'required', 'wait-all': 'none' } };
    expect(readOptions(t, ['--wait', '5', 'cmd'])).toMatchObject({ next: 2 });
  });

  it('with a partial table, an option it does not know is read as a flag of one word', () => {
    const t: OptionTable = { short: 'o:', long: { output: 'required' }, partial: true };
    expect(readOptions(t, ['-f', '--foo', '-o', 'x', 'cmd'])).toMatchObject({ next: 4 });
  });

  it('permuting (su, script): operands between options are passed over and kept', () => {
    const t: OptionTable = { short: 'c:l', long: { command: 'required' }, permute: true };
    expect(readOptions(t, ['root', '-l', '-c', 'x', 'y'])).toMatchObject({ options: [{ name: '-l' }, { name: '-c', value: 'x' }], operands: ['root', 'y'] });
  });
});
