{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "9ed4259aa1ac6eb7fb6eb3cd319c66e59894cb29a1a43586b08d3140f5f65cb1",
  "signature": "ff04de7dd0bfb93390818e4f4b94489896cf1e372a24305dd481dc4398da0b457f1e763b5dd116865d8e6ff063d4aa92ef8bd7b1b266f08c45b854207ced790a",
  "files": {
    "SKILL.md": "228de38f19c2d12db52084b9364caf60b10fb221889da89da231ac062062d215",
    "reconciliation-report-template.md": "9e344e565a4f5907dbcc2c0ea9aed2c09f873600f19ce489f091910c28cdbad4"
  }
}
