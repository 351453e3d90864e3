// Jingu for VS Code: starts `jingu lsp` through vscode-languageclient and adds commands over the
// server's workspace/executeCommand contract (DESIGN §3). Edits arrive as workspace/applyEdit
// (an edit that needs confirmation opens the Refactor Preview, one checkbox per hunk), other
// confirmations as window/showMessageRequest (Apply/Reject, shown here as a modal dialog that
// stays until answered) and progress as $/progress. The chat panel (chat.ts) shows each run as it
// happens from `jingu/runEvent`, which the server sends because this client asks for it
// (`experimental.jingu.runEvents`).
import * as vscode from 'vscode';
import {
  DocumentSymbolRequest,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  ShowMessageRequest,
  TransportKind,
} from 'vscode-languageclient/node';
import type { ClientCapabilities, StaticFeature } from 'vscode-languageclient';
import { ChatPanel, ProposalProvider } from './chat';
import { askArgs, confirmIdOf, isCancellation, LspDocumentSymbol, modalConfirmation, rollbackArgs, RunEvent, Snapshot, snapshotFileUri, statusText, symbolAt } from './logic';
import { env, findServer } from './server';
import { RunItem, SnapshotDiffProvider, SnapshotFileProvider, SnapshotsProvider } from './snapshots';

const LANGUAGES = ['rust', 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'java', 'c', 'cpp'];

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem;
let chat: ChatPanel | undefined;

/** Asks the server for `jingu/runEvent` notifications (the chat panel's feed). */
const runEventsFeature: StaticFeature = {
  fillClientCapabilities(caps: ClientCapabilities): void {
    caps.experimental = { ...(caps.experimental as object | undefined), jingu: { runEvents: true } };
  },
  initialize(): void {},
  getState: () => ({ kind: 'static' }),
  clear(): void {},
};
const output = vscode.window.createOutputChannel('Jingu');

/** What the extension exposes to other extensions and to its end-to-end test. */
export interface JinguApi {
  client(): LanguageClient | undefined;
  exec<T>(command: string, arg: object, token?: vscode.CancellationToken): Promise<T>;
}

function requireClient(): LanguageClient {
  if (!client || !client.isRunning()) throw new Error('the jingu language server is not running (see the Jingu output)');
  return client;
}

async function exec<T>(command: string, arg: object, token?: vscode.CancellationToken): Promise<T> {
  return requireClient().sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] }, token) as Promise<T>;
}

function updateStatus(): void {
  const exp = client?.initializeResult?.capabilities.experimental as { jingu?: { provider?: string; identity?: string } } | undefined;
  const provider = vscode.workspace.getConfiguration('jingu').get<string>('provider') || exp?.jingu?.provider;
  status.text = statusText({ provider, identity: exp?.jingu?.identity });
  const version = client?.initializeResult?.serverInfo?.version;
  status.tooltip = client?.isRunning() ? `jingu ${version ?? ''} is running — click for snapshots` : 'jingu is not running';
  status.show();
}

async function startClient(): Promise<void> {
  const bin = findServer();
  if (!bin) {
    const setting = vscode.workspace.getConfiguration('jingu').get<string>('serverPath');
    status.text = '$(warning) Jingu';
    status.show();
    void vscode.window.showErrorMessage(`Jingu: cannot find the jingu binary "${setting}" (set jingu.serverPath).`);
    return;
  }
  const run = { command: bin, args: ['lsp'], transport: TransportKind.stdio, options: { env: env() } };
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
    outputChannel: output,
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*') },
  };
  client = new LanguageClient('jingu', 'Jingu', serverOptions, clientOptions);
  // LSP 3.18's textDocument/inlineCompletion (ghost text) is a proposed feature in
  // vscode-languageclient 9: without this the server's inlineCompletionProvider is ignored.
  client.registerProposedFeatures();
  client.registerFeature(runEventsFeature);
  client.onNotification('jingu/runEvent', (ev: RunEvent) => chat?.onEvent(ev));
  await client.start();
  // A run waits for its confirmation: ask in a modal dialog, which never times out like a toast.
  // Closing it (Escape, Cancel) answers no action, which the server takes as Reject.
  client.onRequest(ShowMessageRequest.type, async (params) => {
    // A run started from the chat panel is answered on its pinned card.
    const fromPanel = chat?.question(confirmIdOf(params));
    if (fromPanel) {
      const apply = await fromPanel;
      const title = apply === true ? 'Apply' : apply === false ? 'Reject' : undefined;
      return params.actions?.find((a) => a.title === title) ?? null;
    }
    const modal = modalConfirmation(params);
    if (!modal) {
      void vscode.window.showInformationMessage(params.message);
      return null;
    }
    const choice = await vscode.window.showWarningMessage(modal.message, { modal: true, detail: modal.detail }, ...modal.buttons);
    return params.actions?.find((a) => a.title === choice) ?? null;
  });
  updateStatus();
}

