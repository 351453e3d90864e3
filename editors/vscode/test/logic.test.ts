// Offline unit tests of the extension's logic (node:test; no VS Code needed).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  age, askArgs, edits, isCancellation, LspDocumentSymbol, modalConfirmation, resolveServer, rollbackArgs, serverEnv, Snapshot,
  snapshotIdOfDiffPath, snapshotItem, statusText, symbolAt, timeline, snapshotFileUri, parseSnapshotFileUri,
  answer, applyEvent, applyUnifiedDiff, confirmIdOf, contextChip, diffLines, endRun, newChat, proposalUri, RunEvent, runStatus, startRun,
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

// ---- chat panel ----

const ev = (seq: number, kind: string, fields: Record<string, unknown> = {}, run_id = 'r1'): RunEvent => ({ run_id, seq, kind, ...fields });

test('a panel run takes the id of the first event and folds text, tool calls, results and its end', () => {
  const state = newChat();
  const run = startRun(state, 'make greet informal', 'lib.rs · greet');
  applyEvent(state, ev(1, 'progress', { message: 'step 1: thinking' }));
  applyEvent(state, ev(2, 'text', { text: 'Look' }));
  applyEvent(state, ev(3, 'text', { text: 'ing.' }));
  applyEvent(state, ev(4, 'tool_call', { index: 0, step: 1, tool: 'read_symbol', title: 'read_symbol lib.py', args: '{"path":"lib.py"}' }));
  assert.equal(runStatus(state).text, '$(sync~spin) Jingu: running step 1');
  applyEvent(state, ev(5, 'tool_result', { index: 0, tool: 'read_symbol', ok: true, output: 'def greet' }));
  applyEvent(state, ev(6, 'tool_call', { index: 1, step: 2, tool: 'edit', title: 'edit lib.py', args: '{}' }));
  applyEvent(state, ev(7, 'tool_result', { index: 1, tool: 'edit', ok: true, output: 'ok', edit: { path: 'lib.py', snapshot_id: 's1', diff: '-a\n+b\n' } }));
  applyEvent(state, ev(8, 'tool_call', { index: 2, step: 3, tool: 'read_lines', title: 'read_lines', args: '{}' }));
  applyEvent(state, ev(9, 'tool_result', { index: 2, tool: 'read_lines', ok: false, output: 'error: outside', reason: 'path is outside the workspace' }));
  assert.equal(runStatus(state).text, '$(sync~spin) Jingu: running step 3');
  applyEvent(state, ev(10, 'done', { stop: { reason: 'finished' }, summary: 'greet says salut' }));
  assert.equal(run.runId, 'r1');
  assert.equal(run.state, 'finished');
  assert.deepEqual(run.items.map((i) => i.type), ['user', 'text', 'tool', 'tool', 'tool', 'end']);
  assert.deepEqual(run.items[1], { type: 'text', text: 'Looking.' });
  const [read, edit, refused] = run.items.slice(2) as Extract<(typeof run.items)[number], { type: 'tool' }>[];
  assert.equal(read.status, 'ok');
  assert.equal(edit.edit?.snapshot_id, 's1');
  assert.equal(refused.status, 'failed');
  assert.equal(refused.reason, 'path is outside the workspace');
  assert.deepEqual(run.items[5], { type: 'end', outcome: 'finished', text: 'greet says salut' });
  assert.equal(runStatus(state).text, '$(comment-discussion) Jingu: idle');
});

test('a finished run whose summary is its last streamed text ends with done, not the text again', () => {
  const state = newChat();
  const run = startRun(state, 'x');
  applyEvent(state, ev(1, 'text', { text: 'extra now returns 2.' }));
  applyEvent(state, ev(2, 'done', { stop: { reason: 'finished' }, summary: 'extra now returns 2.' }));
  assert.deepEqual(run.items[run.items.length - 1], { type: 'end', outcome: 'finished', text: 'done' });
});

test('events already seen are ignored; a run started elsewhere gets its own entry', () => {
  const state = newChat();
  applyEvent(state, ev(1, 'text', { text: 'a' }, 'other'));
  applyEvent(state, ev(1, 'text', { text: 'a' }, 'other'));
  assert.equal(state.runs.length, 1);
  assert.equal(state.runs[0].fromPanel, false);
  assert.deepEqual(state.runs[0].items[1], { type: 'text', text: 'a' });
});

