"""Operations scripts: the compose rehearsal, backup and restore (docs/operations.md)."""
