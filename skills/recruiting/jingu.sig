{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "048936ea24907e33b42c7bed13ebae4b0086c4e25ba8481437498c3af732c299",
  "signature": "f93d7899d0ed5e28407cd6c54e1da6e5584398feae534d6318cf2c7ea329c038d4898d5f943793ddf039a1ee090d159e4feef0231355afc3ad1997dbe5f5ee0c",
  "files": {
    "SKILL.md": "07eb4a38060b9d521f1a811bd9f4fe3f6575535d4b04459b4b63a8cacae1229a",
    "scorecard-template.md": "d25a090d6470526bead58961d6d8bbde2b6fa8b42a68267e7ad6fb1846ec3843"
  }
}