async function symbolUnderCursor(editor: vscode.TextEditor): Promise<string | undefined> {
  const c = requireClient();
  const symbols = (await c.sendRequest(DocumentSymbolRequest.type, {
    textDocument: { uri: c.code2ProtocolConverter.asUri(editor.document.uri) },
  })) as LspDocumentSymbol[] | null;
  return symbolAt(symbols, editor.selection.active.line);
}

/** The editor a chat instruction is about: the active one, else the last file editor seen. */
let lastFileEditor: vscode.TextEditor | undefined;

function contextEditor(): vscode.TextEditor | undefined {
  const e = vscode.window.activeTextEditor;
  if (e && e.document.uri.scheme === 'file') return e;
  return lastFileEditor && vscode.window.visibleTextEditors.includes(lastFileEditor) ? lastFileEditor : undefined;
}

/** The `jingu.ask` argument for `text` with the editor's selection or symbol under the cursor. */
async function askArgument(text: string, editor: vscode.TextEditor | undefined) {
  const c = requireClient();
  const inWorkspace = editor && editor.document.uri.scheme === 'file';
  return askArgs(text, {
    uri: inWorkspace ? c.code2ProtocolConverter.asUri(editor.document.uri) : undefined,
    selection: inWorkspace ? c.code2ProtocolConverter.asRange(editor.selection) : undefined,
    symbol: inWorkspace && editor.selection.isEmpty ? await symbolUnderCursor(editor) : undefined,
    provider: vscode.workspace.getConfiguration('jingu').get<string>('provider'),
  });
}

/** Keep the chat's context chip on the active editor's selection or symbol (debounced). */
let chipTimer: NodeJS.Timeout | undefined;
function updateChip(): void {
  if (chipTimer) clearTimeout(chipTimer);
  chipTimer = setTimeout(async () => {
    const editor = contextEditor();
    if (!chat) return;
    if (!editor) {
      chat.setContext(undefined, undefined, undefined);
      return;
    }
    let symbol: string | undefined;
    try {
      symbol = client?.isRunning() && editor.selection.isEmpty ? await symbolUnderCursor(editor) : undefined;
    } catch {
      symbol = undefined;
    }
    const rel = vscode.workspace.asRelativePath(editor.document.uri, false);
    const sel = editor.selection;
    chat.setContext(rel, { start: sel.start, end: sel.end }, symbol);
  }, 300);
}

async function ask(instruction?: string): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  const text = instruction ?? (await vscode.window.showInputBox({ title: 'Jingu: Ask', prompt: 'What should Jingu do?', ignoreFocusOut: true }));
  if (!text || !text.trim()) return undefined;
  const arg = await askArgument(text, editor);
  // Cancelling this notification sends $/cancelRequest, which stops the run within one model chunk.
  let result: { run_id: string; edits: { uri: string }[]; summary?: string };
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Jingu: running', cancellable: true },
      (_p, token) => exec<{ run_id: string; edits: { uri: string }[]; summary?: string }>('jingu.ask', arg, token),
    );
  } catch (e) {
    if (!isCancellation(e)) throw e;
    // The user cancelled: that is an outcome, not an error.
    void vscode.window.showInformationMessage('Jingu: run cancelled.');
    return { cancelled: true };
  }
  void vscode.window.showInformationMessage(`Jingu: ${result.summary ?? 'done'} (${result.edits.length} edit${result.edits.length === 1 ? '' : 's'}, run ${result.run_id})`);
  return result;
}

async function rollback(kind: 'edit' | 'run', snapshots: SnapshotsProvider): Promise<unknown> {
  const list = await snapshots.refresh();
  const arg = rollbackArgs(kind, list);
  if (typeof arg === 'string') {
    void vscode.window.showWarningMessage(`Jingu: ${arg}.`);
    return undefined;
  }
  const result = await exec('jingu.rollback', arg);
  await snapshots.refresh();
  void vscode.window.showInformationMessage(`Jingu: rolled back ${'run_id' in arg ? `run ${arg.run_id}` : `snapshot ${arg.snapshot_id}`}.`);
  return result;
}