test('a confirmation makes the run wait; the first answer stands and the run goes on', () => {
  const state = newChat();
  const run = startRun(state, 'x');
  applyEvent(state, ev(1, 'waiting', { confirm_id: 'r1-c1', tool: 'edit', summary: 'replace', detail: '+x', path: 'a.rs', review: false }));
  assert.equal(run.state, 'waiting');
  assert.equal(runStatus(state).text, '$(bell) Jingu: waiting for you');
  answer(run, 'r1-c1', true);
  applyEvent(state, ev(2, 'answered', { confirm_id: 'r1-c1', applied: false }));
  const card = run.items.find((i) => i.type === 'confirm');
  assert.equal(card?.type === 'confirm' && card.answer, 'applied');
  assert.equal(run.state, 'running');
});

test('a cancelled run says cancelled, rejects its open question, and a later done does not change it', () => {
  const state = newChat();
  const run = startRun(state, 'x');
  applyEvent(state, ev(1, 'waiting', { confirm_id: 'c', tool: 'edit', summary: 's', detail: '', review: false }));
  endRun(run, 'cancelled', 'whatever');
  applyEvent(state, ev(2, 'done', { stop: { reason: 'model_error', detail: 'boom' } }));
  assert.equal(run.state, 'cancelled');
  assert.deepEqual(run.items[run.items.length - 1], { type: 'end', outcome: 'cancelled', text: 'cancelled' });
  const card = run.items.find((i) => i.type === 'confirm');
  assert.equal(card?.type === 'confirm' && card.answer, 'rejected');
});

test('done with a cancelled stop is cancelled, other stops are failures with their detail', () => {
  const state = newChat();
  const a = startRun(state, 'a');
  applyEvent(state, ev(1, 'done', { stop: { reason: 'cancelled' } }, 'ra'));
  assert.equal(a.state, 'cancelled');
  const b = startRun(state, 'b');
  applyEvent(state, ev(1, 'done', { stop: { reason: 'model_error', detail: 'HTTP 500' } }, 'rb'));
  assert.equal(b.state, 'failed');
  assert.deepEqual(b.items[b.items.length - 1], { type: 'end', outcome: 'failed', text: 'model error: HTTP 500' });
});

test('confirmIdOf reads the id the server put on the actions', () => {
  assert.equal(confirmIdOf({ actions: [{ title: 'Apply', jinguConfirm: 'r-c1' }, { title: 'Reject', jinguConfirm: 'r-c1' }] }), 'r-c1');
  assert.equal(confirmIdOf({ actions: [{ title: 'Apply' }] }), undefined);
  assert.equal(confirmIdOf({}), undefined);
});

test('contextChip: selection lines win over the symbol; a selection ending at column 0 excludes that line', () => {
  const sel = (a: number, ac: number, b: number, bc: number) => ({ start: { line: a, character: ac }, end: { line: b, character: bc } });
  assert.equal(contextChip('src/lib.rs', sel(4, 0, 4, 0), 'greet'), 'lib.rs · greet');
  assert.equal(contextChip('src/lib.rs', sel(4, 0, 7, 0), 'greet'), 'lib.rs:5-7');
  assert.equal(contextChip('src/lib.rs', sel(4, 2, 4, 9), undefined), 'lib.rs:5');
  assert.equal(contextChip('src/lib.rs', undefined, undefined), 'lib.rs');
  assert.equal(contextChip(undefined, undefined, 'x'), undefined);
});

test('diffLines classifies a unified diff', () => {
  assert.deepEqual(diffLines('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n c\n').map((l) => l.cls), ['meta', 'meta', 'hunk', 'del', 'add', 'ctx']);
});

test('applyUnifiedDiff reproduces the proposed text, including creations and missing final newlines', () => {
  const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const diff = '--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n a\n-b\n+B\n c\n d\n@@ -6,3 +6,4 @@\n f\n g\n h\n+i\n';
  assert.equal(applyUnifiedDiff(before, diff), 'a\nB\nc\nd\ne\nf\ng\nh\ni\n');
  assert.equal(applyUnifiedDiff('', '--- a/n\n+++ b/n\n@@ -0,0 +1,2 @@\n+x\n+y\n'), 'x\ny\n');
  assert.equal(applyUnifiedDiff('x\ny', '--- a/n\n+++ b/n\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file\n'), 'x\nz');
  assert.equal(applyUnifiedDiff('x\n', '--- a/n\n+++ b/n\n@@ -1 +1,2 @@\n x\n+y\n'), 'x\ny\n');
  // A diff that does not fit the text (it changed since) is refused, not half applied.
  assert.equal(applyUnifiedDiff('q\nb\n', '@@ -1,2 +1,2 @@\n a\n-b\n+B\n'), undefined);
  assert.equal(applyUnifiedDiff('a\n', 'garbage'), undefined);
});

test('proposalUri encodes each path segment', () => {
  assert.equal(proposalUri('r-c1', 'after', 'src/a b.rs'), 'jingu-proposal:/r-c1/after/src/a%20b.rs');
});
