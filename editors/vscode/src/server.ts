// Locating and configuring the `jingu` binary from the extension's settings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveServer, serverEnv } from './logic';

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The jingu binary from `jingu.serverPath`, or undefined with the reason shown to the user. */
export function findServer(): string | undefined {
  const setting = vscode.workspace.getConfiguration('jingu').get<string>('serverPath', 'jingu');
  return resolveServer(setting, process.env.PATH ?? '', isExecutable, path.delimiter);
}

export function env(): NodeJS.ProcessEnv {
  const c = vscode.workspace.getConfiguration('jingu');
  return serverEnv(process.env, {
    configFile: c.get<string>('configFile'),
    stateDir: c.get<string>('stateDir'),
    logLevel: c.get<string>('logLevel'),
  });
}
