def parse(
    data: bytes, keys: tuple[bytes, ...], /
) -> tuple[
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    bytearray,
    tuple[tuple[bytes, bytes], ...],
    int,
]: ...