/** Run a command handler, reporting failures instead of throwing into VS Code. */
function guarded<A extends unknown[]>(f: (...a: A) => Promise<unknown>): (...a: A) => Promise<unknown> {
  return async (...a: A) => {
    try {
      return await f(...a);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      output.appendLine(`error: ${msg}`);
      void vscode.window.showErrorMessage(`Jingu: ${msg}`);
      return undefined;
    }
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<JinguApi> {
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  status.name = 'Jingu';
  status.command = 'jingu.cmd.showSnapshots';
  status.text = '$(hubot) Jingu';
  status.show();

  const snapshots = new SnapshotsProvider(async () => (client?.isRunning() ? exec<Snapshot[]>('jingu.snapshots', {}) : []));
  const proposals = new ProposalProvider();
  const runStatus = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 99);
  runStatus.name = 'Jingu run';
  runStatus.command = 'jingu.cmd.openChat';
  chat = new ChatPanel(context.extensionUri, async (instruction, token) => {
    const arg = await askArgument(instruction, contextEditor());
    try {
      return await exec<{ run_id: string; summary?: string }>('jingu.ask', arg, token);
    } finally {
      void snapshots.refresh();
    }
  }, proposals, (line) => output.appendLine(line));
  const showRunStatus = () => {
    const s = chat?.status();
    if (!s) return;
    runStatus.text = s.text;
    runStatus.tooltip = s.tooltip;
    runStatus.show();
  };
  showRunStatus();
  if (vscode.window.activeTextEditor?.document.uri.scheme === 'file') lastFileEditor = vscode.window.activeTextEditor;
  context.subscriptions.push(
    status,
    output,
    runStatus,
    chat.onDidChange(showRunStatus),
    vscode.window.registerWebviewViewProvider('jingu.chat', chat, { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.registerTextDocumentContentProvider('jingu-proposal', proposals),
    vscode.window.onDidChangeActiveTextEditor((e) => {
      if (e && e.document.uri.scheme === 'file') lastFileEditor = e;
      updateChip();
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor.document.uri.scheme === 'file') lastFileEditor = e.textEditor;
      updateChip();
    }),
    vscode.commands.registerCommand('jingu.cmd.openChat', () => vscode.commands.executeCommand('jingu.chat.focus')),
    vscode.window.registerTreeDataProvider('jingu.snapshots', snapshots),
    vscode.workspace.registerTextDocumentContentProvider('jingu-snapshot', new SnapshotDiffProvider(findServer)),
    vscode.workspace.registerTextDocumentContentProvider('jingu-snapshot-file', new SnapshotFileProvider(exec)),
    vscode.commands.registerCommand('jingu.cmd.ask', guarded(async (instruction?: string) => {
      const r = await ask(typeof instruction === 'string' ? instruction : undefined);
      await snapshots.refresh();
      return r;
    })),
    vscode.commands.registerCommand('jingu.cmd.review', guarded(async () => {
      const uri = vscode.window.activeTextEditor?.document.uri;
      return exec('jingu.review', uri && client ? { uri: client.code2ProtocolConverter.asUri(uri) } : {});
    })),
    vscode.commands.registerCommand('jingu.cmd.rollbackLastEdit', guarded(() => rollback('edit', snapshots))),
    vscode.commands.registerCommand('jingu.cmd.rollbackLastRun', guarded(() => rollback('run', snapshots))),
    vscode.commands.registerCommand('jingu.cmd.showSnapshots', guarded(async () => {
      await vscode.commands.executeCommand('jingu.snapshots.focus');
      return snapshots.refresh();
    })),
    vscode.commands.registerCommand('jingu.cmd.refreshSnapshots', guarded(() => snapshots.refresh())),
    vscode.commands.registerCommand('jingu.cmd.rollbackSnapshot', guarded(async (item?: { snapshot: Snapshot }) => {
      if (!item) return undefined;
      const r = await exec('jingu.rollback', { snapshot_id: item.snapshot.id });
      await snapshots.refresh();
      return r;
    })),
    vscode.commands.registerCommand('jingu.cmd.rollbackRun', guarded(async (item?: RunItem) => {
      if (!item) return undefined;
      const r = await exec('jingu.rollback', { run_id: item.runId });
      await snapshots.refresh();
      void vscode.window.showInformationMessage(`Jingu: rolled back run ${item.runId}.`);
      return r;
    })),
    // A snapshot opens a real diff editor: the file before it ↔ after it (one file; a pick when
    // the snapshot changed several).
    vscode.commands.registerCommand('jingu.cmd.openSnapshotDiff', guarded(async (s: Snapshot) => {
      const path = s.paths.length === 1 ? s.paths[0] : await vscode.window.showQuickPick(s.paths, { title: `Files of snapshot ${s.id}` });
      if (!path) return undefined;
      const before = vscode.Uri.parse(snapshotFileUri(s.id, 'before', path));
      const after = vscode.Uri.parse(snapshotFileUri(s.id, 'after', path));
      return vscode.commands.executeCommand('vscode.diff', before, after, `${path} (snapshot ${s.id}: before ↔ after)`, { preview: true });
    })),
    vscode.commands.registerCommand('jingu.cmd.restartServer', guarded(async () => {
      await client?.stop();
      await startClient();
    })),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('jingu.provider')) updateStatus();
    }),
  );
  try {
    await startClient();
  } catch (e) {
    output.appendLine(`jingu lsp failed to start: ${e instanceof Error ? e.message : String(e)}`);
    status.text = '$(warning) Jingu';
  }
  return { client: () => client, exec };
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
