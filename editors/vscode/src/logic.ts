// Pure logic of the extension (no `vscode` import), unit-tested offline with node:test.

/** LSP shapes used here (0-based lines/characters in the negotiated encoding). */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface LspDocumentSymbol { name: string; detail?: string; range: Range; children?: LspDocumentSymbol[] }

/** One `jingu.snapshots` entry (DESIGN §2: newest first). */
export interface Snapshot {
  id: string;
  time: string;
  run_id: string | null;
  actor: string;
  op: string;
  target: string;
  paths: string[];
}

/** The `jingu.ask` argument: `{instruction, uri?, symbol?, range?, provider?}`. */
export interface AskArgs { instruction: string; uri?: string; symbol?: string; range?: Range; provider?: string }

/** Name path (Jingu's documentSymbol `detail`) of the innermost symbol containing `line`. */
export function symbolAt(symbols: LspDocumentSymbol[] | null | undefined, line: number): string | undefined {
  let best: LspDocumentSymbol | undefined;
  const walk = (list: LspDocumentSymbol[] | undefined): void => {
    for (const s of list ?? []) {
      if (s.range.start.line <= line && line <= s.range.end.line) {
        best = s;
        walk(s.children);
      }
    }
  };
  walk(symbols ?? []);
  if (!best) return undefined;
  return best.detail ? best.detail : best.name;
}

/** A non-empty selection wins over the symbol under the cursor; an empty provider means "routing default". */
export function askArgs(instruction: string, opts: { uri?: string; selection?: Range; symbol?: string; provider?: string }): AskArgs {
  const args: AskArgs = { instruction };
  if (opts.uri) args.uri = opts.uri;
  const sel = opts.selection;
  const nonEmpty = sel && (sel.start.line !== sel.end.line || sel.start.character !== sel.end.character);
  if (nonEmpty) args.range = sel;
  else if (opts.symbol) args.symbol = opts.symbol;
  if (opts.provider && opts.provider.trim()) args.provider = opts.provider.trim();
  return args;
}

/** Snapshots that record an edit (the per-file `baseline` snapshots only anchor history). */
export function edits(snapshots: Snapshot[]): Snapshot[] {
  return snapshots.filter((s) => s.op !== 'baseline');
}

export type RollbackArgs = { snapshot_id: string } | { run_id: string };

/** The `jingu.rollback` argument for "last edit" or "last run", or an explanation. */
export function rollbackArgs(kind: 'edit' | 'run', snapshots: Snapshot[]): RollbackArgs | string {
  const list = edits(snapshots);
  if (kind === 'edit') {
    return list.length ? { snapshot_id: list[0].id } : 'there is no edit to roll back';
  }
  const withRun = list.find((s) => s.run_id);
  return withRun?.run_id ? { run_id: withRun.run_id } : 'no edit belongs to a run';
}

