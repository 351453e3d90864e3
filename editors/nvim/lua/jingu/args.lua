-- Pure helpers: command arguments and list items built from LSP data (unit-tested headless).
local M = {}

--- The innermost DocumentSymbol containing (0-based) `line`, as its name path (`detail`).
--- Jingu's documentSymbol puts the full name path (`Parser/parse_expr`) in `detail`.
function M.symbol_at(symbols, line)
  local best
  local function walk(list)
    for _, s in ipairs(list or {}) do
      local r = s.range
      if r and r.start.line <= line and line <= r['end'].line then
        best = s
        walk(s.children)
      end
    end
  end
  walk(symbols)
  if not best then
    return nil
  end
  return (best.detail ~= nil and best.detail ~= '') and best.detail or best.name
end

--- The `jingu.ask` argument (DESIGN §3): `{instruction, uri?, symbol?, range?}`.
--- `range` (an LSP range, already in the negotiated encoding) wins over `symbol`.
function M.ask(instruction, uri, symbol, range)
  local arg = { instruction = instruction }
  if uri then
    arg.uri = uri
  end
  if range then
    arg.range = range
  elseif symbol then
    arg.symbol = symbol
  end
  return arg
end

--- `:JinguRollback [ID | run [RUN_ID]]` → the `jingu.rollback` argument, using the newest
--- snapshot from `snapshots` (newest first) when no id is given. Returns nil and a reason if
--- there is nothing to roll back.
function M.rollback(fargs, snapshots)
  local a, b = fargs[1], fargs[2]
  -- Per-file `baseline` snapshots only anchor history; they are not edits to undo.
  snapshots = vim.tbl_filter(function(s) return s.op ~= 'baseline' end, snapshots or {})
  if a == 'run' then
    if b then
      return { run_id = b }
    end
    for _, s in ipairs(snapshots or {}) do
      if s.run_id and s.run_id ~= vim.NIL then
        return { run_id = s.run_id }
      end
    end
    return nil, 'no edit belongs to a run'
  end
  if a then
    return { snapshot_id = a }
  end
  local newest = snapshots[1]
  if not newest then
    return nil, 'there is no edit to roll back'
  end
  return { snapshot_id = newest.id }
end

--- The first changed line (1-based, in the new text) of each file in a git unified diff.
function M.diff_first_lines(diff)
  local lines, old, cur, at = {}, nil, nil, nil
  for line in ((diff or '') .. '\n'):gmatch('([^\n]*)\n') do
    if line:match('^diff %-%-git ') then
      old, cur, at = nil, nil, nil
    elseif not at and line:match('^%-%-%- ') then
      old = line:sub(5):gsub('^a/', '')
    elseif not at and line:match('^%+%+%+ ') then
      local n = line:sub(5)
      cur = n == '/dev/null' and old or n:gsub('^b/', '')
    elseif line:match('^@@ ') then
      at = tonumber(line:match('^@@ %-%d+,?%d* %+(%d+)'))
    elseif at and cur then
      local c = line:sub(1, 1)
      if (c == '+' or c == '-') and not lines[cur] then
        lines[cur] = math.max(at, 1)
      elseif c == ' ' or c == '+' then
        at = at + 1
      end
    end
  end
  return lines
end

--- Quickfix items for a `jingu.snapshots` result: one per (snapshot, path); `first_lines` maps a
--- snapshot id to `diff_first_lines` of its diff, so an item points at the changed lines.
function M.snapshot_items(snapshots, root, first_lines)
  local items = {}
  for _, s in ipairs(snapshots or {}) do
    local run = (s.run_id and s.run_id ~= vim.NIL) and (' run ' .. s.run_id) or ''
    local text = string.format('%s %s %s %s %s%s', s.id, s.time or '', s.actor or '', s.op or '', s.target or '', run)
    local paths = (s.paths and #s.paths > 0) and s.paths or { '' }
    for _, p in ipairs(paths) do
      table.insert(items, {
        filename = p ~= '' and (root and (root .. '/' .. p) or p) or nil,
        lnum = ((first_lines or {})[s.id] or {})[p] or 1,
        text = text,
        user_data = { snapshot_id = s.id, run_id = s.run_id },
      })
    end
  end
  return items
end

return M
