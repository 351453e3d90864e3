{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "9a9bb5f5ab5b5ac0a574db620f2d339f7d5824b466dc252c36dcf860d921636c",
  "signature": "d2c60b2e3b212eaae54b3854b59241092dd6e14b4dbbad2eb4fa5148dfad2ba7e2373133d966cd750bcff1fb79185a73c061d483c00ce81366713a6dec6f540d",
  "files": {
    "SKILL.md": "8486e89b5c4fad7f1753c04bb5b9f319678b30b9ef25f5ea60ef203c0845e2f9"
  }
}
