-- Jingu for Neovim >= 0.11: the `jingu lsp` client (vim.lsp.config/enable) and :Jingu* commands
-- over workspace/executeCommand (DESIGN §3). Edits arrive as workspace/applyEdit and
-- confirmations as window/showMessageRequest, both handled natively by Neovim.
local args = require('jingu.args')
local config = require('jingu.config')

local M = {}

--- JSON-RPC's RequestCancelled: the answer to a request we cancelled is not an error.
local REQUEST_CANCELLED = -32800

--- The running `jingu.ask` ({ client, id, on_done }), for :JinguCancel.
M.running = nil

local function notify(msg, level)
  vim.notify('Jingu: ' .. msg, level or vim.log.levels.INFO)
end

--- The running Jingu client for `bufnr` (or any Jingu client).
function M.client(bufnr)
  local c = vim.lsp.get_clients({ name = 'jingu', bufnr = bufnr })[1]
  return c or vim.lsp.get_clients({ name = 'jingu' })[1]
end

--- Run a Jingu command with its one JSON-object argument; `on_done(err, result)` defaults to
--- notifying the error. Returns false when no Jingu client is running, else true, the client and
--- the request id.
function M.exec(command, arg, bufnr, on_done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify('no jingu language server is running (see :checkhealth jingu)', vim.log.levels.ERROR)
    return false
  end
  local params = { command = command, arguments = { next(arg) == nil and vim.empty_dict() or arg } }
  local _, id = client:request('workspace/executeCommand', params, function(err, result)
    if err and err.code == REQUEST_CANCELLED then
      notify(command .. ' cancelled')
    elseif err then
      notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
    if on_done then
      on_done(err, result)
    end
  end, bufnr)
  return true, client, id
end

--- `:JinguCancel`: `$/cancelRequest` for the running ask. Neovim drops the server's
--- RequestCancelled answer, so the run's callback is called here, with that error.
function M.cancel()
  local run = M.running
  if not run then
    notify('nothing is running', vim.log.levels.WARN)
    return false
  end
  M.running = nil
  run.client:cancel_request(run.id)
  notify('ask cancelled')
  if run.on_done then
    run.on_done({ code = REQUEST_CANCELLED, message = 'cancelled' }, nil)
  end
  return true
end

local function buf_uri(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  return vim.uri_from_bufnr(bufnr)
end

--- The symbol name path under the cursor, from Jingu's documentSymbol.
function M.symbol_under_cursor(bufnr, client)
  local uri = buf_uri(bufnr)
  if not uri then
    return nil
  end
  local resp = client:request_sync('textDocument/documentSymbol', { textDocument = { uri = uri } }, 3000, bufnr)
  if not resp or resp.err or not resp.result then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(0)[1] - 1
  return args.symbol_at(resp.result, line)
end

--- `jingu.ask` on lines line1..line2 (1-based, when `opts.range` > 0) or the symbol under the cursor.
function M.ask(opts, on_done)
  local bufnr = opts.bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify('no jingu language server is running (see :checkhealth jingu)', vim.log.levels.ERROR)
    return false
  end
  local function send(instruction)
    if not instruction or vim.trim(instruction) == '' then
      return
    end
    local range, symbol
    if (opts.range or 0) > 0 then
      local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ''
      range = vim.lsp.util.make_given_range_params(
        { opts.line1, 0 }, { opts.line2, math.max(#last - 1, 0) }, bufnr, client.offset_encoding).range
    else
      symbol = M.symbol_under_cursor(bufnr, client)
    end
    local run = { on_done = on_done }
    local _, c, id = M.exec('jingu.ask', args.ask(instruction, buf_uri(bufnr), symbol, range), bufnr, function(err, result)
      if M.running == run then
        M.running = nil
      end
      if not err and result then
        local n = result.edits and #result.edits or 0
        notify(string.format('%s (run %s, %d edit%s)', result.summary or 'done', result.run_id or '?', n, n == 1 and '' or 's'))
      end
      if on_done then
        on_done(err, result)
      end
    end)
    if id then
      run.client, run.id = c, id
      M.running = run
    end
  end
  if opts.instruction and opts.instruction ~= '' then
    send(opts.instruction)
  else
    vim.ui.input({ prompt = 'Jingu: ' }, send)
  end
  return true
end

function M.review(bufnr, on_done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.exec('jingu.review', { uri = buf_uri(bufnr) }, bufnr, function(err, result)
    if not err then
      notify('review done: see diagnostics (:lua vim.diagnostic.setqflist())')
    end
    if on_done then
      on_done(err, result)
    end
  end)
end

--- Snapshots whose diffs are read to point quickfix entries at the changed lines.
local DIFFED_SNAPSHOTS = 50

--- Diffs of `ids` (one request at a time), then `on_done({ [id] = diff })`.
local function fetch_diffs(bufnr, ids, on_done, acc)
  acc = acc or {}
  local id = table.remove(ids, 1)
  if not id then
    return on_done(acc)
  end
  M.exec('jingu.snapshotDiff', { snapshot_id = id }, bufnr, function(err, result)
    if not err and result then
      acc[id] = result.diff
    end
    fetch_diffs(bufnr, ids, on_done, acc)
  end)
end

--- Snapshots (newest first) into the quickfix list, each entry on the first line its snapshot
--- changed in that file; `on_done(err, snapshots)`.
function M.snapshots(bufnr, on_done, quiet)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  return M.exec('jingu.snapshots', {}, bufnr, function(err, result)
    if err or quiet then
      return on_done and on_done(err, result)
    end
    local ids = {}
    for i, snap in ipairs(result or {}) do
      if i > DIFFED_SNAPSHOTS then
        break
      end
      table.insert(ids, snap.id)
    end
    fetch_diffs(bufnr, ids, function(diffs)
      local first = {}
      for id, diff in pairs(diffs) do
        first[id] = args.diff_first_lines(diff)
      end
      local root = client and client.root_dir or vim.fn.getcwd()
      vim.fn.setqflist({}, 'r', { title = 'Jingu snapshots', items = args.snapshot_items(result, root, first) })
      if #(result or {}) > 0 then
        vim.cmd('botright copen')
      else
        notify('no snapshots yet')
      end
      if on_done then
        on_done(err, result)
      end
    end)
  end)
end

--- `:JinguDiff [ID]`: a snapshot's diff (default: the quickfix entry's or the newest) in a split.
function M.diff(id, bufnr, on_done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local function show(snapshot_id)
    M.exec('jingu.snapshotDiff', { snapshot_id = snapshot_id }, bufnr, function(err, result)
      if not err and result then
        vim.cmd('botright new')
        local b = vim.api.nvim_get_current_buf()
        vim.bo[b].buftype = 'nofile'
        vim.bo[b].bufhidden = 'wipe'
        vim.bo[b].swapfile = false
        vim.api.nvim_buf_set_lines(b, 0, -1, false, vim.split(result.diff, '\n', { trimempty = true }))
        vim.bo[b].modifiable = false
        vim.bo[b].filetype = 'diff'
        pcall(vim.api.nvim_buf_set_name, b, 'jingu://snapshot/' .. snapshot_id .. '.diff')
      end
      if on_done then
        on_done(err, result)
      end
    end)
  end
  if id and id ~= '' then
    return show(id)
  end
  local qf = vim.fn.getqflist({ idx = 0, items = 1 })
  local item = qf.items and qf.items[qf.idx]
  if item and item.user_data and item.user_data.snapshot_id then
    return show(item.user_data.snapshot_id)
  end
  return M.exec('jingu.snapshots', { limit = 1 }, bufnr, function(err, list)
    if err then
      return on_done and on_done(err)
    end
    if not list or not list[1] then
      notify('no snapshots yet', vim.log.levels.WARN)
      return on_done and on_done({ message = 'no snapshots' })
    end
    show(list[1].id)
  end)
end

--- `:JinguRollback [ID | run [RUN_ID]]`.
function M.rollback(fargs, bufnr, on_done)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  return M.snapshots(bufnr, function(err, list)
    if err then
      return on_done and on_done(err)
    end
    local arg, why = args.rollback(fargs, list)
    if not arg then
      notify('nothing to roll back: ' .. why, vim.log.levels.WARN)
      return on_done and on_done({ message = why })
    end
    M.exec('jingu.rollback', arg, bufnr, function(e, result)
      if not e then
        notify('rolled back ' .. (arg.snapshot_id or ('run ' .. arg.run_id)))
      end
      if on_done then
        on_done(e, result)
      end
    end)
  end, true)
end

local progress_group = vim.api.nvim_create_augroup('jingu.progress', { clear = true })

--- One progress message per token, updated in place (Neovim >= 0.12: nvim_echo's progress kind;
--- older versions get one notification when a run begins and one when it ends).
M.progress_ids = {}
local has_progress_echo = vim.fn.has('nvim-0.12') == 1

local function show_progress(token, value)
  local text = value.message or value.title or value.kind
  if value.kind == 'end' then
    text = value.message or 'finished'
  end
  if not has_progress_echo then
    if value.kind ~= 'report' then
      notify(text)
    end
    return
  end
  local key = tostring(token)
  local id = vim.api.nvim_echo({ { text } }, false, {
    id = M.progress_ids[key],
    kind = 'progress',
    title = 'Jingu',
    status = value.kind == 'end' and 'success' or 'running',
    percent = value.percentage,
  })
  M.progress_ids[key] = value.kind ~= 'end' and id or nil
  M.last_progress = { id = id, text = text, kind = value.kind }
end

--- Show Jingu's $/progress (agent runs).
local function watch_progress()
  vim.api.nvim_create_autocmd('LspProgress', {
    group = progress_group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local value = ev.data.params and ev.data.params.value
      if not client or client.name ~= 'jingu' or type(value) ~= 'table' then
        return
      end
      show_progress(ev.data.params.token, value)
    end,
  })
end

--- Ghost text from `textDocument/inlineCompletion` (Neovim >= 0.12). Neovim runs the item's
--- command (`jingu.acceptCompletion`) when it is accepted, so the acceptance is audited.
local function enable_inline_completion()
  if not (vim.lsp.inline_completion and vim.lsp.inline_completion.enable) then
    return
  end
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('jingu.inline_completion', { clear = true }),
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == 'jingu' and vim.g.jingu_inline_completion ~= false then
        vim.lsp.inline_completion.enable(true, { bufnr = ev.buf })
      end
    end,
  })
end

local function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd('JinguAsk', function(o)
    M.ask({ instruction = o.args, range = o.range, line1 = o.line1, line2 = o.line2 })
  end, { nargs = '*', range = true, desc = 'Ask Jingu about the selection or the symbol under the cursor' })
  cmd('JinguReview', function() M.review() end, { desc = 'Review the working-tree changes' })
  cmd('JinguSnapshots', function() M.snapshots() end, { desc = 'List snapshots in the quickfix list' })
  cmd('JinguDiff', function(o) M.diff(o.args) end, { nargs = '?', desc = 'Show a snapshot diff in a split' })
  cmd('JinguCancel', function() M.cancel() end, { desc = 'Cancel the running Jingu ask' })
  cmd('JinguRollback', function(o) M.rollback(o.fargs) end, {
    nargs = '*',
    desc = 'Roll back the last edit, a snapshot ID, the last run (run) or a run (run RUN_ID)',
    complete = function() return { 'run' } end,
  })
end

--- Register and enable the `jingu` LSP config and the :Jingu* commands. `opts` overrides the
--- vim.lsp.config fields (e.g. `cmd = { '/path/to/jingu', 'lsp' }`).
function M.setup(opts)
  vim.lsp.config('jingu', vim.tbl_deep_extend('force', config.defaults(), opts or {}))
  vim.lsp.enable('jingu')
  create_commands()
  watch_progress()
  enable_inline_completion()
end

return M
