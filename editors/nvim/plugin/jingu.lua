-- Loaded automatically from 'runtimepath'; the LSP client starts once setup() (or
-- vim.lsp.enable('jingu')) runs, so users keep control of when Jingu is enabled.
if vim.g.loaded_jingu then
  return
end
vim.g.loaded_jingu = true
if vim.fn.has('nvim-0.11') == 0 then
  vim.notify('jingu.nvim needs Neovim >= 0.11', vim.log.levels.WARN)
  return
end
