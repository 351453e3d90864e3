// The Jingu chat panel (webview view `jingu.chat`): an instruction box with the editor's context
// as a chip, and each run as it happens, from the server's `jingu/runEvent` notifications —
// streamed model text, a card per tool call (an edit's diff, a command's output, a refusal's
// reason), a pinned confirmation card when the run waits, Cancel, and links to the run's snapshots
// and to a diff editor of each proposed or applied edit.
//
// A question (window/showMessageRequest) has one answer. For a run started here it is asked on
// the pinned card (a modal would hide the panel); for a run started elsewhere it is the modal
// dialog, and the card shows the answer given there (the server reports every answer as an
// `answered` event, so both places show the same state).
import * as vscode from 'vscode';
import {
  answer, applyEvent, applyUnifiedDiff, ChatItem, ChatRun, ChatState, contextChip, diffLines, endRun, newChat,
  proposalUri, RunEvent, runStatus, snapshotFileUri, startRun,
} from './logic';

type FromWebview =
  | { type: 'ready' }
  | { type: 'ask'; instruction: string }
  | { type: 'cancel' }
  | { type: 'confirm'; id: string; apply: boolean }
  | { type: 'openDiff'; run: number; item: number }
  | { type: 'snapshots' };

/** How long after `jingu.ask` answered its trailing `done` event may take. */
const DONE_GRACE_MS = 2000;

/** What the webview renders: the runs with diffs pre-split into classified lines. */
interface View {
  runs: { state: string; items: (ChatItem & { lines?: ReturnType<typeof diffLines> })[]; fromPanel: boolean; runId?: string }[];
  context?: string;
  busy: boolean;
}

/** An open question: the action to send back for Apply / Reject. */
interface Question { resolve: (apply: boolean | null) => void }

export interface AskFromPanel {
  /** Run `jingu.ask` with the editor's context; resolves with its result, rejects when it fails. */
  (instruction: string, token: vscode.CancellationToken): Promise<{ run_id: string; summary?: string }>;
}

