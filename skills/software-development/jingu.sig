{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "3293b49c252b0eeb29e85a1f6dc5cefe685aa13f7e2e0e28b20a36aebb6ebe7b",
  "signature": "2c832ee2e149db75d85bf6fced0d3157bebb2927ce980a95e4af1a7bec6ddd851b88afc94a322ce6ec45c3032adfef542ccaaadbdbf0d71e7af5a8561dee7406",
  "files": {
    "SKILL.md": "c434f9d92c1d03a6982ec9d8bb598f1b59e07ae3b96036dbbe52226530931b4c"
  }
}
