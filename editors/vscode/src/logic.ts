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
