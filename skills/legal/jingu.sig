{
  "version": 1,
  "key": "ed25519:c969b85d3f2cd64c02db34a4b9f264eb6ab4d4e35bb9ceef1af32a1466ecbd0e",
  "manifest_sha256": "107b84ef555912828422bf1b639f0d0a4fc2ca7ab5a5382f74d0232a93383461",
  "signature": "093d465edc99f4de834ec8e2750f32d3069dad924308c7f7fc02fdf6f3af32f61d5ef1b053dd8d0e0221cc009708a607f95bcca24a4172ac188faeef223ffb0a",
  "files": {
    "SKILL.md": "4a131c166d2a00f53a6bba49c2535ef1820dd3acaebafe6eb25e5f28a1c340ba",
    "playbook.md": "b4cbf004c785acd583c155c8482eb8bbf54a0e317a9b6ca3d981ef346534bca7"
  }
}
