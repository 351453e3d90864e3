-- Default `vim.lsp.config` for Jingu (Neovim >= 0.11 reads lsp/<name>.lua from 'runtimepath').
-- Override any field with vim.lsp.config('jingu', {...}) or require('jingu').setup({...}).
return require('jingu.config').defaults()
