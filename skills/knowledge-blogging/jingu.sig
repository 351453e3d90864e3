{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "fa8e8e3deafbeaec8c9c1caf756949c703e599b859cd6d06c0c5c3f82900edb6",
  "signature": "0e075c54d2ddfaab92e0e5b6a94519e06cb29f26f0aef95a52ed3c605b76d9e38076e981bdc0371a6925483ea9def5bde628bbbd6f5c1b695c1e933b92680706",
  "files": {
    "SKILL.md": "7a86940146ba661fb0281bcb4dee2fe432a798ad1aae78378e26fe9b9e572633"
  }
}
