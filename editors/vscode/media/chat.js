// The chat panel's page script (loaded by nonce under a strict CSP). It renders the view model the
// extension posts and sends back what the user does; every text goes in with textContent, never
// as HTML, since model and file text are untrusted.
(function () {
  const vscode = acquireVsCodeApi();
  const log = document.getElementById('log');
  const pinned = document.getElementById('pinned');
  const chip = document.getElementById('chip');
  const form = document.getElementById('ask');
  const input = document.getElementById('instruction');
  const send = document.getElementById('send');
  const cancel = document.getElementById('cancel');

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(label, cls, onClick) {
    const b = el('button', cls, label);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function diff(lines) {
    const pre = el('pre', 'diff');
    for (const l of lines || []) pre.appendChild(el('div', `line ${l.cls}`, l.text || ' '));
    return pre;
  }

  function toolCard(item, runIndex, itemIndex) {
    const card = el('div', `card tool tool-${item.tool} ${item.status}`);
    card.dataset.tool = item.tool;
    card.dataset.status = item.status;
    const head = el('div', 'head');
    head.appendChild(el('span', 'badge', item.status === 'running' ? 'running' : item.status === 'ok' ? 'done' : 'refused'));
    head.appendChild(el('span', 'title', item.title || item.tool));
    card.appendChild(head);
    if (item.args) card.appendChild(el('div', 'args', item.args));
    if (item.status === 'failed') {
      card.appendChild(el('div', 'reason', item.reason || 'failed'));
    } else if (item.edit) {
      card.classList.add('edit');
      card.appendChild(el('div', 'summary', `${item.edit.summary || 'edited'} · snapshot ${item.edit.snapshot_id}`));
      card.appendChild(diff(item.lines));
      card.appendChild(button('Open diff', 'link open-diff', () => vscode.postMessage({ type: 'openDiff', run: runIndex, item: itemIndex })));
    } else if (item.output && item.status === 'ok') {
      const out = el('details', 'output');
      out.appendChild(el('summary', '', item.tool === 'run_command' ? 'output' : 'result'));
      out.appendChild(el('pre', '', item.output));
      card.appendChild(out);
    }
    return card;
  }

  function confirmCard(item, run, runIndex, itemIndex) {
    const card = el('div', `card confirm ${item.answer ? 'answered' : 'pending'}`);
    card.dataset.confirm = item.id;
    card.appendChild(el('div', 'head', item.answer ? `${item.answer}${item.note ? ` (${item.note})` : ''}` : 'Jingu is waiting for you'));
    card.appendChild(el('div', 'title', `${item.tool}: ${item.summary}`));
    // Once answered, the card is a one-line record (an applied edit's card has the diff).
    if (item.answer) return card;
    if (item.lines && item.lines.length) card.appendChild(diff(item.lines));
    else if (item.detail) card.appendChild(el('pre', 'detail', item.detail));
    const row = el('div', 'row');
    if (item.tool === 'edit' && item.path && !item.review) {
      row.appendChild(button('Open diff', 'link open-diff', () => vscode.postMessage({ type: 'openDiff', run: runIndex, item: itemIndex })));
    }
    if (!item.answer) {
      if (item.review) {
        row.appendChild(el('span', 'hint', 'Review the changes in the Refactor Preview.'));
      } else if (run.fromPanel) {
        row.appendChild(button('Apply', 'apply', () => vscode.postMessage({ type: 'confirm', id: item.id, apply: true })));
        row.appendChild(button('Reject', 'secondary reject', () => vscode.postMessage({ type: 'confirm', id: item.id, apply: false })));
      } else {
        row.appendChild(el('span', 'hint', 'Answer in the dialog.'));
      }
    }
    card.appendChild(row);
    return card;
  }

  function render(view) {
    log.textContent = '';
    pinned.textContent = '';
    view.runs.forEach((run, runIndex) => {
      const box = el('section', `run ${run.state}`);
      box.dataset.state = run.state;
      if (run.runId) box.dataset.runId = run.runId;
      run.items.forEach((item, itemIndex) => {
        switch (item.type) {
          case 'user': {
            const u = el('div', 'user');
            u.appendChild(el('div', 'text', item.text));
            if (item.context) u.appendChild(el('span', 'chip', item.context));
            box.appendChild(u);
            break;
          }
          case 'text':
            box.appendChild(el('div', 'model', item.text));
            break;
          case 'tool':
            box.appendChild(toolCard(item, runIndex, itemIndex));
            break;
          case 'confirm': {
            const card = confirmCard(item, run, runIndex, itemIndex);
            // An open question is pinned above the log, where it cannot scroll away.
            if (!item.answer) pinned.appendChild(card);
            else box.appendChild(card);
            break;
          }
          case 'end': {
            const end = el('div', `end ${item.outcome}`);
            end.appendChild(el('span', 'outcome', item.outcome === 'cancelled' ? 'cancelled' : item.outcome === 'failed' ? `failed: ${item.text}` : item.text || 'done'));
            box.appendChild(end);
            break;
          }
        }
      });
      if (run.runId) {
        const links = el('div', 'links');
        links.appendChild(button(`Snapshots of run ${run.runId}`, 'link snapshots', () => vscode.postMessage({ type: 'snapshots' })));
        box.appendChild(links);
      }
      log.appendChild(box);
    });
    chip.textContent = view.context || '';
    chip.classList.toggle('hidden', !view.context);
    send.disabled = view.busy;
    cancel.disabled = !view.busy;
    document.body.dataset.busy = String(view.busy);
    log.scrollTop = log.scrollHeight;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    vscode.postMessage({ type: 'ask', instruction: text });
    input.value = '';
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'view') render(e.data.view);
  });
  vscode.postMessage({ type: 'ready' });
})();
