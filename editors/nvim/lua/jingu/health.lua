-- :checkhealth jingu
local M = {}

function M.check()
  local h = vim.health
  h.start('jingu')
  if vim.fn.has('nvim-0.11') == 1 then
    h.ok('Neovim ' .. tostring(vim.version()) .. ' has vim.lsp.config')
  else
    h.error('Neovim >= 0.11 is required (vim.lsp.config / vim.lsp.enable)')
    return
  end

  local cfg = vim.lsp.config.jingu
  local cmd = cfg and cfg.cmd or require('jingu.config').cmd()
  local exe = type(cmd) == 'table' and cmd[1] or nil
  if not exe or vim.fn.executable(exe) == 0 then
    h.error(('server binary %s is not executable'):format(vim.inspect(exe)),
      { 'install jingu (scripts/setup.sh) or set vim.g.jingu_server_path / setup({ cmd = { PATH, "lsp" } })' })
    return
  end
  local version = vim.system({ exe, '--version' }, { text = true }):wait(5000)
  if version.code ~= 0 then
    h.error(('%s --version failed: %s'):format(exe, vim.trim(version.stderr or '')))
    return
  end
  h.ok(('server: %s (%s)'):format(vim.trim(version.stdout), vim.fn.exepath(exe)))

  -- The binary must find its tree-sitter queries, or every symbol request comes back empty.
  local probe = vim.fn.tempname() .. '.rs'
  vim.fn.writefile({ 'fn health_probe() {}' }, probe)
  local sym = vim.system({ exe, 'symbols', probe, '--json' }, { text = true }):wait(5000)
  vim.fn.delete(probe)
  if sym.code == 0 and (sym.stdout or ''):find('health_probe', 1, true) then
    h.ok('symbol extraction works')
  else
    h.error('`jingu symbols` failed: ' .. vim.trim((sym.stderr or '') .. (sym.stdout or '')),
      { 'set JINGU_QUERIES to the installed queries/ directory' })
  end

  if cfg then
    h.ok('vim.lsp.config("jingu") is registered for: ' .. table.concat(cfg.filetypes or {}, ', '))
  else
    h.warn('vim.lsp.config("jingu") is not registered', { 'call require("jingu").setup()' })
  end

  local clients = vim.lsp.get_clients({ name = 'jingu' })
  if #clients == 0 then
    h.info('no jingu client is running yet (open a supported file)')
  end
  for _, c in ipairs(clients) do
    local cmds = (c.server_capabilities.executeCommandProvider or {}).commands or {}
    local missing = {}
    for _, want in ipairs({ 'jingu.ask', 'jingu.snapshots', 'jingu.rollback' }) do
      if not vim.tbl_contains(cmds, want) then
        table.insert(missing, want)
      end
    end
    if #missing == 0 then
      h.ok(('client %d: root %s, position encoding %s, commands %s'):format(
        c.id, c.root_dir or '?', c.offset_encoding, table.concat(cmds, ' ')))
    else
      h.error(('client %d does not advertise %s'):format(c.id, table.concat(missing, ', ')))
    end
  end
end

return M
