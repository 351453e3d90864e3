{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "a1f355439fb4d4d0bf64435fb5a04341ca7e4f95a2ebe4b8d2a82050d4902f51",
  "signature": "e49e6792ec2ac9a19f9022dc2e1c4e23801b94bc0af3aff0fbc8d24962e15cb32bc3711da12c08f830f604de9a5e6c7e468cad1c3c897295fe28617e8b6edd0a",
  "files": {
    "SKILL.md": "f144a0a71277c96b1ede97fe8899ffb717ac713a85b7fc76be311ac63966a7a8"
  }
}
