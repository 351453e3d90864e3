// Offline unit tests of the extension's logic (node:test; no VS Code needed).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  age, askArgs, edits, isCancellation, LspDocumentSymbol, modalConfirmation, resolveServer, rollbackArgs, serverEnv, Snapshot,
  snapshotIdOfDiffPath, snapshotItem, statusText, symbolAt, timeline, snapshotFileUri, parseSnapshotFileUri,
} from '../src/logic';

const r = (a: number, b: number) => ({ start: { line: a, character: 0 }, end: { line: b, character: 1 } });
const SYMBOLS: LspDocumentSymbol[] = [
  { name: 'greet', detail: 'greet', range: r(2, 5) },
  {
    name: 'impl Counter', detail: 'impl Counter', range: r(11, 16),
    children: [{ name: 'bump', detail: 'impl Counter/bump', range: r(12, 15) }],
  },
];
const snap = (id: string, op: string, run: string | null, time = '2026-01-01T00:00:00Z'): Snapshot =>
  ({ id, time, run_id: run, actor: 'alice', op, target: `symbol \`${id}\``, paths: ['src/lib.rs'] });

test('symbolAt picks the innermost symbol and returns its name path', () => {
  assert.equal(symbolAt(SYMBOLS, 13), 'impl Counter/bump');
  assert.equal(symbolAt(SYMBOLS, 11), 'impl Counter');
  assert.equal(symbolAt(SYMBOLS, 2), 'greet');
  assert.equal(symbolAt(SYMBOLS, 8), undefined);
  assert.equal(symbolAt(null, 1), undefined);
});

test('symbolAt falls back to the name when detail is empty', () => {
  assert.equal(symbolAt([{ name: 'x', detail: '', range: r(0, 1) }], 0), 'x');
});

test('askArgs: a non-empty selection wins over the symbol; an empty one sends the symbol', () => {
  const sel = { start: { line: 1, character: 2 }, end: { line: 3, character: 0 } };
  assert.deepEqual(askArgs('do it', { uri: 'file:///a.rs', selection: sel, symbol: 'greet' }),
    { instruction: 'do it', uri: 'file:///a.rs', range: sel });
  const empty = { start: { line: 4, character: 2 }, end: { line: 4, character: 2 } };
  assert.deepEqual(askArgs('do it', { uri: 'file:///a.rs', selection: empty, symbol: 'greet' }),
    { instruction: 'do it', uri: 'file:///a.rs', symbol: 'greet' });
});

test('askArgs: provider only when set; no uri outside a file', () => {
  assert.deepEqual(askArgs('x', { provider: '  ' }), { instruction: 'x' });
  assert.deepEqual(askArgs('x', { provider: ' qwen ' }), { instruction: 'x', provider: 'qwen' });
});

test('rollbackArgs: last edit skips baselines; last run finds the newest run', () => {
  const list = [snap('c3', 'rollback', 'r9'), snap('b2', 'replace', 'r1'), snap('a1', 'baseline', null)];
  assert.deepEqual(rollbackArgs('edit', list), { snapshot_id: 'c3' });
  assert.deepEqual(rollbackArgs('run', list), { run_id: 'r9' });
  assert.deepEqual(rollbackArgs('edit', [snap('a1', 'baseline', null)]), 'there is no edit to roll back');
  assert.deepEqual(rollbackArgs('run', [snap('b', 'replace', null)]), 'no edit belongs to a run');
  assert.equal(edits(list).length, 2);
});

test('snapshotItem describes the snapshot and links its diff', () => {
  const now = Date.parse('2026-01-01T00:05:00Z');
  const m = snapshotItem(snap('ab12', 'replace', 'run-1'), now);
  assert.equal(m.label, 'replace symbol `ab12`');
  assert.equal(m.description, 'src/lib.rs · ab12 · 5 min ago');
  assert.match(m.tooltip, /run run-1/);
  assert.equal(m.diffUri, 'jingu-snapshot:/ab12.diff');
  assert.equal(snapshotIdOfDiffPath('/ab12.diff'), 'ab12');
  assert.equal(snapshotIdOfDiffPath('/x/ab12.txt'), undefined);
  const multi = { ...snap('ff', 'rollback', 'r'), paths: ['a', 'b'] };
  assert.match(snapshotItem(multi, now).description, /^2 files/);
});

