// The "Snapshots" tree view and the read-only `jingu-snapshot:` diff documents.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { Snapshot, snapshotIdOfDiffPath, snapshotItem } from './logic';
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

export class SnapshotsProvider implements vscode.TreeDataProvider<SnapshotItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  snapshots: Snapshot[] = [];

  constructor(private readonly fetch: () => Promise<Snapshot[]>) {}

  async refresh(): Promise<Snapshot[]> {
    this.snapshots = await this.fetch();
    this.changed.fire();
    return this.snapshots;
  }

  getTreeItem(item: SnapshotItem): vscode.TreeItem {
    return item;
  }

  getChildren(): SnapshotItem[] {
    const now = Date.now();
    return this.snapshots.map((s) => new SnapshotItem(s, now));
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
