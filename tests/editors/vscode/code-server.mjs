// End-to-end test of editors/vscode in a real code-server (VS Code 1.100.3), driven headless by
// playwright-core with Debian's chromium, against the real `jingu lsp` and the scripted model.
// Env: CS_URL (code-server base URL), FX_WS, FX_LOG, CHROMIUM, JINGU_VSCODE_DIR (for node_modules).
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';

const require = createRequire(`${process.env.JINGU_VSCODE_DIR}/package.json`);
const { chromium } = require('playwright-core');

const ws = process.env.FX_WS;
/** Where screenshots go: the editor tests' log dir, which outlives the fixture. */
const logDir = process.env.JINGU_EDITORS_LOGDIR || process.env.FX;
const original = readFileSync(`${ws}/src/lib.rs`, 'utf8');
let passed = 0;
let failed = 0;
let stop = false;
/** Which of the ask's two hunks the Refactor Preview kept: 'doc' (the doc comment) or 'body'. */
let kept = '';
function expectedAfterAsk() {
  const doc = kept === 'doc' ? '/// Greets informally: « salut ».' : '/// Greets in French: « bonjour ».';
  const body = kept === 'body' ? '    format!("salut {name} 👋")' : '    format!("bonjour {name}")';
  return original.replace(
    '/// Greets in French: « bonjour ».\npub fn greet(name: &str) -> String {\n    format!("bonjour {name}")\n}\n',
    `${doc}\npub fn greet(name: &str) -> String {\n${body}\n}\n`);
}

