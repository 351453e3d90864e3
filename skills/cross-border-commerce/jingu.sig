{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "332ed3a6798c259838799ffe743070a99caebd9ea68767db7b1e47787337788d",
  "signature": "d59f44bfe68f1dbf0e9c28584a3ceb29cf2322b2c62ad9c2759d28e5ee4b04d82c0ca0c69d4ea6989b5bd7c9b06cfb33d029fc54ec1f6dcb3130f641af92d604",
  "files": {
    "SKILL.md": "00584a32ed163a9ca9e74c67c8f0ff725a99f7313332bf7a488aa28acc01f2d2"
  }
}