/** "3 min ago"-style age of an RFC 3339 time relative to `now` (ms). */
export function age(time: string, now: number): string {
  const t = Date.parse(time);
  if (Number.isNaN(t)) return time;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** What the Snapshots view shows for one snapshot. */
export interface SnapshotItemModel { label: string; description: string; tooltip: string; diffUri: string }

export function snapshotItem(s: Snapshot, now: number): SnapshotItemModel {
  const where = s.paths.length === 1 ? s.paths[0] : `${s.paths.length} files`;
  return {
    label: `${s.op} ${s.target}`,
    description: `${where} · ${s.id} · ${age(s.time, now)}`,
    tooltip: [`snapshot ${s.id}`, `time ${s.time}`, `actor ${s.actor}`, s.run_id ? `run ${s.run_id}` : 'no run', ...s.paths.map((p) => `  ${p}`)].join('\n'),
    diffUri: `jingu-snapshot:/${encodeURIComponent(s.id)}.diff`,
  };
}

/** The snapshot id in a `jingu-snapshot:/ID.diff` path. */
export function snapshotIdOfDiffPath(path: string): string | undefined {
  const m = /^\/?([^/]+)\.diff$/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/** Status bar text: provider and identity when known (setting, or the server's experimental capability). */
export function statusText(info: { provider?: string; identity?: string }): string {
  const parts = [info.provider, info.identity].filter((p): p is string => !!p && p.trim() !== '');
  return parts.length ? `$(hubot) Jingu: ${parts.join(' · ')}` : '$(hubot) Jingu';
}

/** Resolve `jingu.serverPath`: a path is used as is, a bare name is searched on PATH. */
export function resolveServer(setting: string, pathEnv: string, isExecutable: (p: string) => boolean, sep = ':'): string | undefined {
  const name = setting.trim() || 'jingu';
  if (name.includes('/') || name.includes('\\')) return isExecutable(name) ? name : undefined;
  for (const dir of pathEnv.split(sep)) {
    if (!dir) continue;
    const candidate = `${dir.replace(/[/\\]$/, '')}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Environment for `jingu lsp` from the settings (unset settings inherit). */
export function serverEnv(base: NodeJS.ProcessEnv, s: { configFile?: string; stateDir?: string; logLevel?: string }): NodeJS.ProcessEnv {
  const env = { ...base };
  if (s.configFile) env.JINGU_CONFIG = s.configFile;
  if (s.stateDir) env.JINGU_STATE_DIR = s.stateDir;
  if (s.logLevel) env.JINGU_LOG = s.logLevel;
  return env;
}

/** JSON-RPC's RequestCancelled (-32800) and LSP's ServerCancelled (-32802). */
const CANCELLED_CODES = [-32800, -32802];

/** Whether a failed request was cancelled (by the user) rather than failed: shown as cancelled. */
export function isCancellation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; name?: unknown };
  return (typeof err.code === 'number' && CANCELLED_CODES.includes(err.code)) || err.name === 'Canceled';
}

/** A `window/showMessageRequest` from the server, as far as a confirmation needs it. */
export interface MessageRequest { type: number; message: string; actions?: { title: string }[] }

/**
 * How a server question is shown as a modal dialog (it stays until answered, unlike a toast that
 * times out while the run waits): the first paragraph as the message, the rest (the diff) as its
 * detail, the actions as buttons. `null` for a message without actions (nothing to answer).
 */
export function modalConfirmation(req: MessageRequest): { message: string; detail?: string; buttons: string[] } | null {
  const buttons = (req.actions ?? []).map((a) => a.title);
  if (buttons.length === 0) return null;
  const cut = req.message.indexOf('\n\n');
  const message = cut < 0 ? req.message : req.message.slice(0, cut);
  const detail = cut < 0 ? undefined : req.message.slice(cut + 2);
  return { message, detail: detail && detail.trim() ? detail : undefined, buttons };
}

/** The snapshot view's timeline: snapshots (newest first) grouped by run, in order of each
 * run's newest snapshot; snapshots of no run stand alone. `files` counts distinct paths. */
export type TimelineEntry =
  | { kind: 'run'; runId: string; snapshots: Snapshot[]; files: number }
  | { kind: 'snapshot'; snapshot: Snapshot };

export function timeline(list: Snapshot[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const runs = new Map<string, { kind: 'run'; runId: string; snapshots: Snapshot[]; files: number }>();
  for (const s of list) {
    if (!s.run_id) {
      out.push({ kind: 'snapshot', snapshot: s });
      continue;
    }
    let run = runs.get(s.run_id);
    if (!run) {
      run = { kind: 'run', runId: s.run_id, snapshots: [], files: 0 };
      runs.set(s.run_id, run);
      out.push(run);
    }
    run.snapshots.push(s);
  }
  for (const run of runs.values()) run.files = new Set(run.snapshots.flatMap((s) => s.paths)).size;
  return out;
}

/** `jingu-snapshot-file:/ID/before/PATH` (or `after`): one side of a snapshot's diff editor. */
export function snapshotFileUri(id: string, side: 'before' | 'after', path: string): string {
  return `jingu-snapshot-file:/${encodeURIComponent(id)}/${side}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

export function parseSnapshotFileUri(uriPath: string): { id: string; side: 'before' | 'after'; path: string } | undefined {
  const m = /^\/?([^/]+)\/(before|after)\/(.+)$/.exec(uriPath);
  if (!m) return undefined;
  return { id: decodeURIComponent(m[1]), side: m[2] as 'before' | 'after', path: m[3].split('/').map(decodeURIComponent).join('/') };
}

// ---- The chat panel: `jingu/runEvent` notifications folded into a view model ----

/** One `jingu/runEvent` (see ARCHITECTURE.md): `run_id`, `seq` from 1, and a `kind`. */
export interface RunEvent {
  run_id: string;
  seq: number;
  kind: 'text' | 'progress' | 'tool_call' | 'tool_result' | 'waiting' | 'answered' | 'done' | string;
  [field: string]: unknown;
}

export interface EditInfo { path: string; snapshot_id: string; summary?: string; diff: string }

export type ChatItem =
  | { type: 'user'; text: string; context?: string }
  | { type: 'text'; text: string }
  | {
    type: 'tool'; index: number; step: number; tool: string; title: string; args: string;
    status: 'running' | 'ok' | 'failed'; output?: string; reason?: string; edit?: EditInfo;
  }
  | {
    type: 'confirm'; id: string; tool: string; summary: string; detail: string; path?: string;
    /** Asked in the editor's Refactor Preview (no Apply/Reject here). */
    review: boolean; answer?: 'applied' | 'rejected'; note?: string;
  }
  | { type: 'end'; outcome: RunOutcome; text: string };

export type RunOutcome = 'finished' | 'cancelled' | 'failed';

export interface ChatRun {
  /** Unknown until its first event arrives (a run the panel started). */
  runId?: string;
  /** Started from the panel: its confirmations are answered on the panel's cards. */
  fromPanel: boolean;
  state: 'running' | 'waiting' | RunOutcome;
  step: number;
  lastSeq: number;
  items: ChatItem[];
}

export interface ChatState { runs: ChatRun[] }

export function newChat(): ChatState {
  return { runs: [] };
}

/** The chip shown for the context an instruction is about: the selection's lines, else the symbol. */
export function contextChip(file: string | undefined, selection: Range | undefined, symbol: string | undefined): string | undefined {
  if (!file) return undefined;
  const name = file.split('/').pop() ?? file;
  const sel = selection;
  if (sel && (sel.start.line !== sel.end.line || sel.start.character !== sel.end.character)) {
    const last = sel.end.character === 0 && sel.end.line > sel.start.line ? sel.end.line : sel.end.line + 1;
    return sel.start.line + 1 === last ? `${name}:${last}` : `${name}:${sel.start.line + 1}-${last}`;
  }
  return symbol ? `${name} · ${symbol}` : name;
}

/** A run the panel starts (its events find it by arriving while it has no id yet). */
export function startRun(state: ChatState, instruction: string, context?: string): ChatRun {
  const run: ChatRun = { fromPanel: true, state: 'running', step: 0, lastSeq: 0, items: [{ type: 'user', text: instruction, context }] };
  state.runs.push(run);
  return run;
}

function runFor(state: ChatState, runId: string): ChatRun {
  const known = state.runs.find((r) => r.runId === runId);
  if (known) return known;
  const waiting = state.runs.find((r) => r.runId === undefined && (r.state === 'running' || r.state === 'waiting'));
  if (waiting) {
    waiting.runId = runId;
    return waiting;
  }
  // A run started elsewhere (Jingu: Ask from the palette): shown too, answered in its dialog.
  const run: ChatRun = { runId, fromPanel: false, state: 'running', step: 0, lastSeq: 0, items: [{ type: 'user', text: '(Jingu: Ask)' }] };
  state.runs.push(run);
  return run;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function stillWaiting(run: ChatRun): boolean {
  return run.items.some((i) => i.type === 'confirm' && !i.answer);
}

/** Fold one event into the state; returns the run it belongs to (events already seen are ignored). */
export function applyEvent(state: ChatState, ev: RunEvent): ChatRun {
  const run = runFor(state, ev.run_id);
  if (ev.seq <= run.lastSeq) return run;
  run.lastSeq = ev.seq;
  const finished = run.state === 'finished' || run.state === 'cancelled' || run.state === 'failed';
  switch (ev.kind) {
    case 'text': {
      const last = run.items[run.items.length - 1];
      if (last && last.type === 'text') last.text += str(ev.text);
      else run.items.push({ type: 'text', text: str(ev.text) });
      break;
    }
    case 'progress': {
      const m = /^step (\d+):/.exec(str(ev.message));
      if (m) run.step = Math.max(run.step, Number(m[1]));
      break;
    }
    case 'tool_call':
      run.step = Math.max(run.step, num(ev.step));
      run.items.push({ type: 'tool', index: num(ev.index), step: num(ev.step), tool: str(ev.tool), title: str(ev.title), args: str(ev.args), status: 'running' });
      break;
    case 'tool_result': {
      const card = run.items.find((i): i is Extract<ChatItem, { type: 'tool' }> => i.type === 'tool' && i.index === num(ev.index));
      if (!card) break;
      card.status = ev.ok === true ? 'ok' : 'failed';
      card.output = str(ev.output);
      if (ev.ok !== true) card.reason = str(ev.reason) || str(ev.output);
      const e = ev.edit as Partial<EditInfo> | undefined;
      if (e && typeof e.path === 'string' && typeof e.diff === 'string') {
        card.edit = { path: e.path, snapshot_id: str(e.snapshot_id), summary: str(e.summary), diff: e.diff };
      }
      break;
    }
    case 'waiting':
      run.items.push({
        type: 'confirm', id: str(ev.confirm_id), tool: str(ev.tool), summary: str(ev.summary), detail: str(ev.detail),
        path: typeof ev.path === 'string' ? ev.path : undefined, review: ev.review === true,
      });
      if (!finished) run.state = 'waiting';
      break;
    case 'answered': {
      answer(run, str(ev.confirm_id), ev.applied === true, typeof ev.note === 'string' ? ev.note : undefined);
      break;
    }
    case 'done': {
      const stop = (ev.stop ?? {}) as { reason?: string; detail?: unknown };
      const summary = str(ev.summary);
      const outcome: RunOutcome = stop.reason === 'cancelled' ? 'cancelled' : stop.reason === 'finished' ? 'finished' : 'failed';
      endRun(run, outcome, outcome === 'failed' ? `${(stop.reason ?? 'error').replace(/_/g, ' ')}: ${str(stop.detail) || summary}` : summary);
      break;
    }
    default:
      break;
  }
  return run;
}

/** Record the answer to a confirmation (idempotent: the first answer stands). */
export function answer(run: ChatRun, id: string, applied: boolean, note?: string): void {
  const card = run.items.find((i): i is Extract<ChatItem, { type: 'confirm' }> => i.type === 'confirm' && i.id === id);
  if (!card || card.answer) return;
  card.answer = applied ? 'applied' : 'rejected';
  if (note) card.note = note;
  if (run.state === 'waiting' && !stillWaiting(run)) run.state = 'running';
}

/** The run ended (its `done` event, or its request failing or being cancelled); the first end stands. */
export function endRun(run: ChatRun, outcome: RunOutcome, text: string): void {
  if (run.state === 'finished' || run.state === 'cancelled' || run.state === 'failed') return;
  run.state = outcome;
  for (const i of run.items) if (i.type === 'confirm' && !i.answer) i.answer = 'rejected';
  // A summary that is the model's last streamed words is not repeated.
  const said = [...run.items].reverse().find((i): i is Extract<ChatItem, { type: 'text' }> => i.type === 'text');
  const repeated = outcome === 'finished' && !!said && !!text.trim() && said.text.trim().endsWith(text.trim());
  const shown = outcome === 'cancelled' ? 'cancelled' : repeated || !text.trim() ? 'done' : text;
  run.items.push({ type: 'end', outcome, text: shown });
}

/** The status bar's run item: idle, running step N, or waiting for you. */
export function runStatus(state: ChatState): { text: string; tooltip: string } {
  const active = state.runs.filter((r) => r.state === 'running' || r.state === 'waiting');
  if (active.some((r) => r.state === 'waiting')) return { text: '$(bell) Jingu: waiting for you', tooltip: 'A Jingu run waits for your answer — click for the chat' };
  if (active.length) {
    const step = Math.max(1, ...active.map((r) => r.step));
    return { text: `$(sync~spin) Jingu: running step ${step}`, tooltip: 'A Jingu run is in progress — click for the chat' };
  }
  return { text: '$(comment-discussion) Jingu: idle', tooltip: 'Open the Jingu chat' };
}

/** The confirmation id the server put on a question's actions (run events only). */
export function confirmIdOf(req: { actions?: { title: string; [k: string]: unknown }[] }): string | undefined {
  const id = req.actions?.[0]?.jinguConfirm;
  return typeof id === 'string' ? id : undefined;
}

/** A unified diff's lines classified for display. */
export function diffLines(diff: string): { cls: 'add' | 'del' | 'hunk' | 'meta' | 'ctx'; text: string }[] {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((text) => {
    if (text.startsWith('+++') || text.startsWith('---') || text.startsWith('\\')) return { cls: 'meta' as const, text };
    if (text.startsWith('@@')) return { cls: 'hunk' as const, text };
    if (text.startsWith('+')) return { cls: 'add' as const, text };
    if (text.startsWith('-')) return { cls: 'del' as const, text };
    return { cls: 'ctx' as const, text };
  });
}

/**
 * `original` with a unified diff (as Jingu's confirmations carry it) applied: the proposed text a
 * diff editor shows. `undefined` when the diff does not fit `original` (it changed, or the diff
 * was cut).
 */
export function applyUnifiedDiff(original: string, diff: string): string | undefined {
  const old = original.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const bare = (l: string | undefined) => (l === undefined ? undefined : l.replace(/\n$/, ''));
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let i = 0;
  while (i < lines.length && !lines[i].startsWith('@@')) i++;
  if (i === lines.length) return lines.every((l) => l.startsWith('---') || l.startsWith('+++')) ? original : undefined;
  const out: string[] = [];
  let pos = 0;
  while (i < lines.length) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(lines[i]);
    if (!m) return undefined;
    const start = Number(m[1]) - (m[2] === '0' ? 0 : 1);
    if (start < pos || start > old.length) return undefined;
    out.push(...old.slice(pos, start));
    pos = start;
    i++;
    let last: 'old' | 'new' | 'both' | undefined;
    for (; i < lines.length && !lines[i].startsWith('@@'); i++) {
      const l = lines[i];
      const body = l.slice(1);
      if (l.startsWith('\\')) {
        if ((last === 'new' || last === 'both') && out.length) out[out.length - 1] = out[out.length - 1].replace(/\n$/, '');
        continue;
      }
      if (l.startsWith(' ') || l === '') {
        if (bare(old[pos]) !== body) return undefined;
        out.push(old[pos++]);
        last = 'both';
      } else if (l.startsWith('-')) {
        if (bare(old[pos]) !== body) return undefined;
        pos++;
        last = 'old';
      } else if (l.startsWith('+')) {
        out.push(`${body}\n`);
        last = 'new';
      } else {
        return undefined;
      }
    }
  }
  out.push(...old.slice(pos));
  return out.join('');
}

/** `jingu-proposal:/KEY/before/PATH` (or `after`): one side of a proposed edit's diff editor. */
export function proposalUri(key: string, side: 'before' | 'after', path: string): string {
  return `jingu-proposal:/${encodeURIComponent(key)}/${side}/${path.split('/').map(encodeURIComponent).join('/')}`;
}
