"""Name masking for lists (SPEC §2): 謝O威, 王O, Ｏ for the middle of longer names."""


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}O"
    return f"{name[0]}{'O' * (len(name) - 2)}{name[-1]}"