test('age formats seconds to days and passes bad times through', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(age('2026-01-01T00:00:00Z', t0 + 5_000), '5 s ago');
  assert.equal(age('2026-01-01T00:00:00Z', t0 + 2 * 3600_000), '2 h ago');
  assert.equal(age('2026-01-01T00:00:00Z', t0 + 3 * 86400_000), '3 d ago');
  assert.equal(age('yesterday', t0), 'yesterday');
});

test('statusText shows provider and identity when known', () => {
  assert.equal(statusText({}), '$(hubot) Jingu');
  assert.equal(statusText({ provider: 'qwen' }), '$(hubot) Jingu: qwen');
  assert.equal(statusText({ provider: 'qwen', identity: 'alice@corp' }), '$(hubot) Jingu: qwen · alice@corp');
});

test('resolveServer searches PATH for a bare name and checks explicit paths', () => {
  const exe = new Set(['/opt/bin/jingu', '/home/a/jingu']);
  const isExe = (p: string) => exe.has(p);
  assert.equal(resolveServer('jingu', '/usr/bin::/opt/bin/', isExe), '/opt/bin/jingu');
  assert.equal(resolveServer('', '/opt/bin', isExe), '/opt/bin/jingu');
  assert.equal(resolveServer('/home/a/jingu', '', isExe), '/home/a/jingu');
  assert.equal(resolveServer('/nope/jingu', '/opt/bin', isExe), undefined);
  assert.equal(resolveServer('jingu', '/usr/bin', isExe), undefined);
});

test('serverEnv maps settings to JINGU_* and keeps the rest', () => {
  const e = serverEnv({ PATH: '/bin', JINGU_LOG: 'info' }, { configFile: '/c.toml', stateDir: '', logLevel: 'debug' });
  assert.deepEqual(e, { PATH: '/bin', JINGU_LOG: 'debug', JINGU_CONFIG: '/c.toml' });
});

test('isCancellation tells a cancelled request from a failed one', () => {
  assert.equal(isCancellation({ code: -32800, message: 'Request cancelled' }), true);
  assert.equal(isCancellation({ code: -32802 }), true);
  assert.equal(isCancellation({ name: 'Canceled', message: 'Canceled' }), true);
  assert.equal(isCancellation({ code: -32803, message: 'the model failed' }), false);
  assert.equal(isCancellation(new Error('boom')), false);
  assert.equal(isCancellation(undefined), false);
});

test('modalConfirmation splits the question from its diff and keeps the actions as buttons', () => {
  const m = modalConfirmation({
    type: 2,
    message: 'Jingu wants to edit: replace symbol `tail` in src/lib.rs\n\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@\n-a\n+b\n',
    actions: [{ title: 'Apply' }, { title: 'Reject' }],
  });
  assert.deepEqual(m, {
    message: 'Jingu wants to edit: replace symbol `tail` in src/lib.rs',
    detail: '--- a/src/lib.rs\n+++ b/src/lib.rs\n@@\n-a\n+b\n',
    buttons: ['Apply', 'Reject'],
  });
  assert.deepEqual(modalConfirmation({ type: 2, message: 'Proceed?', actions: [{ title: 'Yes' }] }),
    { message: 'Proceed?', detail: undefined, buttons: ['Yes'] });
  assert.equal(modalConfirmation({ type: 3, message: 'FYI' }), null);
  assert.equal(modalConfirmation({ type: 3, message: 'FYI', actions: [] }), null);
});

test('timeline groups snapshots by run with distinct file counts, keeping order', () => {
  const a = { ...snap('a1', 'replace', 'r2'), paths: ['src/a.rs', 'src/b.rs'] };
  const b = { ...snap('b1', 'insert', 'r2'), paths: ['src/a.rs'] };
  const c = snap('c1', 'scan', null);
  const d = snap('d1', 'replace', 'r1');
  const t = timeline([a, b, c, d]);
  assert.deepEqual(t, [
    { kind: 'run', runId: 'r2', snapshots: [a, b], files: 2 },
    { kind: 'snapshot', snapshot: c },
    { kind: 'run', runId: 'r1', snapshots: [d], files: 1 },
  ]);
  assert.deepEqual(timeline([]), []);
});

test('snapshot file URIs round-trip, including spaces and nested paths', () => {
  const u = snapshotFileUri('ab12', 'before', 'src/my file.rs');
  assert.equal(u, 'jingu-snapshot-file:/ab12/before/src/my%20file.rs');
  assert.deepEqual(parseSnapshotFileUri(u.slice('jingu-snapshot-file:'.length)),
    { id: 'ab12', side: 'before', path: 'src/my file.rs' });
  assert.equal(parseSnapshotFileUri('/ab12/sideways/x'), undefined);
});
