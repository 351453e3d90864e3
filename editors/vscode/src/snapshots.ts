// The "Snapshots" tree view (a timeline: runs as groups of their snapshots), the read-only
// `jingu-snapshot-file:` documents a snapshot's diff editor compares, and the older
// `jingu-snapshot:` unified-diff documents.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { parseSnapshotFileUri, Snapshot, snapshotIdOfDiffPath, snapshotItem, timeline } from './logic';
import { env } from './server';

export class SnapshotItem extends vscode.TreeItem {
  constructor(public readonly snapshot: Snapshot, now: number) {
    const m = snapshotItem(snapshot, now);
    super(m.label, vscode.TreeItemCollapsibleState.None);
    this.id = snapshot.id;
    this.description = m.description;
    this.tooltip = m.tooltip;
    this.contextValue = 'jinguSnapshot';
    this.iconPath = new vscode.ThemeIcon(snapshot.op === 'baseline' ? 'circle-outline' : 'git-commit');
    this.command = { command: 'jingu.cmd.openSnapshotDiff', title: 'Show snapshot diff', arguments: [snapshot] };
  }
}

/** A run in the timeline: its snapshots as children, and how many files it touched. */
export class RunItem extends vscode.TreeItem {
  constructor(public readonly runId: string, public readonly snapshots: Snapshot[], files: number) {
    super(`Run ${runId}`, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `run:${runId}`;
    const n = snapshots.length;
    this.description = `${n} snapshot${n === 1 ? '' : 's'} · ${files} file${files === 1 ? '' : 's'}`;
    this.tooltip = `run ${runId}\n${this.description}`;
    this.contextValue = 'jinguRun';
    this.iconPath = new vscode.ThemeIcon('history');
  }
}

type Node = RunItem | SnapshotItem;

export class SnapshotsProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  snapshots: Snapshot[] = [];

  constructor(private readonly fetch: () => Promise<Snapshot[]>) {}

  async refresh(): Promise<Snapshot[]> {
    this.snapshots = await this.fetch();
    this.changed.fire();
    return this.snapshots;
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  getChildren(parent?: Node): Node[] {
    const now = Date.now();
    if (parent instanceof RunItem) return parent.snapshots.map((s) => new SnapshotItem(s, now));
    if (parent) return [];
    return timeline(this.snapshots).map((e) =>
      e.kind === 'run' ? new RunItem(e.runId, e.snapshots, e.files) : new SnapshotItem(e.snapshot, now));
  }
}

/** `jingu-snapshot-file:/ID/before|after/PATH` → that side of the file, from `jingu.snapshotFile`. */
export class SnapshotFileProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly exec: <T>(command: string, arg: object) => Promise<T>) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const at = parseSnapshotFileUri(uri.path);
    if (!at) return `cannot show ${uri.toString()}: not a snapshot file URI`;
    const r = await this.exec<{ before: string | null; after: string | null }>('jingu.snapshotFile', { snapshot_id: at.id, path: at.path });
    // A side where the file did not exist shows empty.
    return (at.side === 'before' ? r.before : r.after) ?? '';
  }
}

/** `jingu-snapshot:/ID.diff` → the output of `jingu snapshot diff ID` in the workspace. */
export class SnapshotDiffProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly server: () => string | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const id = snapshotIdOfDiffPath(uri.path);
    const bin = this.server();
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!id || !bin || !cwd) {
      return Promise.resolve(`cannot show ${uri.toString()}: no snapshot id, jingu binary or workspace folder`);
    }
    return new Promise((resolve) => {
      execFile(bin, ['snapshot', 'diff', id], { cwd, env: env(), maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
        resolve(err ? `jingu snapshot diff ${id} failed:\n${stderr || err.message}` : stdout);
      });
    });
  }
}
