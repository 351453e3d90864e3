-- The LSP client configuration for `jingu lsp`.
local M = {}

M.filetypes = {
  'rust', 'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact',
  'go', 'java', 'c', 'cpp',
}

M.root_markers = { '.jingu', '.git', 'Cargo.toml', 'package.json', 'pyproject.toml', 'go.mod' }

--- The command that starts the server: `vim.g.jingu_server_path` or `jingu` on PATH.
function M.cmd()
  return { vim.g.jingu_server_path or 'jingu', 'lsp' }
end

function M.defaults()
  return {
    cmd = M.cmd(),
    filetypes = M.filetypes,
    root_markers = M.root_markers,
    -- Jingu answers in utf-8 when offered (fewer conversions); Neovim speaks all three.
    capabilities = { general = { positionEncodings = { 'utf-8', 'utf-16', 'utf-32' } } },
  }
end

return M
