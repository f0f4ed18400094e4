def parse(
    data: bytes, keys: tuple[bytes, ...], threads: int = 1, /
) -> tuple[
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    tuple[tuple[bytes, bytes, bytes, int], ...],
    int,
]: ...
def unescape(values: bytes, /) -> list[str]: ...
