{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "c623fa0ea2cce1c0c44466dfef6b97507508516d14a3abe9446f594e086d1ff2",
  "signature": "62a1a80a9d1e5a02fb8c947de9411d922b6ebf7c2f2e1cac2737f21d1f91133159d7a1e96d42aec8c83d1fe631c7f09cb27672a7ad2c937cf8b262d4fc744c0e",
  "files": {
    "SKILL.md": "3cf43cc02408daaabcaf44cab4170afd99a558d2c49a02200d5067e144a5e486"
  }
}