export class ChatPanel implements vscode.WebviewViewProvider {
  private view?: vscode.WebviewView;
  private readonly state: ChatState = newChat();
  private current?: { run: ChatRun; cts: vscode.CancellationTokenSource };
  private readonly questions = new Map<string, Question>();
  /** Answers given on a card before its question arrived (events and requests race). */
  private readonly early = new Map<string, boolean>();
  private context?: string;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a run's state changes (the status bar follows). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly askFromPanel: AskFromPanel,
    private readonly proposals: ProposalProvider,
    private readonly log: (line: string) => void,
  ) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [media] };
    view.webview.html = html(view.webview, media);
    view.webview.onDidReceiveMessage((m: FromWebview) => void this.onMessage(m));
    view.onDidChangeVisibility(() => view.visible && this.render());
  }

  status(): { text: string; tooltip: string } {
    return runStatus(this.state);
  }

  /** The editor's context changed (active editor, selection, symbol under the cursor). */
  setContext(file: string | undefined, selection: { start: { line: number; character: number }; end: { line: number; character: number } } | undefined, symbol: string | undefined): void {
    const chip = contextChip(file, selection, symbol);
    if (chip === this.context) return;
    this.context = chip;
    this.render();
  }

  onEvent(ev: RunEvent): void {
    const run = applyEvent(this.state, ev);
    if (ev.kind === 'waiting' && run.fromPanel && run === this.current?.run && !ev.review) {
      void this.revealForQuestion();
    }
    this.render();
    this.changed.fire();
  }

  /**
   * A question from the server. Returns `undefined` when it is not this panel's to answer (the
   * caller shows the modal), else the user's answer from the card (`null`: dismissed/cancelled).
   */
  question(confirmId: string | undefined): Promise<boolean | null> | undefined {
    if (!confirmId || !this.current) return undefined;
    // The question belongs to the panel's run when the run already reported it, or when the
    // panel's run is the only one running (its `waiting` event may trail the request).
    const run = this.current.run;
    const known = this.state.runs.find((r) => r.items.some((i) => i.type === 'confirm' && i.id === confirmId));
    if (known && known !== run) return undefined;
    if (!known && this.state.runs.some((r) => r !== run && (r.state === 'running' || r.state === 'waiting'))) return undefined;
    // The user cancelled this run: whatever it still asks is answered no.
    if (run.state === 'cancelled') return Promise.resolve(null);
    const early = this.early.get(confirmId);
    if (early !== undefined) {
      this.early.delete(confirmId);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.questions.set(confirmId, { resolve }));
  }

  private async revealForQuestion(): Promise<void> {
    if (this.view?.visible) return;
    await vscode.commands.executeCommand('jingu.chat.focus');
  }

  private async onMessage(m: FromWebview): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          this.render();
          break;
        case 'ask':
          await this.ask(m.instruction);
          break;
        case 'cancel':
          this.cancel();
          break;
        case 'confirm':
          this.confirm(m.id, m.apply);
          break;
        case 'openDiff':
          await this.openDiff(m.run, m.item);
          break;
        case 'snapshots':
          await vscode.commands.executeCommand('jingu.cmd.showSnapshots');
          break;
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`chat: ${msg}`);
      void vscode.window.showErrorMessage(`Jingu: ${msg}`);
    }
  }

  private async ask(instruction: string): Promise<void> {
    if (!instruction.trim()) return;
    if (this.current) {
      void vscode.window.showWarningMessage('Jingu: a run is already in progress; cancel it first.');
      return;
    }
    const run = startRun(this.state, instruction, this.context);
    const cts = new vscode.CancellationTokenSource();
    this.current = { run, cts };
    this.render();
    this.changed.fire();
    try {
      const result = await this.askFromPanel(instruction, cts.token);
      // The last events may trail the response (they travel on another queue): give the `done`
      // event a moment, then end the run from the result if it never came.
      await this.ended(run, DONE_GRACE_MS);
      endRun(run, 'finished', result.summary ?? 'done');
    } catch (e) {
      if (cts.token.isCancellationRequested || isCancelled(e)) endRun(run, 'cancelled', 'cancelled');
      else endRun(run, 'failed', e instanceof Error ? e.message : String(e));
    } finally {
      cts.dispose();
      this.current = undefined;
      this.dropQuestions();
      this.render();
      this.changed.fire();
    }
  }

  /** Resolves when `run` has ended, or after `ms`. */
  private ended(run: ChatRun, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const over = () => run.state === 'finished' || run.state === 'cancelled' || run.state === 'failed';
      if (over()) return resolve();
      const timer = setTimeout(() => {
        sub.dispose();
        resolve();
      }, ms);
      const sub = this.onDidChange(() => {
        if (!over()) return;
        clearTimeout(timer);
        sub.dispose();
        resolve();
      });
    });
  }

  private cancel(): void {
    const cur = this.current;
    if (!cur) return;
    // An open question is answered no, so the run stops instead of waiting for it.
    this.dropQuestions();
    endRun(cur.run, 'cancelled', 'cancelled');
    cur.cts.cancel();
    this.render();
    this.changed.fire();
  }

  private dropQuestions(): void {
    for (const q of this.questions.values()) q.resolve(null);
    this.questions.clear();
    this.early.clear();
  }

  private confirm(id: string, apply: boolean): void {
    const q = this.questions.get(id);
    const run = this.state.runs.find((r) => r.items.some((i) => i.type === 'confirm' && i.id === id));
    if (run) answer(run, id, apply);
    if (q) {
      this.questions.delete(id);
      q.resolve(apply);
    } else if (run && run === this.current?.run) {
      this.early.set(id, apply);
    }
    this.render();
    this.changed.fire();
  }

  /** A diff editor for an edit card: an applied edit's snapshot, or a proposal's text. */
  private async openDiff(runIndex: number, itemIndex: number): Promise<void> {
    const item = this.state.runs[runIndex]?.items[itemIndex];
    if (!item) return;
    if (item.type === 'tool' && item.edit?.snapshot_id) {
      const { path, snapshot_id: id } = item.edit;
      await vscode.commands.executeCommand('vscode.diff', vscode.Uri.parse(snapshotFileUri(id, 'before', path)),
        vscode.Uri.parse(snapshotFileUri(id, 'after', path)), `${path} (Jingu edit: before ↔ after)`, { preview: true });
      return;
    }
    if (item.type !== 'confirm' || !item.path) return;
    const before = await currentText(item.path);
    const after = applyUnifiedDiff(before, item.detail);
    if (after === undefined) {
      // The file moved on since the proposal (or the diff was cut): show the diff itself.
      const doc = await vscode.workspace.openTextDocument({ language: 'diff', content: item.detail });
      await vscode.window.showTextDocument(doc, { preview: true });
      return;
    }
    const key = `${item.id}`;
    this.proposals.set(key, item.path, before, after);
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.parse(proposalUri(key, 'before', item.path)),
      vscode.Uri.parse(proposalUri(key, 'after', item.path)), `${item.path} (Jingu proposal: current ↔ proposed)`, { preview: true });
  }

  private render(): void {
    if (!this.view) return;
    const view: View = {
      context: this.context,
      busy: !!this.current,
      runs: this.state.runs.map((r) => ({
        state: r.state,
        fromPanel: r.fromPanel,
        runId: r.runId,
        items: r.items.map((i) => {
          if (i.type === 'tool' && i.edit) return { ...i, lines: diffLines(i.edit.diff) };
          if (i.type === 'confirm' && i.tool === 'edit') return { ...i, lines: diffLines(i.detail) };
          return i;
        }),
      })),
    };
    void this.view.webview.postMessage({ type: 'view', view });
  }
}

function isCancelled(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown } | undefined;
  return !!err && (err.code === -32800 || err.code === -32802 || err.name === 'Canceled');
}

/** The text a proposal applies to: the open buffer, else the file, else empty (a new file). */
async function currentText(rel: string): Promise<string> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return '';
  const uri = vscode.Uri.joinPath(folder.uri, ...rel.split('/'));
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return '';
  }
}

/** `jingu-proposal:` documents: both sides of a proposed edit, kept while the window lives. */
export class ProposalProvider implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, { before: string; after: string }>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(key: string, path: string, before: string, after: string): void {
    this.texts.set(key, { before, after });
    for (const side of ['before', 'after'] as const) this.changed.fire(vscode.Uri.parse(proposalUri(key, side, path)));
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const m = /^\/?([^/]+)\/(before|after)\//.exec(uri.path);
    if (!m) return '';
    const t = this.texts.get(decodeURIComponent(m[1]));
    return t ? t[m[2] as 'before' | 'after'] : '';
  }
}

function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

/** The panel's page: no remote content, scripts only by nonce, styles only from the extension. */
function html(webview: vscode.Webview, media: vscode.Uri): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Jingu chat</title>
</head>
<body>
<div id="pinned"></div>
<div id="log" aria-live="polite"></div>
<form id="ask">
  <div id="chip" class="chip hidden"></div>
  <textarea id="instruction" rows="3" placeholder="Ask Jingu… (Ctrl+Enter to send)" aria-label="Instruction"></textarea>
  <div class="row">
    <button id="send" type="submit">Ask</button>
    <button id="cancel" type="button" class="secondary" disabled>Cancel</button>
  </div>
</form>
<script nonce="${n}" src="${script}"></script>
</body>
</html>`;
}