/** Steps depend on each other (one editor session): after a failure the rest are reported failed. */
async function step(name, fn) {
  if (stop) {
    failed++;
    console.log(`not ok - vscode: ${name}\n  skipped after an earlier failure`);
    return;
  }
  try {
    await fn();
    passed++;
    console.log(`ok - vscode: ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - vscode: ${name}\n  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
    if (!fn.soft) stop = true;
  }
}
/** A step whose failure does not invalidate the session (an assertion on content, not state). */
const soft = (fn) => Object.assign(fn, { soft: true });

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.setDefaultTimeout(30_000);

/** Run a command from the command palette by its title. */
async function palette(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** The text of the active editor, from its rendered lines (the fixture fits on one screen). */
async function editorText() {
  const lines = await page.locator('.editor-group-container.active .monaco-editor .view-lines .view-line').evaluateAll((els) =>
    els.map((e) => ({ top: parseFloat(e.style.top || '0'), text: e.textContent || '' })).sort((a, b) => a.top - b.top).map((l) => l.text));
  // The last rendered line is empty when the text ends with a newline.
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

async function waitForEditorText(pred, what, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let last = '';
  while (Date.now() < deadline) {
    last = await editorText();
    if (pred(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`editor never showed ${what}; last text:\n${last}`);
}

async function waitFor(pred, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(100);
  }
}

/** The chat panel's page: the webview's outer iframe, then its content frame. */
function chatView() {
  return page.locator('iframe.webview.ready').first().contentFrame().locator('iframe#active-frame').contentFrame();
}

async function openFile(rel) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(rel);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: rel.split('/').pop() }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: rel.split('/').pop() }).waitFor();
}

try {
  await step('code-server loads the workspace and the extension activates', async () => {
    await page.goto(`${process.env.CS_URL}/?folder=${encodeURIComponent(ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
    // The status bar item exists only once activate() ran (onStartupFinished).
    await page.locator('.statusbar-item', { hasText: 'Jingu' }).first().waitFor({ timeout: 90_000 });
  });

  await step('opening a Rust file shows it in the editor', async () => {
    await openFile('src/lib.rs');
    await waitForEditorText((t) => t.includes('pub fn greet'), 'greet');
  });

  await step('Go to Symbol in Editor lists the symbols from jingu lsp', async () => {
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+Shift+O');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    for (const name of ['greet', 'Counter', 'bump', 'tail']) {
      await rows.filter({ hasText: name }).first().waitFor({ timeout: 60_000 });
    }
    await page.keyboard.press('Escape');
  });

  await step('Jingu: Show snapshots opens the Snapshots view', async () => {
    await palette('Jingu: Show snapshots');
    await page.locator('.part.sidebar .pane-header', { hasText: /snapshots/i }).first().waitFor();
    await page.locator('.part.sidebar', { hasText: 'No snapshots yet' }).first().waitFor();
  });

  await step('Jingu: Ask opens the Refactor Preview with one checkbox per hunk; applying one of two edits the buffer', async () => {
    await askThroughScriptedModel();
  });

  await step('the buffer holds exactly the accepted hunk, not the rejected one', soft(async () => {
    const expected = expectedAfterAsk();
    const text = await editorText();
    check(text === expected, `editor text:\n${text}\nexpected:\n${expected}`);
    check(readFileSync(`${ws}/src/lib.rs`, 'utf8') === original, 'disk untouched: the open buffer was edited');
  }));

  await step('the Snapshots view groups the edit under its run and a click opens a before ↔ after diff editor', async () => {
    await palette('Jingu: Show snapshots');
    await page.locator('.part.sidebar .monaco-list-row', { hasText: /Run .*1 snapshot · 1 file/ }).first().waitFor();
    const row = page.locator('.part.sidebar .monaco-list-row', { hasText: 'replace symbol' }).first();
    const tab = page.locator('.tab.active', { hasText: 'before ↔ after' });
    // The view re-renders when its refresh lands: click again if the first click hit a stale row.
    for (let i = 0; i < 5 && !(await tab.isVisible()); i++) {
      await row.click();
      await tab.waitFor({ timeout: 5_000 }).catch(() => {});
    }
    await tab.waitFor();
    const side = (which) => page.locator(`.editor-group-container.active .monaco-diff-editor .editor.${which} .view-lines .view-line`)
      .evaluateAll((els) => els.map((e) => ({ top: parseFloat(e.style.top || '0'), text: e.textContent || '' }))
        .sort((a, b) => a.top - b.top).map((l) => l.text).join('\n').replace(/\u00a0/g, ' '));
    const [keptLine, droppedLine] = kept === 'doc'
      ? ['/// Greets informally: « salut ».', 'salut {name}']
      : ['format!("salut {name} 👋")', 'Greets informally'];
    const deadline = Date.now() + 30_000;
    let after = '';
    while (!(after = await side('modified')).includes(keptLine) && Date.now() < deadline) await page.waitForTimeout(200);
    check(after.includes(keptLine), `the after side holds the kept hunk:\n${after}`);
    check(!after.includes(droppedLine), `the after side lacks the rejected hunk:\n${after}`);
    const before = await side('original');
    check(before.includes('/// Greets in French: « bonjour ».') && before.includes('format!("bonjour {name}")'), `the before side is the original:\n${before}`);
  });

  await step("saving, then the run's Roll back this run (context menu) restores the buffer and the file", async () => {
    await page.locator('.tab', { hasText: 'lib.rs' }).first().click();
    await page.keyboard.press('Control+S');
    await waitFor(() => readFileSync(`${ws}/src/lib.rs`, 'utf8') === expectedAfterAsk(), 'the save');
    // Roll the run back from its context menu in the Snapshots view.
    await palette('Jingu: Show snapshots');
    await page.locator('.part.sidebar .monaco-list-row', { hasText: /^Run / }).first().click({ button: 'right' });
    const item = page.getByRole('menuitem', { name: 'Roll back this run' }).first();
    await item.waitFor();
    await item.hover();
    await page.keyboard.press('Enter');
    await page.locator('.context-view .monaco-menu').waitFor({ state: 'hidden' });
    await page.locator('.tab', { hasText: 'lib.rs' }).first().click();
    await waitForEditorText((t) => t === original, 'the original text');
    await waitFor(() => readFileSync(`${ws}/src/lib.rs`, 'utf8') === original, 'the original file on disk');
  });

  await step('a confirmation is a modal dialog, still shown after 60 s; Apply goes ahead', async () => {
    // fixtures/vscode.json's third turn creates src/extra.rs: not an open buffer, so the server
    // asks with window/showMessageRequest, which the extension shows as a modal dialog.
    await palette('Jingu: Ask');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('add an extra module');
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box', { hasText: 'Jingu wants to' });
    await dialog.waitFor({ timeout: 60_000 });
    check((await dialog.textContent()).includes('src/extra.rs'), 'the dialog names the file');
    await page.waitForTimeout(61_000);
    check(await dialog.isVisible(), 'the confirmation is still shown after 61 s');
    check(!existsSync(`${ws}/src/extra.rs`), 'nothing is written before the answer');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await waitFor(() => existsSync(`${ws}/src/extra.rs`), 'the created file');
    await page.locator('.notification-toast', { hasText: 'Added the extra module' }).waitFor({ timeout: 30_000 });
    await page.locator('.tab', { hasText: 'lib.rs' }).first().click();
  });

  await step('cancelling a running ask from its progress notification says cancelled, not an error', async () => {
    // fixtures/vscode.json's fifth turn stalls (headers, then silence): the run waits on the model.
    await palette('Jingu: Ask');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('take your time');
    await page.keyboard.press('Enter');
    const progress = page.locator('.notification-toast', { hasText: 'Jingu: running' });
    await progress.waitFor({ timeout: 30_000 });
    await waitFor(() => readFileSync(process.env.FX_LOG, 'utf8').includes('take your time'), 'the stalled model request');
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.notification-toast', { hasText: 'Jingu: run cancelled.' }).waitFor({ timeout: 20_000 });
    const errors = await page.locator('.notification-toast .codicon-error').count();
    check(errors === 0, `no error toast after the cancel (${errors})`);
    await page.locator('.tab', { hasText: 'lib.rs' }).first().click();
  });

  await step('the chat panel: an instruction with the context chip, a pinned diff card, Open diff shows the proposal, Apply from the card writes the file', async () => {
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').fill(':5');
    await page.keyboard.press('Enter');
    await palette('Jingu: Open chat');
    const view = chatView();
    const input = view.locator('#instruction');
    await input.waitFor({ timeout: 30_000 });
    // The chip names the editor's context: the file, and the symbol under the cursor.
    const chip = view.locator('#chip:not(.hidden)');
    await chip.waitFor({ timeout: 10_000 });
    check((await chip.textContent()).includes('lib.rs'), `the chip names the file: ${await chip.textContent()}`);
    await input.fill('bump extra to 2');
    await view.locator('#send').click();
    // fixtures/vscode.json: the model edits src/extra.rs (not open: a whole-edit confirmation),
    // asked on the panel's pinned card since the run started there.
    const card = view.locator('#pinned .card.confirm.pending');
    await card.waitFor({ timeout: 60_000 });
    const cardText = await card.textContent();
    check(cardText.includes('src/extra.rs'), `the card names the file: ${cardText}`);
    const added = await card.locator('.diff .line.add').allTextContents();
    const removed = await card.locator('.diff .line.del').allTextContents();
    check(added.some((l) => l.includes('    2')) && removed.some((l) => l.includes('    1')), `the card shows the diff: +${JSON.stringify(added)} -${JSON.stringify(removed)}`);
    check(await card.locator('button.apply').isVisible() && await card.locator('button.reject').isVisible(), 'Apply and Reject on the card');
    check((await page.locator('.monaco-dialog-box').count()) === 0, 'no modal for a run started in the panel');
    await page.locator('.statusbar-item', { hasText: 'waiting for you' }).first().waitFor({ timeout: 10_000 });
    const png = `${logDir}/vscode-chat-diff-card.png`;
    await page.screenshot({ path: png });
    check(statSync(png).size > 10_000, `screenshot saved (${png})`);
    console.log(`# screenshot of the diff card: ${png}`);
    // The proposal in a diff editor: current text ↔ proposed text.
    await card.locator('button.open-diff').click();
    await page.locator('.tab.active', { hasText: 'Jingu proposal' }).waitFor({ timeout: 20_000 });
    const side = (which) => page.locator(`.editor-group-container.active .monaco-diff-editor .editor.${which} .view-lines .view-line`)
      .evaluateAll((els) => els.map((e) => e.textContent || '').join('\n').replace(/\u00a0/g, ' '));
    const deadline = Date.now() + 20_000;
    while (!(await side('modified')).includes('    2') && Date.now() < deadline) await page.waitForTimeout(200);
    check((await side('modified')).includes('    2'), `the proposed side has the edit:\n${await side('modified')}`);
    check((await side('original')).includes('    1'), `the current side is the file:\n${await side('original')}`);
    check(readFileSync(`${ws}/src/extra.rs`, 'utf8').includes('    1\n'), 'nothing written before the answer');
    await card.locator('button.apply').click();
    await waitFor(() => readFileSync(`${ws}/src/extra.rs`, 'utf8').includes('    2\n'), 'the approved edit on disk');
    // The run goes on: the applied edit's card with its diff, the model's last words, the end.
    // (The panel also lists the earlier runs started with Jingu: Ask: this one is the last.)
    const run = view.locator('section.run').last();
    const edit = run.locator('.card.tool.edit');
    await edit.waitFor({ timeout: 30_000 });
    check((await edit.locator('.diff .line.add').allTextContents()).some((l) => l.includes('    2')), 'the edit card shows its diff');
    await run.locator('.model', { hasText: 'extra now returns 2.' }).waitFor({ timeout: 30_000 });
    await view.locator('section.run.finished').last().locator('.end').waitFor({ timeout: 30_000 });
    check((await run.locator('.card.confirm.answered', { hasText: 'applied' }).count()) === 1, 'the card shows the answer');
    check((await run.locator('button.snapshots').count()) === 1, 'a link to the run\'s snapshots');
    await page.locator('.statusbar-item', { hasText: 'Jingu: idle' }).first().waitFor({ timeout: 10_000 });
  });

  await step('cancelling from the chat panel shows the run as cancelled, not as an error', async () => {
    const view = chatView();
    await view.locator('#instruction').fill('take a while');
    await view.locator('#send').click();
    await waitFor(() => readFileSync(process.env.FX_LOG, 'utf8').includes('take a while'), 'the stalled model request');
    await page.locator('.statusbar-item', { hasText: 'running step' }).first().waitFor({ timeout: 10_000 });
    await view.locator('#cancel:not([disabled])').click();
    const end = view.locator('section.run').last().locator('.end.cancelled');
    await end.waitFor({ timeout: 20_000 });
    check((await end.textContent()).trim() === 'cancelled', `the run says cancelled: ${await end.textContent()}`);
    // The server's own end of the run (done: cancelled) does not turn it into a failure.
    await page.waitForTimeout(1_000);
    check((await view.locator('.run.failed').count()) === 0, 'no failed run');
    const errors = await page.locator('.notification-toast .codicon-error').count();
    check(errors === 0, `no error toast after the cancel (${errors})`);
    await page.locator('.tab', { hasText: 'lib.rs' }).first().click();
  });

  await step('inline completion: ghost text from the model appears and Tab accepts it', async () => {
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').fill(':14');
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter'); // a new line in bump's body, indented by the editor
    await page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text').first()
      .waitFor({ timeout: 60_000 });
    await page.keyboard.press('Tab');
    await waitForEditorText((t) => t.includes('        self.count += 1;\n        self.count += 1;'),
      'the accepted completion');
    const log = readFileSync(process.env.FX_LOG, 'utf8');
    check(log.includes('/v1/completions'), 'the model was asked for a fill-in-the-middle completion');
  });
} finally {
  if (failed) await page.screenshot({ path: `${logDir}/vscode-failure.png` }).catch(() => {});
  await browser.close();
}

/**
 * "Jingu: Ask" through the scripted model server (fixtures/vscode.json): the cursor sits in
 * greet, the model replaces greet (its doc comment and its body: two hunks), and the server sends
 * the edit as workspace/applyEdit with one annotated change per hunk needing confirmation, so VS
 * Code shows its Refactor Preview. The user unticks the body's change and applies the rest.
 */
async function askThroughScriptedModel() {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').fill(':5');
  await page.keyboard.press('Enter');
  await palette('Jingu: Ask');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('make greet informal');
  await page.keyboard.press('Enter');
  const panel = page.locator('.bulk-edit-panel');
  await panel.waitFor({ timeout: 60_000 });
  const changes = panel.locator('.textedit');
  const deadline = Date.now() + 30_000;
  while ((await changes.count()) < 2 && Date.now() < deadline) await page.waitForTimeout(100);
  check((await changes.count()) === 2, `two changes in the preview, got ${await changes.count()}`);
  // Untick one of the two changes by the DOM (the tree may re-lay out its rows between a
  // locator's lookup and a pointer click), then read back which one the preview shows kept.
  const states = () => changes.evaluateAll((els) => els.map((e) => ({
    checked: e.querySelector('input.edit-checkbox')?.checked, text: e.textContent || '' })));
  await changes.evaluateAll((els) => {
    const row = els.find((e) => (e.textContent || '').includes('format!'));
    row?.querySelector('input.edit-checkbox')?.click();
  });
  let now = await states();
  for (let i = 0; i < 30 && now.filter((r) => r.checked).length !== 1; i++) {
    await page.waitForTimeout(100);
    now = await states();
  }
  check(now.filter((r) => r.checked).length === 1, `one of the two changes unticked: ${JSON.stringify(now)}`);
  kept = now.find((r) => r.checked).text.includes('format!') ? 'body' : 'doc';
  console.log(`# Refactor Preview: kept the ${kept} change of two`);
  await panel.getByRole('button', { name: 'Apply' }).click();
  await waitForEditorText((t) => t === expectedAfterAsk(), `the buffer with the ${kept} change only`);
  const log = readFileSync(process.env.FX_LOG, 'utf8');
  check(log.includes('greet'), 'the model was told about greet');
  await page.locator('.notification-toast', { hasText: 'greet now says salut' }).waitFor({ timeout: 30_000 });
}

console.log(`vscode: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
